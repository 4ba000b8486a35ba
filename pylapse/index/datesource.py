"""Where a frame's time comes from during a scan, and how sure it is.

``date_source`` picks the order ("auto", "filename", "exif", "mtime"). Names go through
:func:`pylapse.naming.parse_name_utc`, the hot path at millions of files: a name that carries
its offset (the default format) is ``certain`` and its file is never opened. A name with only a
wall clock, or no time at all, lets the file's own evidence decide
(:func:`pylapse.filetime.file_evidence`, headers only): the offset it proves, or none, in which
case the frame is written in the collection's zone as ``assumed`` and
:mod:`pylapse.index.zones` later gives it its neighbours' offset or the zone in force.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from pylapse import naming, timeutil
from pylapse.index.zones import NAME_UTC, ZONE

if TYPE_CHECKING:
    from pylapse.filetime import Evidence

__all__ = ["DATE_SOURCES", "FrameTimes", "Resolved"]

DATE_SOURCES = ("auto", "filename", "exif", "mtime")
_SLACK = 2  # seconds between two clocks that are the same clock
_NO_OFFSET = {
    naming.NameKind.WALL: "no offset in the name or the file",
    naming.NameKind.UTC: "the name gives the instant in UTC; no offset in the file",
}


def _wall(seconds: float) -> datetime:
    """The naive wall clock ``seconds`` after 1970-01-01 00:00."""
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)  # noqa: DTZ001


class Resolved(NamedTuple):
    """One file's time: the instant, the offset, and where each came from."""

    utc: float
    offset: int
    source: str  # the older summary: filename, pattern, exif or mtime
    size: int | None
    mtime: float | None
    time_source: str
    offset_source: str
    status: str
    reason: str


