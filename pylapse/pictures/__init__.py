"""Pictures made from many frames: daystrips, keograms, time slices, stacks, colour maps.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.pictures.kinds import ONE_DAY_KINDS, PictureError, PictureKind
    from pylapse.pictures.make import Pictures, make_picture
    from pylapse.pictures.manifest import SavedPicture, list_pictures, save_picture
    from pylapse.pictures.request import Picture, PictureRequest

_WHERE = {
    "ONE_DAY_KINDS": "kinds",
    "PictureError": "kinds",
    "PictureKind": "kinds",
    "Picture": "request",
    "PictureRequest": "request",
    "Pictures": "make",
    "make_picture": "make",
    "SavedPicture": "manifest",
    "list_pictures": "manifest",
    "save_picture": "manifest",
}

__all__ = [
    "ONE_DAY_KINDS",
    "Picture",
    "PictureError",
    "PictureKind",
    "PictureRequest",
    "Pictures",
    "SavedPicture",
    "list_pictures",
    "make_picture",
    "save_picture",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
