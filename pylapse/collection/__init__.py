"""Collection: a named set of frames (a folder, a zone, the frame index) and its exports, the
0.2-shaped facade over index, selection and export.

This face re-exports the wing's public names lazily (see pylapse.lazy_face):
``from pylapse.collection import Collection`` is the import path it always had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.collection.cache import cache_dir
    from pylapse.collection.collection import Collection
    from pylapse.collection.exports import CollectionExport, CollectionExports
    from pylapse.collection.folder import FolderState, FolderStatus

_WHERE = {
    "Collection": "collection",
    "CollectionExport": "exports",
    "CollectionExports": "exports",
    "FolderState": "folder",
    "FolderStatus": "folder",
    "cache_dir": "cache",
}

__all__ = [
    "Collection",
    "CollectionExport",
    "CollectionExports",
    "FolderState",
    "FolderStatus",
    "cache_dir",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
