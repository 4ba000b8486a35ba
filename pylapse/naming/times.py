"""The time a frame's file name (or its path from the collection root) carries, and a frame's time
from its file when the name has none (:func:`frame_time`).

A name made by :mod:`pylapse.naming`'s default template, ``cam-2026-02-09T14-30-00+09.00.jpg``,
is read back here. Parsing is on the index's hot path (millions of names): the default format
is read by :func:`parse_name_utc` with one anchored regex and three cached dictionary look-ups
(about 1 µs a name), everything else by one compiled regex per pattern, never ``strptime``.

Accepted without configuration (``T``, ``_``, space or ``-`` between date and time; ``-``, ``:``
or ``.`` inside the time; seconds optional, as pyLapse 0.2 read them; an optional fraction and an
optional offset ``+09.00``, ``+0900``, ``+09:00`` or ``Z``)::

    cam-2026-02-09T14-30-00+09.00.jpg   IMG_20240115_120000.jpg   20240115-120000.jpg
    20240115T120000Z.jpg                2013-10-16-22-23-42.jpg   2024-01-15 01.30.00 PM.jpg
    Screenshot 2024-01-15 at 1.30.00 PM.png                       PXL_20240115_120000123.jpg
    cam-2024-01-15-1200.jpg             cam 2024-01-15 12-00.jpg  2024-01-15T12:00+01:00.jpg

A user pattern is a regex with named groups ``year month day hour minute`` and optionally
``second`` (or ``seconds``), ``fraction``, ``ampm`` and ``offset``; it is tried first, on the
name and then (:func:`parse_path`) on the path relative to the collection root.

What a name proves is its :class:`NameKind`:

* digits after the clock are an offset (``OFFSET``) only when written as one and real
  (:func:`pylapse.naming.fastparse.real_offset`: -12:00..+14:00 in quarter hours, at least an hour
  west); ``20240115_123456-0001.jpg`` is a counter and the name a wall clock; ``Z`` is +00:00;
* Google Pixel's ``PXL_20240115_123456789.jpg`` is UTC, as are epoch names
  (``1705318496_camera.jpeg``, ``1705318496123.jpg`` in milliseconds, inside
  :data:`EPOCH_RANGE`) and RFC 3339's ``-00:00`` (``UTC``): the instant is known, the offset
  shown with it is the collection zone's;
* anything else is a wall clock only (``WALL``), local to the collection's zone; DST edge cases
  resolve by :func:`pylapse.timeutil.localize`'s rule (ambiguous: first occurrence; skipped:
  shifted forward). The index lets a file's own evidence (EXIF offset...) replace an assumed
  offset when its wall clock agrees.

Folders may carry the date (:func:`parse_path`): motionEye ``YYYY-MM-DD/HH-MM-SS.jpg`` and
Dahua/Amcrest ``YYYY-MM-DD/001/jpg/HH/MM/SS[...].jpg``.

Parsed times carry the UTC offset that applied as a fixed zone, so they compare equal to the same
instant in any zone (see :func:`pylapse.timeutil.as_fixed`). The full fallback chain for a file
(name or path, then EXIF, then mtime) is :func:`frame_time`, which always says which source it
used.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pylapse import timeutil
from pylapse.naming import fastparse

__all__ = [
    "EPOCH_RANGE",
    "NameKind",
    "ParsedTime",
    "TemplateError",
    "TimeSource",
    "compile_user_pattern",
    "frame_time",
    "parse_name",
    "parse_name_kind",
    "parse_name_utc",
    "parse_path",
    "parse_path_kind",
]

_USER_GROUPS = {
    "year", "month", "day", "hour", "minute", "second", "seconds", "ampm", "offset", "fraction",
}  # fmt: skip
_REQUIRED_GROUPS = ("year", "month", "day", "hour", "minute")


class TimeSource(StrEnum):
    """Where a frame's time came from, weakest last."""

    FILENAME = "filename"
    PATTERN = "pattern"  # the user's pattern, on the name or on the path from the root
    FOLDER = "folder+name"  # a camera layout with the date in the folders (motionEye, Dahua)
    EXIF = "exif"
    MTIME = "mtime"


