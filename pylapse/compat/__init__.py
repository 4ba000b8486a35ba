"""pyLapse 0.2's API (``from pyLapse.img_seq import ...``) on today's engine.

The names 0.2 exported from ``pyLapse.img_seq``, with 0.2's signatures, defaults and return
values, built on the frame index, selection, export and video wings (not 0.2's code). The old
import path ``pyLapse.img_seq`` (and its submodules ``cameras``, ``collections``, ``image``,
``video``, ``fonts``) is an alias of this package, made by the top-level ``pyLapse`` module.
Differences from 0.2, each a fixed bug or a deliberate change, are listed in
docs/migrating-from-0.2.md.

This face re-exports the names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.compat.cameras import Camera
    from pylapse.compat.collections import Collection, Export
    from pylapse.compat.fonts import (
        get_default_font,
        get_google_font,
        get_system_fonts,
        list_available_fonts,
    )
    from pylapse.compat.image import ImageIO, ImageSet, imageset_load, save_image
    from pylapse.compat.video import render_sequence_to_video

_WHERE = {
    "Camera": "cameras",
    "Collection": "collections",
    "Export": "collections",
    "ImageIO": "image",
    "ImageSet": "image",
    "get_default_font": "fonts",
    "get_google_font": "fonts",
    "get_system_fonts": "fonts",
    "imageset_load": "image",
    "list_available_fonts": "fonts",
    "render_sequence_to_video": "video",
    "save_image": "image",
}

#: 0.2's ``pyLapse.img_seq.__all__``, name for name
__all__ = [
    "Camera",
    "Collection",
    "Export",
    "ImageIO",
    "ImageSet",
    "get_default_font",
    "get_google_font",
    "get_system_fonts",
    "imageset_load",
    "list_available_fonts",
    "render_sequence_to_video",
    "save_image",
]

#: the submodules 0.2 had under ``pyLapse.img_seq`` that scripts imported from
SUBMODULES = ("cameras", "collections", "image", "video", "fonts")

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
