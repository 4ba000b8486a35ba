"""Frame file names: format templates, and reading a frame's time back from its name.

A template such as the default ``{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}`` makes
``cam-2026-02-09T14-30-00+09.00.jpg``. Parsing is on the index's hot path (millions of names):
the default format is read by :func:`parse_name_utc` with one anchored regex and three cached
dictionary look-ups (about 1 µs a name), everything else by one compiled regex per pattern,
never ``strptime``.

Accepted without configuration (``T``, ``_``, space or ``-`` between date and time; ``-``, ``:``
or ``.`` inside the time; seconds optional, as pyLapse 0.2 read them; an optional fraction and an
optional offset ``+09.00``, ``+0900``, ``+09:00`` or ``Z``)::

    cam-2026-02-09T14-30-00+09.00.jpg   IMG_20240115_120000.jpg   20240115-120000.jpg
    20240115T120000Z.jpg                2013-10-16-22-23-42.jpg   2024-01-15 01.30.00 PM.jpg
    Screenshot 2024-01-15 at 1.30.00 PM.png                       PXL_20240115_120000123.jpg
    cam-2024-01-15-1200.jpg             cam 2024-01-15 12-00.jpg  2024-01-15T12:00+01:00.jpg

A user pattern is a regex with named groups ``year month day hour minute`` and optionally
``second`` (or ``seconds``), ``fraction``, ``ampm`` and ``offset``; it is tried first.

Where a name carries no offset, its wall-clock time is local to the collection's zone and DST
edge cases resolve by :func:`pylapse.timeutil.localize`'s rule (ambiguous: first occurrence;
skipped: shifted forward). Parsed times carry the UTC offset that applied as a fixed zone, so they
compare equal to the same instant in any zone (see :func:`pylapse.timeutil.as_fixed`).

The full fallback chain for a file (name, then EXIF, then mtime) is :func:`frame_time`, which
always says which source it used.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pylapse import fastparse, timeutil

__all__ = [
    "DEFAULT_FORMAT",
    "FIELDS",
    "ParsedTime",
    "TemplateError",
    "TimeSource",
    "compile_user_pattern",
    "format_name",
    "frame_time",
    "parse_name",
    "parse_name_utc",
    "validate_template",
]

DEFAULT_FORMAT = "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}"
FIELDS = ("prefix", "camera", "timestamp", "tz", "tz_offset", "ext")
_USER_GROUPS = {
    "year", "month", "day", "hour", "minute", "second", "seconds", "ampm", "offset", "fraction",
}  # fmt: skip
_REQUIRED_GROUPS = ("year", "month", "day", "hour", "minute")


class TimeSource(StrEnum):
    """Where a frame's time came from, weakest last."""

    FILENAME = "filename"
    PATTERN = "pattern"
    EXIF = "exif"
    MTIME = "mtime"


@dataclass(frozen=True, slots=True)
class ParsedTime:
    time: datetime
    source: TimeSource
    note: str = ""  # why a weaker source was used, when a stronger one failed


class TemplateError(ValueError):
    """A filename template or user pattern that cannot be used."""


# --- formatting ---------------------------------------------------------------------------

_SAMPLE = datetime(2026, 2, 9, 2, 30, 5, tzinfo=UTC)  # +12 h stays on the same day
# Each step must change the name, or two frames that far apart would share one file.
_STEPS = (
    ("second", timedelta(seconds=1)),
    ("minute", timedelta(minutes=1)),
    ("hour", timedelta(hours=1)),
    ("hour (12-hour clock without %p?)", timedelta(hours=12)),
    ("day", timedelta(days=1)),
    ("month", timedelta(days=31)),
    ("year", timedelta(days=365)),
)


@lru_cache(maxsize=64)
def validate_template(template: str) -> str:
    """Return ``template`` if it can name frames, else raise :class:`TemplateError`.

    A usable template makes a plain file name, gives every second its own name, and makes
    names that :func:`parse_name` reads back to the same wall-clock time.
    """
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"{template!r} is not a valid template: {exc}") from None
    has_time = False
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            allowed = ", ".join("{" + f + "}" for f in FIELDS)
            raise TemplateError(f"{template!r} uses unknown field {{{field}}}; accepted: {allowed}")
        if conversion:
            raise TemplateError(f"{template!r}: conversions like !{conversion} are not allowed")
        if field == "timestamp":
            has_time = True
            if not spec or "%" not in spec:
                raise TemplateError(
                    f"{template!r}: {{timestamp}} needs a strftime format such as "
                    "{timestamp:%Y-%m-%dT%H-%M-%S}"
                )
        elif spec:
            raise TemplateError(f"{template!r}: only {{timestamp}} takes a format, not {{{field}}}")
    if not has_time:
        raise TemplateError(f"{template!r} has no {{timestamp:...}} field, so frames would collide")
    try:
        sample = _render(template, _SAMPLE, "p", "c", "jpg")
    except (ValueError, IndexError, KeyError) as exc:
        raise TemplateError(f"{template!r} is not a valid template: {exc}") from None
    if "/" in sample or "\\" in sample or sample in ("", ".", "..") or "\x00" in sample:
        raise TemplateError(f"{template!r} must make a plain file name, not a path ({sample!r})")
    for unit, step in _STEPS:
        if _render(template, _SAMPLE + step, "p", "c", "jpg") == sample:
            raise TemplateError(
                f"{template!r} gives two frames one {unit} apart the same name ({sample!r}); "
                "include %Y %m %d %H %M %S"
            )
    parsed = parse_name(sample, UTC)
    if parsed is None or parsed.time.replace(tzinfo=None) != _SAMPLE.replace(tzinfo=None):
        raise TemplateError(
            f"{template!r} makes names such as {sample!r} that pyLapse cannot read back; "
            "write the date year first and the time after it, e.g. "
            "{timestamp:%Y-%m-%dT%H-%M-%S} or {timestamp:%Y%m%d_%H%M%S}"
        )
    return template