class NameKind(StrEnum):
    """What a name (or path) proves about a frame's time.

    * ``OFFSET``: a wall clock and a real UTC offset, both written in the name: the instant and
      the offset are the name's (the default format, ``+0900``, ``+09:00``, ``Z`` which ISO 8601
      makes +00:00).
    * ``UTC``: the instant in UTC, no local offset (Pixel ``PXL_``, epoch numbers, RFC 3339's
      ``-00:00``): the instant is the name's, the offset given with it is the zone's at that
      instant, an assumption that a file's own offset evidence may replace without moving the
      instant.
    * ``WALL``: a wall clock only: the offset is assumed from the zone; a file whose own clock
      shows the same wall time may supply the offset (then the instant moves with it).
    """

    OFFSET = "offset"
    UTC = "utc"
    WALL = "wall"


@dataclass(frozen=True, slots=True)
class ParsedTime:
    time: datetime
    source: TimeSource
    note: str = ""  # why a weaker source was used, when a stronger one failed
    kind: NameKind | None = None  # what the name proves; None when the time is not a name's


class TemplateError(ValueError):
    """A filename template or user pattern that cannot be used."""


_OFFSET_RE = r"(?P<offset>Z(?![A-Za-z])|[+-]\d{2}[.:]?\d{2}(?:[.:]?\d{2})?)"
_AMPM_RE = r"(?P<ampm>[AaPp]\.?[Mm]\.?)(?![A-Za-z])"
# The default format and its relatives: 2026-02-09T14-30-00+09.00, 20240115_120000,
# 2013-10-16-22-23-42, 2024-01-15 01.30.00 PM. Digits are anchored so a prefix such as "cam2"
# cannot lend the year a digit. An offset needs its minutes, so a counter suffix such as
# "-01" is not read as UTC-1; four digits that are no real offset ("-0001") are a counter too
# (fastparse.real_offset decides after the match). Seconds may be missing (cam-2024-01-15-1200,
# 2024-01-15 12:00): pyLapse 0.2 read the first two-digit pairs after the date as hour and
# minute, second 0.
_BUILTIN = re.compile(
    r"(?<!\d)(?P<year>\d{4})(?P<ds>[-_.]?)(?P<month>\d{2})(?P=ds)(?P<day>\d{2})"
    r"(?:[T_ \-]|\s+at\s+)?(?P<hour>\d{2})(?P<ts>[-:.]?)(?P<minute>\d{2})"
    r"(?:(?P=ts)(?P<second>\d{2})"
    r"(?:[.,](?P<fraction>\d{1,6})|(?P<millis>\d{3}))?)?"  # PXL_20240115_120000123
    rf"(?:\s?{_AMPM_RE})?"
    rf"{_OFFSET_RE}?(?!\d)"
)
# 12-hour clocks with a one-digit hour: "2024-01-15 at 1.30.00 PM", "2024-01-15 1-30-00pm".
_TWELVE_HOUR = re.compile(
    r"(?<!\d)(?P<year>\d{4})[-_.]?(?P<month>\d{2})[-_.]?(?P<day>\d{2})(?:\s+at\s+|[T_ \-])"
    r"(?P<hour>\d{1,2})[-:.](?P<minute>\d{2})(?:[-:.](?P<second>\d{2}))?"
    rf"\s?{_AMPM_RE}"
)
# Google Pixel phones (Google Camera since 2020) write the UTC time: PXL_20240115_123456789.jpg.
_UTC_PREFIX = "PXL_"  # four characters: parse_name_utc inlines the test
# Unix time in seconds (10 digits, optionally with a fraction) or milliseconds (13 digits).
_EPOCH = re.compile(
    r"(?<!\d)(?:(?P<seconds>\d{10})(?:\.(?P<fraction>\d{1,6}))?|(?P<millis>\d{13}))(?!\d)"
)
EPOCH_RANGE = (1_000_000_000, 2_000_000_000)
"""Epoch names are read only for instants in ``[EPOCH_RANGE[0], EPOCH_RANGE[1])`` seconds.

From 2001-09-09T01:46:40Z, the first 10-digit epoch (a counter with leading zeros would be 1970),
to 2033-05-18T03:33:20Z, excluded: 10-digit numbers from 2,000,000,000 start with "20", like
a compact date-and-hour (``2024011512``), and lie years ahead of any camera file (a counter
would otherwise be read as 2200). Milliseconds (13 digits) follow the same range.
"""
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
# Camera layouts that keep the date in the folders (paths relative to the collection root).
_FOLDER_LAYOUTS = (
    # motionEye: 2024-01-15/12-34-56.jpg; "-NN" after the clock is motion's frame counter (%q).
    re.compile(
        r"(?:^|/)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})/"
        r"(?P<hour>\d{2})-(?P<minute>\d{2})-(?P<second>\d{2})(?:-\d{1,3})?\.[^./]+$"
    ),
    # Dahua / Amcrest SD cards and FTP: 2024-01-15/001/jpg/12/34/56[M][0@0][0].jpg
    re.compile(
        r"(?:^|/)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})/\d{3}/(?i:jpg)/"
        r"(?P<hour>\d{2})/(?P<minute>\d{2})/(?P<second>\d{2})(?![\d/])[^/]*$"
    ),
)


