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
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from pylapse import naming, timeutil
from pylapse.index.zones import ZONE

if TYPE_CHECKING:
    from pylapse.filetime import Evidence

__all__ = ["DATE_SOURCES", "FrameTimes", "Resolved"]

DATE_SOURCES = ("auto", "filename", "exif", "mtime")
# A zone no name offset can equal by chance: a name read in both zones carries its offset when
# the two readings agree (how a wall-clock-only name is told apart, whatever rule matched it).
_PROBE = timezone(timedelta(hours=5, minutes=17))


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

    def name(self, name: str) -> tuple[float, int, str] | None:
        if self.fast is not None:
            hit = self.fast(name, self.tz)
            return None if hit is None else (float(hit[0]), int(hit[1]), "filename")
        parsed = naming.parse_name(name, self.tz, self.pattern)
        if parsed is None:
            return None
        when = parsed.time
        return when.timestamp(), timeutil.offset_seconds(when), str(parsed.source)

    def name_has_offset(self, name: str) -> bool:
        """Whether ``name``'s time carries its own offset (read the same in two zones)."""
        a = naming.parse_name(name, UTC, self.pattern)
        b = naming.parse_name(name, _PROBE, self.pattern)
        return a is not None and b is not None and a.time == b.time

    def resolve(self, folder: str, name: str, *, stat: bool = False) -> Resolved | None:
        """The time of ``folder/name``, or ``None`` when nothing gives one (``filename`` only).

        A name with its offset is read without opening the file (``stat``: still fill size and
        mtime, for a verifying scan)."""
        path = os.path.join(folder, name)
        hit = self.name(name) if self.date_source != "mtime" else None
        if hit is not None and self.names_first and self.name_has_offset(name):
            size = mtime = None
            if stat:
                st = os.stat(path)
                size, mtime = st.st_size, st.st_mtime
            return Resolved(*hit, size, mtime, "name", "name", "certain", "")
        if self.date_source == "filename":
            if hit is None:
                return None
            return Resolved(*hit, None, None, "name", ZONE, "assumed", "no offset in the name")
        st = os.stat(path)
        if self.date_source == "mtime":
            return self._mtime(st, "date_source mtime")
        from pylapse import filetime  # collections whose names prove their offsets never pay

        wall = None
        if hit is not None and self.names_first:
            wall = datetime.fromtimestamp(hit[0] + hit[1], UTC).replace(tzinfo=None)
        ev = filetime.file_evidence(path, zone=self.tz, mtime=st.st_mtime, wall_clock=wall)
        if wall is not None:
            return self._stamp(wall, hit[2] if hit else "filename", "name", ev, st)
        if ev.local is not None and ev.time_source is not None:
            return self._stamp(ev.local, "exif", str(ev.time_source), ev, st)
        if hit is not None:  # date_source exif: the name when the file has no clock
            if self.name_has_offset(name):
                return Resolved(*hit, st.st_size, st.st_mtime, "name", "name", "certain", "")
            wall = datetime.fromtimestamp(hit[0] + hit[1], UTC).replace(tzinfo=None)
            return self._stamp(wall, hit[2], "name", ev, st)
        note = "no time in the name or the file"
        if ev.reason:
            note = f"{note} ({ev.reason})"
        return self._mtime(st, f"{note}; modification time used")

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
            reason = reason or "no offset in the file"
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
