"""The frame index: the SQLite store, its schema, frames, day counts, date sources, the scan.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.index.frame import Frame
    from pylapse.index.scan import DEFAULT_EXTENSIONS, ScanError
    from pylapse.index.scan_result import ScanResult
    from pylapse.index.store import METRIC_COLUMNS, FrameIndex

_WHERE = {
    "DEFAULT_EXTENSIONS": "scan",
    "Frame": "frame",
    "FrameIndex": "store",
    "METRIC_COLUMNS": "store",
    "ScanError": "scan",
    "ScanResult": "scan_result",
}

__all__ = [
    "DEFAULT_EXTENSIONS",
    "METRIC_COLUMNS",
    "Frame",
    "FrameIndex",
    "ScanError",
    "ScanResult",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