@lru_cache(maxsize=64)
def compile_user_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a user's regex for names; it must have named groups for the date and time.

    The pattern is searched in the file name, then (see :func:`parse_path`) in the path relative
    to the collection root, with ``/`` between folders, so it may take the date from folders.
    """
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise TemplateError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    groups = set(compiled.groupindex)
    missing = [g for g in _REQUIRED_GROUPS if g not in groups]
    if missing:
        raise TemplateError(
            f"{pattern!r} lacks the named group(s) {', '.join(missing)}; "
            f"use (?P<year>...) etc. Accepted groups: {', '.join(sorted(_USER_GROUPS))}"
        )
    unknown = groups - _USER_GROUPS
    if unknown:
        raise TemplateError(
            f"{pattern!r} has unknown named group(s) {', '.join(sorted(unknown))}; "
            f"accepted: {', '.join(sorted(_USER_GROUPS))}"
        )
    return compiled


def _naive(groups: dict[str, str | None]) -> datetime | None:
    """The wall clock of a match's groups, or ``None`` if they make no valid time."""
    try:
        hour = int(groups["hour"] or "")
        ampm = groups.get("ampm")
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = (hour % 12) + (12 if ampm[0] in "Pp" else 0)
        fraction = groups.get("fraction") or groups.get("millis") or ""
        second = groups.get("second") or groups.get("seconds") or 0
        # Naive on purpose: the wall clock gets its zone from the offset or localize().
        return datetime(  # noqa: DTZ001
            int(groups["year"] or ""),
            int(groups["month"] or ""),
            int(groups["day"] or ""),
            hour,
            int(groups["minute"] or ""),
            int(second),
            int(fraction[:6].ljust(6, "0")) if fraction else 0,
        )
    except ValueError:  # month 13, hour 25, 30 February, a group that matched no digits...
        return None


def _in_zone(utc: datetime, tz: tzinfo) -> datetime | None:
    """An aware instant on ``tz``'s wall clock, with the offset that applied as a fixed zone."""
    try:
        return timeutil.as_fixed(utc.astimezone(tz))
    except (OverflowError, ValueError):  # year 1 or 9999 pushed past the calendar
        return None


def _from_match(
    match: re.Match[str], tz: tzinfo, *, utc: bool = False
) -> tuple[datetime, NameKind] | None:
    naive = _naive(match.groupdict())
    if naive is None:
        return None
    offset = match.groupdict().get("offset")
    if utc or (offset and fastparse.is_utc_mark(offset)):
        when = _in_zone(naive.replace(tzinfo=UTC), tz)
        return None if when is None else (when, NameKind.UTC)
    # "Z" is +00:00 in ISO 8601, a real offset; only "-00:00" means "UTC, offset unknown".
    seconds = (0 if offset == "Z" else fastparse.real_offset(offset)) if offset else None
    if seconds is not None:
        return naive.replace(tzinfo=timeutil.fixed_zone(seconds)), NameKind.OFFSET
    return timeutil.as_fixed(timeutil.localize(naive, tz)), NameKind.WALL


def _utc_named(name: str, match: re.Match[str]) -> bool:
    """True for names documented as UTC: the clock right after Pixel's ``PXL_``."""
    return match.start() == len(_UTC_PREFIX) and name.startswith(_UTC_PREFIX)


