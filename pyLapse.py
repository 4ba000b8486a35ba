"""pyLapse 0.2's import path, kept so 0.2 scripts run: ``pyLapse.img_seq`` is ``pylapse.compat``.

``from pyLapse.img_seq import Collection`` and ``from pyLapse.img_seq.cameras import Camera``
give the 0.2-shaped names of :mod:`pylapse.compat` (the very same modules, registered under
their old names), with one ``DeprecationWarning`` naming the new import.

This is a module, not a ``pyLapse/`` folder: on case-insensitive file systems (Windows, macOS)
a ``pyLapse`` folder and the ``pylapse`` package are one folder, in a checkout and in
site-packages alike; ``pyLapse.py`` and ``pylapse/`` are two names everywhere.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import pylapse
import pylapse.compat as img_seq

__version__ = pylapse.__version__
__path__: list[str] = []  # a package with no folder: its submodules are the aliases below
__all__ = ["img_seq"]

sys.modules[f"{__name__}.img_seq"] = img_seq
for _name in img_seq.SUBMODULES:
    sys.modules[f"{__name__}.img_seq.{_name}"] = importlib.import_module(f"pylapse.compat.{_name}")


warnings.warn(
    "pyLapse.img_seq is pyLapse 0.2's import path: import the same names from pylapse.compat "
    "(0.2's shapes and defaults), or move to `from pylapse import Camera, Collection, "
    "render_sequence_to_video` (see docs/migrating-from-0.2.md)",
    DeprecationWarning,
    stacklevel=2,  # the importing line: warn() skips the import machinery's frames
)