class FrameTimes:
    """Reads a file's time according to ``date_source``; names first on the hot path."""

    def __init__(self, tz: tzinfo, pattern: re.Pattern[str] | str | None, date_source: str):
        if date_source not in DATE_SOURCES:
            raise ValueError(
                f"date_source {date_source!r} is not accepted; use one of {', '.join(DATE_SOURCES)}"
            )
        if isinstance(pattern, str):
            pattern = naming.compile_user_pattern(pattern) if pattern else None
        self.tz, self.pattern, self.date_source = tz, pattern, date_source
        fast = getattr(naming, "parse_name_utc", None)
        # With a user pattern the slower parse_name is used: it says which rule matched.
        self.fast: Callable[[str, tzinfo], tuple[float, int] | None] | None = (
            fast if fast is not None and pattern is None else None
        )
        self.names_first = date_source in ("auto", "filename")

    def name(self, relative: str) -> tuple[float, int, str, str, naming.NameKind] | None:
        """``(utc, offset, source, time_source, kind)`` of the time a file's path carries
        (``relative`` to the collection root: folder layouts and user patterns may read the
        folders), or ``None``."""
        hit = naming.parse_path_kind(relative, self.tz, self.pattern)
        if hit is None:
            return None
        utc, offset, kind, source = hit
        time_source = "folder+name" if source == naming.TimeSource.FOLDER else "name"
        if kind is naming.NameKind.UTC:
            time_source = NAME_UTC
        return float(utc), int(offset), str(source), time_source, kind

    def resolve(
        self, folder: str, name: str, *, stat: bool = False, relative: str | None = None
    ) -> Resolved | None:
        """The time of ``folder/name``, or ``None`` when nothing gives one (``filename`` only).

        A name with its offset is read without opening the file (``stat``: still fill size and
        mtime, for a verifying scan). ``relative``: the path from the collection root (default:
        the name alone)."""
        path = os.path.join(folder, name)
        hit = self.name(relative or name) if self.date_source != "mtime" else None
        if hit is not None and self.names_first and hit[4] is naming.NameKind.OFFSET:
            size = mtime = None
            if stat:
                st = os.stat(path)
                size, mtime = st.st_size, st.st_mtime
            return Resolved(*hit[:3], size, mtime, hit[3], "name", "certain", "")
        if self.date_source == "filename":
            if hit is None:
                return None
            if hit[4] is naming.NameKind.OFFSET:
                return Resolved(*hit[:3], None, None, hit[3], "name", "certain", "")
            return Resolved(*hit[:3], None, None, hit[3], ZONE, "assumed", _NO_OFFSET[hit[4]])
        st = os.stat(path)
        if self.date_source == "mtime":
            return self._mtime(st, "date_source mtime")
        from pylapse import filetime  # collections whose names prove their offsets never pay

        if hit is not None and self.names_first:
            return self._named(path, hit, st)
        ev = filetime.file_evidence(path, zone=self.tz, mtime=st.st_mtime)
        if ev.local is not None and ev.time_source is not None:
            return self._stamp(ev.local, "exif", str(ev.time_source), ev, st)
        if hit is not None:  # date_source exif: the name when the file has no clock
            return self._named(path, hit, st)
        note = "no time in the name or the file"
        if ev.reason:
            note = f"{note} ({ev.reason})"
        return self._mtime(st, f"{note}; modification time used")

    def _named(
        self, path: str, hit: tuple[float, int, str, str, naming.NameKind], st: os.stat_result
    ) -> Resolved:
        """A name's time whose offset the name does not prove: the file's evidence decides."""
        from pylapse import filetime

        utc, offset, source, time_source, kind = hit
        if kind is naming.NameKind.OFFSET:
            return Resolved(utc, offset, source, st.st_size, st.st_mtime, time_source, "name",
                            "certain", "")  # fmt: skip
        wall = _wall(utc + offset)
        if kind is naming.NameKind.WALL:
            ev = filetime.file_evidence(path, zone=self.tz, mtime=st.st_mtime, wall_clock=wall)
            return self._stamp(wall, source, time_source, ev, st)
        # The instant is the name's (UTC): a file offset is taken only when the file's clock
        # shows that instant in it; the instant never moves.
        ev = filetime.file_evidence(path, zone=self.tz, mtime=st.st_mtime)
        if (
            ev.offset is not None
            and ev.offset_source is not None
            and ev.local is not None
            and abs((ev.local - _wall(utc + ev.offset)).total_seconds()) <= _SLACK
        ):
            return Resolved(utc, ev.offset, source, st.st_size, st.st_mtime, time_source,
                                str(ev.offset_source), str(ev.status), ev.reason)  # fmt: skip
        status = "conflict" if ev.status == "conflict" else "assumed"
        reason = ev.reason if status == "conflict" else _NO_OFFSET[kind]
        return Resolved(utc, offset, source, st.st_size, st.st_mtime, time_source, ZONE, status,
                        reason)  # fmt: skip

    def _stamp(
        self, wall: datetime, source: str, time_source: str, ev: Evidence, st: os.stat_result
    ) -> Resolved:
        """A wall clock with the offset the file proves, else the zone's (``assumed``)."""
        status, reason = str(ev.status), ev.reason
        if ev.offset is not None and ev.offset_source is not None:
            offset, offset_source = ev.offset, str(ev.offset_source)
        else:
            offset = timeutil.offset_seconds(timeutil.localize(wall, self.tz))
            offset_source = ZONE
            if ev.status == "certain":  # nothing proves an offset: never certain
                status = "assumed"
            reason = reason or "no offset in the name or the file"
        utc = (wall - datetime(1970, 1, 1)).total_seconds() - offset  # noqa: DTZ001
        return Resolved(
            utc, offset, source, st.st_size, st.st_mtime, time_source, offset_source, status,
            reason,
        )

    def _mtime(self, st: os.stat_result, reason: str) -> Resolved:
        when = datetime.fromtimestamp(st.st_mtime, self.tz)
        return Resolved(
            when.timestamp(), timeutil.offset_seconds(when), "mtime", st.st_size, st.st_mtime,
            "mtime", ZONE, "assumed", reason,
        )
