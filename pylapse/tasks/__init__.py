"""Use cases web, CLI and API share: running presets, rendering, removing cameras/collections.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.tasks.export import VideoAfter, queue_export, video_output
    from pylapse.tasks.removal import (
        SIZE_SAMPLE,
        DeleteResult,
        FilesPreview,
        KeptFrames,
        RemovalRefused,
        delete_frames,
        presets_using,
        preview_files,
        removal_blockers,
        remove_camera,
        remove_collection,
    )
    from pylapse.tasks.render import queue_render, render, usable_codecs

_WHERE = {
    "VideoAfter": "export",
    "queue_export": "export",
    "video_output": "export",
    "queue_render": "render",
    "render": "render",
    "usable_codecs": "render",
    "DeleteResult": "removal",
    "FilesPreview": "removal",
    "KeptFrames": "removal",
    "RemovalRefused": "removal",
    "SIZE_SAMPLE": "removal",
    "delete_frames": "removal",
    "presets_using": "removal",
    "preview_files": "removal",
    "removal_blockers": "removal",
    "remove_camera": "removal",
    "remove_collection": "removal",
}

__all__ = [
    "SIZE_SAMPLE",
    "DeleteResult",
    "FilesPreview",
    "KeptFrames",
    "RemovalRefused",
    "VideoAfter",
    "delete_frames",
    "presets_using",
    "preview_files",
    "queue_export",
    "queue_render",
    "removal_blockers",
    "remove_camera",
    "remove_collection",
    "render",
    "usable_codecs",
    "video_output",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
