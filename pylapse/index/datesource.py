"""Where a frame's time comes from during a scan: its name first, else EXIF, else mtime.

``date_source`` picks the order ("auto", "filename", "exif", "mtime"); names go through
:func:`pylapse.naming.parse_name_utc`, the hot path at millions of files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import datetime, tzinfo

from pylapse import naming, timeutil

__all__ = ["DATE_SOURCES", "FrameTimes", "Resolved"]

DATE_SOURCES = ("auto", "filename", "exif", "mtime")

# (utc, offset, source, size, mtime) of one file, or None when it has no usable time.
Resolved = tuple[float, int, str, int | None, float | None]


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

    def resolve(self, folder: str, name: str) -> Resolved | None:
        """Any source but the fast name path (which the caller tried already if it applies)."""
        path = os.path.join(folder, name)
        if self.date_source == "filename":
            hit = self.name(name)
            return None if hit is None else (*hit, None, None)
        st = os.stat(path)
        if self.date_source == "mtime":
            return self._stamp(datetime.fromtimestamp(st.st_mtime, self.tz), "mtime", st)
        if self.date_source == "exif":
            when = _exif_time(path, self.tz)
            if when is not None:
                return self._stamp(when, "exif", st)
            hit = self.name(name)
            if hit is not None:
                return (*hit, st.st_size, st.st_mtime)
            return self._stamp(datetime.fromtimestamp(st.st_mtime, self.tz), "mtime", st)
        parsed = naming.frame_time(path, self.tz, self.pattern, use_exif=True, mtime=st.st_mtime)
        return self._stamp(parsed.time, str(parsed.source), st)

    @staticmethod
    def _stamp(when: datetime, source: str, st: os.stat_result) -> Resolved:
        return when.timestamp(), timeutil.offset_seconds(when), source, st.st_size, st.st_mtime


def _exif_time(path: str, tz: tzinfo) -> datetime | None:
    from pylapse import exif  # only collections that ask for EXIF pay for the import

    try:
        return exif.read_time(path, tz)
    except exif.ExifError:
        return None
