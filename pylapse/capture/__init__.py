"""Capture: cameras, schedules, triggers, retries, health, pausing, camera leases, disk, previews.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.capture.camera import (
        Camera,
        CaptureResult,
        Grab,
        ImageMetrics,
        NotIndexed,
        image_metrics,
    )

_WHERE = {
    "Camera": "camera",
    "CaptureResult": "camera",
    "Grab": "camera",
    "ImageMetrics": "camera",
    "NotIndexed": "camera",
    "image_metrics": "camera",
}

__all__ = [
    "Camera",
    "CaptureResult",
    "Grab",
    "ImageMetrics",
    "NotIndexed",
    "image_metrics",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
