"""Frame file names: format templates, and reading a frame's time back from its name.

A template such as the default ``{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}`` makes
``cam-2026-02-09T14-30-00+09.00.jpg``. Parsing is on the index's hot path (millions of names), so
it is one compiled regex per pattern and integer arithmetic, never ``strptime``.

Where a name carries no offset, its wall-clock time is local to the collection's zone and DST
edge cases resolve by :func:`pylapse.timeutil.localize`'s rule. The full fallback chain for a file
(name, then EXIF, then mtime) is :func:`frame_time`.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pylapse import timeutil

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
    "validate_template",
]

DEFAULT_FORMAT = "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}"
FIELDS = ("prefix", "camera", "timestamp", "tz", "tz_offset", "ext")
_USER_GROUPS = {"year", "month", "day", "hour", "minute", "second", "ampm", "offset", "fraction"}
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


@lru_cache(maxsize=64)
def validate_template(template: str) -> str:
    """Return ``template`` if it can name frames, else raise :class:`TemplateError`."""
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
            if spec and "%" not in spec:
                raise TemplateError(
                    f"{template!r}: {{timestamp:{spec}}} needs a strftime format such as "
                    "{timestamp:%Y-%m-%dT%H-%M-%S}"
                )
        elif spec:
            raise TemplateError(f"{template!r}: only {{timestamp}} takes a format, not {{{field}}}")
    if not has_time:
        raise TemplateError(f"{template!r} has no {{timestamp:...}} field, so frames would collide")
    sample = _render(template, datetime(2026, 2, 9, 14, 30, 0, tzinfo=UTC), "p", "c", "jpg")
    if "/" in sample or "\\" in sample or sample in ("", ".", ".."):
        raise TemplateError(f"{template!r} must make a plain file name, not a path ({sample!r})")
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


# --- parsing --------------------------------------------------------------------------------

# The default format and its relatives: 2026-02-09T14-30-00+09.00, 20240115_120000,
# 2013-10-16-22-23-42, 2024-01-15 01.30.00 PM. Digits are anchored so a prefix such as "cam2"
# cannot lend the year a digit.
_BUILTIN = re.compile(
    r"(?<!\d)(?P<year>\d{4})(?P<ds>[-_.]?)(?P<month>\d{2})(?P=ds)(?P<day>\d{2})"
    r"(?:[T_ \-]|\s+at\s+)?(?P<hour>\d{2})(?P<ts>[-:.]?)(?P<minute>\d{2})(?P=ts)(?P<second>\d{2})"
    r"(?:[.,](?P<fraction>\d{1,6}))?"
    r"(?:\s?(?P<ampm>[AaPp]\.?[Mm]\.?))?"
    r"(?P<offset>Z|[+-]\d{2}(?:[.:]?\d{2})?)?(?!\d)"
)
# 12-hour clocks with a one-digit hour: "2024-01-15 at 1.30.00 PM", "2024-01-15 1-30-00pm".
_TWELVE_HOUR = re.compile(
    r"(?<!\d)(?P<year>\d{4})[-_.]?(?P<month>\d{2})[-_.]?(?P<day>\d{2})(?:\s+at\s+|[T_ \-])"
    r"(?P<hour>\d{1,2})[-:.](?P<minute>\d{2})(?:[-:.](?P<second>\d{2}))?"
    r"\s?(?P<ampm>[AaPp]\.?[Mm]\.?)"
)


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
            pm = ampm[0] in "Pp"
            hour = (hour % 12) + (12 if pm else 0)
        fraction = groups.get("fraction") or ""
        # Naive on purpose: the wall clock gets its zone from the offset or localize() below.
        naive = datetime(  # noqa: DTZ001
            int(groups["year"]),
            int(groups["month"]),
            int(groups["day"]),
            hour,
            int(groups["minute"]),
            int(groups.get("second") or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
        )
    except ValueError:  # month 13, hour 25, 30 February...
        return None
    offset = groups.get("offset")
    if offset:
        try:
            return naive.replace(tzinfo=timeutil.parse_offset(offset))
        except ValueError:
            return None
    return timeutil.localize(naive, tz)


def parse_name(name: str, tz: tzinfo, pattern: re.Pattern[str] | None = None) -> ParsedTime | None:
    """The time in a file name, or ``None`` when the name carries none.

    ``pattern`` (from :func:`compile_user_pattern`) is tried first; then the built-in patterns.
    A name without an offset is wall-clock time in ``tz``.
    """
    if pattern is not None:
        match = pattern.search(name)
        if match:
            when = _from_match(match, tz)
            if when is not None:
                return ParsedTime(when, TimeSource.PATTERN)
    for builtin in (_BUILTIN, _TWELVE_HOUR):
        match = builtin.search(name)
        if match:
            when = _from_match(match, tz)
            if when is not None:
                return ParsedTime(when, TimeSource.FILENAME)
    return None


def frame_time(
    path: str | os.PathLike[str],
    tz: tzinfo,
    pattern: re.Pattern[str] | None = None,
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
            when = exif.read_time(path, tz)
        except exif.ExifError as exc:
            note = f"{note}; {exc}"
        else:
            if when is not None:
                return ParsedTime(when, TimeSource.EXIF, note)
            note = f"{note}; no EXIF DateTimeOriginal"
    if mtime is None:
        mtime = path.stat().st_mtime
    when = datetime.fromtimestamp(mtime, tz)
    return ParsedTime(when, TimeSource.MTIME, f"{note}; used the file's modification time")
