"""Lazy package faces: a wing's ``__init__`` names what it offers without importing it all.

A face that imported its modules eagerly would make ``import pylapse.index.daycounts`` load the
whole index (and a sibling importing through the face could see it half-initialised); a lazy face
loads a module the first time one of its names is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_face(
    package: str, where: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` offering ``where``'s names.

    ``where`` maps each public name to the module that defines it: relative to ``package``, or
    absolute (``pylapse.storage``) for a name the wing offers from elsewhere.
    """
    names = sorted(where)

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = module if module.startswith("pylapse.") else f"{package}.{module}"
        value = getattr(importlib.import_module(target), name)
        setattr(importlib.import_module(package), name, value)  # later lookups skip this
        return value

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__