def _render(template: str, when: datetime, prefix: str, camera: str, ext: str) -> str:
    return template.format(
        prefix=prefix,
        camera=camera,
        timestamp=when,
        tz=timeutil.tz_abbrev(when),
        tz_offset=timeutil.format_offset(when),
        ext=ext.lstrip("."),
    )


def format_name(
    when: datetime,
    template: str = DEFAULT_FORMAT,
    *,
    prefix: str = "",
    camera: str = "",
    ext: str = "jpg",
) -> str:
    """The file name for a frame taken at ``when`` (aware, in the camera's zone)."""
    if when.tzinfo is None:
        raise ValueError("format_name needs an aware datetime")
    return _render(validate_template(template), when, prefix, camera, ext)


# --- parsing: everything else ---------------------------------------------------------------

_OFFSET_RE = r"(?P<offset>Z(?![A-Za-z])|[+-]\d{2}[.:]?\d{2}(?:[.:]?\d{2})?)"
_AMPM_RE = r"(?P<ampm>[AaPp]\.?[Mm]\.?)(?![A-Za-z])"
# The default format and its relatives: 2026-02-09T14-30-00+09.00, 20240115_120000,
# 2013-10-16-22-23-42, 2024-01-15 01.30.00 PM. Digits are anchored so a prefix such as "cam2"
# cannot lend the year a digit. An offset needs its minutes, so a counter suffix such as
# "-01" is not read as UTC-1. Seconds may be missing (cam-2024-01-15-1200, 2024-01-15 12:00):
# pyLapse 0.2 read the first two-digit pairs after the date as hour and minute, second 0.
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


@lru_cache(maxsize=64)
def compile_user_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a user's regex for names; it must have named groups for the date and time."""
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


def _from_match(match: re.Match[str], tz: tzinfo) -> datetime | None:
    groups = match.groupdict()
    try:
        hour = int(groups["hour"])
        ampm = groups.get("ampm")
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = (hour % 12) + (12 if ampm[0] in "Pp" else 0)
        fraction = groups.get("fraction") or groups.get("millis") or ""
        second = groups.get("second") or groups.get("seconds") or 0
        # Naive on purpose: the wall clock gets its zone from the offset or localize() below.
        naive = datetime(  # noqa: DTZ001
            int(groups["year"]),
            int(groups["month"]),
            int(groups["day"]),
            hour,
            int(groups["minute"]),
            int(second),
            int(fraction[:6].ljust(6, "0")) if fraction else 0,
        )
    except ValueError:  # month 13, hour 25, 30 February, a group that matched no digits...
        return None
    offset = groups.get("offset")
    if offset:
        try:
            return naive.replace(tzinfo=timeutil.parse_offset(offset))
        except ValueError:
            return None
    return timeutil.as_fixed(timeutil.localize(naive, tz))


def _as_pattern(pattern: re.Pattern[str] | str | None) -> re.Pattern[str] | None:
    if pattern is None or isinstance(pattern, re.Pattern):
        return pattern
    return compile_user_pattern(pattern)


def parse_name(
    name: str, tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> ParsedTime | None:
    """The time in a file name, or ``None`` when the name carries none.

    ``pattern`` (a regex string or the result of :func:`compile_user_pattern`) is tried first;
    then the default format; then the built-in patterns. A name without an offset is
    wall-clock time in ``tz``.
    """
    pattern = _as_pattern(pattern)
    if pattern is not None:
        match = pattern.search(name)
        if match:
            when = _from_match(match, tz)
            if when is not None:
                return ParsedTime(when, TimeSource.PATTERN)
    fast = fastparse.default_utc(name)
    if fast is not None:
        return ParsedTime(timeutil.from_utc(*fast), TimeSource.FILENAME)
    for builtin in (_BUILTIN, _TWELVE_HOUR):
        match = builtin.search(name)
        if match:
            when = _from_match(match, tz)
            if when is not None:
                return ParsedTime(when, TimeSource.FILENAME)
    return None


def parse_name_utc(
    name: str, tz: tzinfo, pattern: re.Pattern[str] | str | None = None
) -> tuple[float, int] | None:
    """``(UTC seconds, offset seconds)`` of the time in ``name``: the index's hot path.

    Same answers as :func:`parse_name` (same order: user pattern, default format, built-ins),
    without building a datetime for default-format names and without any zone lookup when the
    name carries its offset.
    """
    if pattern is None:
        fast = fastparse.default_utc(name)
        if fast is not None:
            return float(fast[0]), fast[1]
        match = _BUILTIN.search(name)
        if match is not None:
            local = fastparse.local_utc(match, tz)
            if local is not None:
                return local
    parsed = parse_name(name, tz, pattern)
    if parsed is None:
        return None
    when = parsed.time
    return when.timestamp(), timeutil.offset_seconds(when)


def frame_time(
    path: str | os.PathLike[str],
    tz: tzinfo,
    pattern: re.Pattern[str] | str | None = None,
    *,
    use_exif: bool = True,
    mtime: float | None = None,
) -> ParsedTime:
    """A frame's time: from its name, else its EXIF, else its mtime; says which it used."""
    path = Path(path)
    parsed = parse_name(path.name, tz, pattern)
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
