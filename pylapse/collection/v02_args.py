"""pyLapse 0.2's positional arguments of ``Collection`` (``ext``, ``filematch``) read as today's:
extensions for the index scan, a checked name pattern, and a clear error for a time zone passed
where 0.3 took it (the fourth parameter)."""

from __future__ import annotations

import re
from datetime import tzinfo

from pylapse.selection.targets import SelectionError

__all__ = ["check_ext", "extensions", "filematch"]


def check_ext(name: str, ext: str | None) -> None:
    """Refuse a time zone in 0.2's ``ext`` place, naming the keyword it belongs to."""
    if isinstance(ext, tzinfo) or (ext and ("/" in ext or ext.upper() in ("UTC", "GMT"))):
        # before 0.3 the fourth parameter was the time zone; it is 0.2's ext again
        raise TypeError(
            f"Collection({name!r}, ...): {ext!r} looks like a time zone; timezone is a "
            f"keyword: Collection(name, export_dir, collection_dir, timezone={str(ext)!r})"
        )


def extensions(ext: str) -> tuple[str, ...]:
    """0.2's ``ext`` as the index's extensions: ``jpg`` also takes ``.jpeg`` files (one format)."""
    clean = "." + ext.strip().lstrip(".").lower()
    return (".jpg", ".jpeg") if clean in (".jpg", ".jpeg") else (clean,)


def filematch(value: re.Pattern[str] | str) -> re.Pattern[str]:
    """0.2's ``filematch`` regex, checked now: it must name its date and time groups."""
    from pylapse.naming.times import compile_user_pattern

    source = value.pattern if isinstance(value, re.Pattern) else value
    try:
        compile_user_pattern(source)
    except ValueError as exc:
        raise SelectionError(
            f"filematch: {exc} (pyLapse 0.2 read the groups by position; name them "
            "(?P<year>...)(?P<month>...)(?P<day>...)(?P<hour>...)(?P<minute>...)(?P<second>...))"
        ) from None
    return value if isinstance(value, re.Pattern) else re.compile(value)
