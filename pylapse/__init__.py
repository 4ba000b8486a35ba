"""pyLapse: long-term timelapse capture, indexing, selection, export and rendering.

The public API, re-exported lazily so ``import pylapse`` costs nothing::

    from pylapse import Camera, Collection, render_sequence_to_video
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.3.0"

_EXPORTS = {
    "Camera": "pylapse.capture",
    "Collection": "pylapse.collection",
    "render_sequence_to_video": "pylapse.video",
    "render_frames": "pylapse.video",
    "RenderOptions": "pylapse.video",
    "Selection": "pylapse.selection",
    "ExportOptions": "pylapse.export",
    "run_export": "pylapse.export",
    "Config": "pylapse.config",
    "ConfigError": "pylapse.config",
    "load_config": "pylapse.config",
    "save_config": "pylapse.config",
    "FrameIndex": "pylapse.index",
    "Frame": "pylapse.index",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pylapse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