def _epoch(name: str) -> tuple[int, int] | None:
    """(seconds, microseconds) of the first epoch number in ``name`` inside :data:`EPOCH_RANGE`."""
    for match in _EPOCH.finditer(name):
        millis = match["millis"]
        if millis:
            whole, micro = divmod(int(millis), 1000)
            micro *= 1000
        else:
            whole, fraction = int(match["seconds"]), match["fraction"]
            micro = int(fraction.ljust(6, "0")) if fraction else 0
        if EPOCH_RANGE[0] <= whole < EPOCH_RANGE[1]:
            return whole, micro
    return None


def _as_pattern(pattern: re.Pattern[str] | str | None) -> re.Pattern[str] | None:
    if pattern is None or isinstance(pattern, re.Pattern):
        return pattern
    return compile_user_pattern(pattern)


def _pattern_time(pattern: re.Pattern[str], text: str, tz: tzinfo) -> ParsedTime | None:
    match = pattern.search(text)
    if match:
        found = _from_match(match, tz)
        if found is not None:
            return ParsedTime(found[0], TimeSource.PATTERN, kind=found[1])
    return None


def _builtin_time(name: str, tz: tzinfo) -> ParsedTime | None:
    fast = fastparse.default_utc(name)
    if fast is not None:
        return ParsedTime(timeutil.from_utc(*fast), TimeSource.FILENAME, kind=NameKind.OFFSET)
    for builtin in (_BUILTIN, _TWELVE_HOUR):
        match = builtin.search(name)
        if match:
            found = _from_match(match, tz, utc=_utc_named(name, match))
            if found is not None:
                return ParsedTime(found[0], TimeSource.FILENAME, kind=found[1])
    epoch = _epoch(name)
    if epoch is not None:
        when = _in_zone(_EPOCH_START + timedelta(seconds=epoch[0], microseconds=epoch[1]), tz)
        if when is not None:
            return ParsedTime(when, TimeSource.FILENAME, kind=NameKind.UTC)
    return None


