"""Frame file names: the templates that make them (:func:`format_name`, :func:`validate_template`).

A template such as the default ``{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}`` makes
``cam-2026-02-09T14-30-00+09.00.jpg``. A usable template makes a plain file name, one per second,
that :func:`pylapse.naming.times.parse_name` reads back to the same wall clock.

Reading a frame's time back from its name is :mod:`pylapse.naming.times`; its public names are
re-exported here, so ``from pylapse.naming import parse_name`` keeps working and frame names have
one import for callers.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pylapse import timeutil
from pylapse.naming.times import (
    EPOCH_RANGE,
    NameKind,
    ParsedTime,
    TemplateError,
    TimeSource,
    compile_user_pattern,
    frame_time,
    parse_name,
    parse_name_kind,
    parse_name_utc,
    parse_path,
    parse_path_kind,
)

__all__ = [
    "DEFAULT_FORMAT",
    "EPOCH_RANGE",
    "FIELDS",
    "NameKind",
    "ParsedTime",
    "TemplateError",
    "TimeSource",
    "compile_user_pattern",
    "format_name",
    "frame_time",
    "parse_name",
    "parse_name_kind",
    "parse_name_utc",
    "parse_path",
    "parse_path_kind",
    "validate_template",
]

DEFAULT_FORMAT = "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}"
FIELDS = ("prefix", "camera", "timestamp", "tz", "tz_offset", "ext")

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
