"""One file's own time evidence: the wall clock it carries, the UTC offset it proves, and how sure.

:func:`file_evidence` reads a single file (headers only) and returns :class:`Evidence`: the naive
wall clock and where it came from (:class:`TimeSource`), the offset in seconds east of UTC and
where it came from (:class:`OffsetSource`), and a :class:`TimeStatus` with a short reason. It never
guesses: a file without offset evidence is ``ASSUMED`` (the index then tries neighbours and the
collection's zone), and evidence that contradicts itself is ``CONFLICT``, never taken silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from pylapse import exif

__all__ = ["Evidence", "OffsetSource", "TimeSource", "TimeStatus", "file_evidence"]


class TimeSource(StrEnum):
    """Where a frame's wall clock came from."""

    NAME = "name"
    FOLDER = "folder+name"
    EXIF = "exif"
    XMP = "xmp"
    MAKERNOTE = "makernote"
    MTIME = "mtime"
    CAPTURE = "capture"


class OffsetSource(StrEnum):
    """Where a frame's UTC offset came from (``NEIGHBOURS`` and ``ZONE`` are the index's)."""

    NAME = "name"
    EXIF = "exif-offset"  # OffsetTimeOriginal / OffsetTime
    TIFFEP = "tiffep"  # TIFF/EP TimeZoneOffset (first value)
    MAKERNOTE = "makernote"
    XMP = "xmp"
    GPS = "gps"
    NEIGHBOURS = "neighbours"
    ZONE = "zone"


class TimeStatus(StrEnum):
    """How far a frame's time can be trusted."""

    CERTAIN = "certain"  # offset proven by the file, and consistent with the rest of it
    INFERRED = "inferred"  # offset taken from neighbouring frames (decided by the index)
    ASSUMED = "assumed"  # no offset evidence: the collection's zone is used
    CONFLICT = "conflict"  # the file's evidence contradicts itself (see reason)
    IMPLAUSIBLE = "implausible"  # the clock cannot be right (factory default, future, ...)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one file says about its own time (see :func:`file_evidence`)."""

    local: datetime | None  # naive wall clock from the file itself (None: none usable)
    time_source: TimeSource | None
    offset: int | None  # seconds east of UTC the file itself proves, else None
    offset_source: OffsetSource | None
    status: TimeStatus
    reason: str = ""  # short, for the user: why conflict/implausible/assumed


def file_evidence(
    path: str | os.PathLike[str],
    *,
    zone: tzinfo | None = None,
    mtime: float | None = None,
    wall_clock: datetime | None = None,
) -> Evidence:
    """One file's own time evidence; never raises for a bad file (the reason says what is wrong).

    This first version reads EXIF ``DateTimeOriginal`` with ``OffsetTimeOriginal``/``OffsetTime``
    or TIFF/EP ``TimeZoneOffset`` through :mod:`pylapse.exif`.
    """
    del zone, mtime, wall_clock  # used by the checks that follow in the next steps
    try:
        found = exif.inspect_time(path, UTC)
    except exif.ExifError as exc:
        return Evidence(None, None, None, None, TimeStatus.ASSUMED, str(exc))
    if found.time is None:
        return Evidence(None, None, None, None, TimeStatus.ASSUMED, found.reason)
    local = found.time.replace(tzinfo=None)
    if "no offset" in found.reason:
        return Evidence(local, TimeSource.EXIF, None, None, TimeStatus.ASSUMED, found.reason)
    delta = found.time.utcoffset()
    offset = None if delta is None else int(delta.total_seconds())
    source = OffsetSource.TIFFEP if "TimeZoneOffset" in found.reason else OffsetSource.EXIF
    return Evidence(local, TimeSource.EXIF, offset, source, TimeStatus.CERTAIN, found.reason)

