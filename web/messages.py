"""Validation problems as sentences for people.

pydantic words a problem for programmers ("Input should be greater than or equal to 1",
"Value error, ...", "unable to parse string as an integer"); the pages show these instead. A
problem the models already word for people (a ``ValueError`` they raise) keeps its text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["in_words"]

_EXPECTED = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "yes or no",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_parsing": "a date and time (YYYY-MM-DD HH:MM)",
    "string_type": "text",
}
_LIMITS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
    "string_too_long": ("at most", "max_length"),
    "string_too_short": ("at least", "min_length"),
}


def _quoted(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")


def in_words(error: Mapping[str, Any], name: str | None = None) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a sentence; ``name``
    says what the value is (default: the last part of its location, or "the value")."""
    if name is None:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body")]
        name = loc[-1].replace("_", " ") if loc else "the value"
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    got = error.get("input")
    shown = f", not {_quoted(got)}" if isinstance(got, str | int | float) and got != "" else ""
    if kind == "missing":
        return f"{name} is needed"
    if kind in _EXPECTED:
        return f"{name} must be {_EXPECTED[kind]}{shown}"
    if kind in _LIMITS:
        words, key = _LIMITS[kind]
        unit = " characters" if kind.startswith("string") else ""
        limit = ctx.get(key)
        limit_text = f"{limit:g}" if isinstance(limit, float) else str(limit)
        return f"{name} must be {words} {limit_text}{unit}{shown}"
    if kind in ("literal_error", "enum"):
        return f"{name} must be {ctx.get('expected', 'one of the choices')}{shown}"
    if kind == "string_pattern_mismatch":
        return f"{name} is not in the expected form{shown}"
    if kind == "value_error":  # raised by our models: already a sentence for people
        return str(error.get("msg", "")).removeprefix("Value error, ")
    return f"{name}: {str(error.get('msg', 'not accepted')).removeprefix('Value error, ')}"
