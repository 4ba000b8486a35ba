"""A pydantic validation error as the user's message: ``field.path: what is wrong and what is
accepted``, with did-you-mean for an unknown key and secrets hidden.

:mod:`pylapse.config.file` prefixes each with the file's path; forms use :func:`describe_error`
on the errors of the one model they validated.
"""

from __future__ import annotations

import difflib
from typing import get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from pylapse.config.models import Config

__all__ = ["describe_error"]

# where an error is: keys of objects and indexes of lists, from the top of the document
_Loc = tuple[str | int, ...]


def _model_at(loc: _Loc, root: type[BaseModel] = Config) -> type[BaseModel] | None:
    """The model class that a validation error location points into (for did-you-mean)."""
    model: type[BaseModel] | None = root
    i = 0
    while model is not None and i < len(loc) - 1:
        field = model.model_fields.get(str(loc[i]))
        if field is None:
            return None
        ann = field.annotation
        origin = getattr(ann, "__origin__", None)
        if origin in (dict, list):
            inner = get_args(ann)[-1]
            i += 2
            model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
        else:
            return None
    return model


_SECRET_KEYS = {"password", "password_hash", "headers"}
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text in quotes",
    "dict": "an object {...}",
    "model": "an object {...}",
    "list": "a list [...]",
    "datetime": "a date and time such as '2026-02-09T06:00:00'",
}
_LIMITS = {
    "greater_than": "greater than {gt}",
    "greater_than_equal": "at least {ge}",
    "less_than": "less than {lt}",
    "less_than_equal": "at most {le}",
}


def _where(loc: _Loc) -> str:
    # Pydantic adds the member type of a union or a validator's name to the location; the
    # user only needs the path of keys in their file.
    keys = [p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("int", "str")))]
    return ".".join(str(p) for p in keys) or "(top level)"


def describe_error(error: ErrorDetails, model: type[BaseModel] = Config) -> str:
    """One pydantic error as ``field.path: what is wrong and what is accepted`` (no file name).

    Forms can use it on ``ValidationError.errors()`` of any config ``model`` (the one that was
    validated, for did-you-mean); secrets are hidden.
    """
    loc = tuple(error["loc"])
    where = _where(loc)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    secret = any(str(p) in _SECRET_KEYS for p in loc)
    got = "(hidden)" if secret else repr(error.get("input"))
    if len(got) > 60:  # a whole camera or list pasted in the wrong place
        got = got[:57] + "..."
    if kind == "extra_forbidden":
        inner = _model_at(loc, model)
        key = str(loc[-1])
        known = list(inner.model_fields) if inner else []
        hint = difflib.get_close_matches(key, known, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"{where}: unknown key {key!r}{suggestion}"
    if kind == "missing":
        return f"{where}: is required"
    if kind == "literal_error":
        return f"{where}: {got} is not accepted; expected {ctx.get('expected')}"
    if kind in _LIMITS:
        limit = _LIMITS[kind].format(**ctx)
        return f"{where}: {got} is out of range (must be {limit})"
    if kind == "string_too_short":
        return f"{where}: must not be empty"
    for prefix, words in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_") or kind == prefix:
            return f"{where}: {got} is not accepted; expected {words}"
    message = error["msg"]
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    return f"{where}: {message}"