def parse_name(
    name: str, tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> ParsedTime | None:
    """The time in a file name, or ``None`` when the name carries none.

    ``pattern`` (a regex string or the result of :func:`compile_user_pattern`) is tried first;
    then the default format; then the built-in patterns; then epoch numbers. The result's
    ``kind`` says what the name proves (see :class:`NameKind`): a name with a real offset is
    that instant at that offset (``OFFSET``, ``Z`` being +00:00); a UTC name (``PXL_``, epoch,
    ``-00:00``) is
    that instant shown on ``tz``'s wall clock (``UTC``); any other name is wall-clock time in
    ``tz`` (``WALL``).
    """
    pattern = _as_pattern(pattern)
    if pattern is not None:
        hit = _pattern_time(pattern, name, tz)
        if hit is not None:
            return hit
    return _builtin_time(name, tz)


def parse_name_utc(
    name: str, tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> tuple[float, int] | None:
    """``(UTC seconds, offset seconds)`` of the time in ``name``: the index's hot path.

    Same answers as :func:`parse_name` (same order: user pattern, default format, built-ins),
    without building a datetime for default-format names and without any zone lookup when the
    name carries its offset. To also learn whether the offset came from the name, use
    :func:`parse_name_kind` (same answers, one more field).
    """
    if pattern is None:
        fast = fastparse.default_utc(name)
        if fast is not None:
            return float(fast[0]), fast[1]
        match = _BUILTIN.search(name)
        # Inlined _utc_named (a call costs a tenth of this path): PXL_ names take parse_name.
        if match is not None and (match.start() != 4 or not name.startswith(_UTC_PREFIX)):
            local = fastparse.local_utc(match, tz)
            if local is not None:
                return local
    parsed = parse_name(name, tz, pattern)
    if parsed is None:
        return None
    when = parsed.time
    return when.timestamp(), timeutil.offset_seconds(when)


def parse_name_kind(
    name: str, tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> tuple[float, int, NameKind] | None:
    """``(UTC seconds, offset seconds, kind)``: :func:`parse_name_utc` plus what the name proves.

    ``kind`` is :attr:`NameKind.OFFSET` when the offset is written in the name (every
    default-format name: what :func:`pylapse.naming.fastparse.default_batch` reads is always this
    kind), :attr:`NameKind.UTC` when the name gives the instant in UTC and ``offset`` is
    ``tz``'s at that instant (assumed), :attr:`NameKind.WALL` when the name gives only a wall
    clock and ``offset`` is assumed from ``tz`` (its wall clock is ``utc + offset``). As fast
    as :func:`parse_name_utc`.
    """
    if pattern is None:
        fast = fastparse.default_utc(name)
        if fast is not None:
            return float(fast[0]), fast[1], NameKind.OFFSET
        match = _BUILTIN.search(name)
        if match is not None and (match.start() != 4 or not name.startswith(_UTC_PREFIX)):
            local = fastparse.local_utc(match, tz)  # only ever reads wall clocks
            if local is not None:
                return local[0], local[1], NameKind.WALL
    parsed = parse_name(name, tz, pattern)
    if parsed is None or parsed.kind is None:
        return None
    when = parsed.time
    return when.timestamp(), timeutil.offset_seconds(when), parsed.kind


def _slashes(relative: str | os.PathLike[str]) -> str:
    text = os.fspath(relative)
    return text.replace(os.sep, "/") if os.sep != "/" else text


def parse_path(
    relative: str | os.PathLike[str], tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> ParsedTime | None:
    """The time a file's path carries, ``relative`` to the collection root (``/`` between
    folders, e.g. ``"2024-01-15/12-34-56.jpg"``), or ``None``.

    In order: ``pattern`` on the file name, then on the whole relative path (so a user pattern
    may take the date from folders; source ``PATTERN``); the name's own rules
    (:func:`parse_name`); then camera layouts that keep the date in folders (source ``FOLDER``,
    kind ``WALL``): motionEye ``YYYY-MM-DD/HH-MM-SS[-NN].jpg`` and Dahua/Amcrest
    ``YYYY-MM-DD/NNN/jpg/HH/MM/SS[...].jpg``.
    """
    text = _slashes(relative)
    name = text.rpartition("/")[2]
    compiled = _as_pattern(pattern)
    if compiled is not None:
        for candidate in dict.fromkeys((name, text)):
            hit = _pattern_time(compiled, candidate, tz)
            if hit is not None:
                return hit
    hit = _builtin_time(name, tz)
    if hit is not None or "/" not in text:
        return hit
    for layout in _FOLDER_LAYOUTS:
        match = layout.search(text)
        if match:
            found = _from_match(match, tz)
            if found is not None:
                return ParsedTime(found[0], TimeSource.FOLDER, kind=found[1])
    return None


def parse_path_kind(
    relative: str | os.PathLike[str], tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> tuple[float, int, NameKind, TimeSource] | None:
    """:func:`parse_path` as ``(UTC seconds, offset seconds, kind, source)``.

    A name that carries its time takes :func:`parse_name_kind`'s fast path; the folders are
    read only when the name has no time.
    """
    if pattern is None:
        text = _slashes(relative)
        hit = parse_name_kind(text.rpartition("/")[2], tz)
        if hit is not None:
            return hit[0], hit[1], hit[2], TimeSource.FILENAME
        if "/" not in text:
            return None
    parsed = parse_path(relative, tz, pattern)
    if parsed is None or parsed.kind is None:
        return None
    when = parsed.time
    return when.timestamp(), timeutil.offset_seconds(when), parsed.kind, parsed.source


def frame_time(
    path: str | os.PathLike[str],
    tz: tzinfo,
    pattern: re.Pattern[str] | str | None = None,
    *,
    use_exif: bool = True,
    mtime: float | None = None,
    relative: str | os.PathLike[str] | None = None,
) -> ParsedTime:
    """A frame's time: from its name, else its EXIF, else its mtime; says which it used.

    With ``relative`` (the path from the collection root, see :func:`parse_path`), folder
    layouts and a user pattern over folders are tried before EXIF.
    """
    path = Path(path)
    if relative is None:
        parsed = parse_name(path.name, tz, pattern)
    else:
        parsed = parse_path(relative, tz, pattern)
    if parsed is not None:
        return parsed
    note = f"no date and time in the name {path.name!r}"
    if use_exif:
        from pylapse import exif  # only files with undated names pay for this import

        try:
            found = exif.inspect_time(path, tz)
        except exif.ExifError as exc:
            note = f"{note}; {exc}"
        else:
            if found.time is not None:
                return ParsedTime(found.time, TimeSource.EXIF, note)
            note = f"{note}; {found.reason}"
    if mtime is None:
        mtime = path.stat().st_mtime
    when = timeutil.as_fixed(datetime.fromtimestamp(mtime, tz))
    return ParsedTime(when, TimeSource.MTIME, f"{note}; used the file's modification time")
