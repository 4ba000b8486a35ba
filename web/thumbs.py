"""Frame thumbnails for the pages and the API: the library makes and caches them
(:mod:`pylapse.imaging.thumbs`, sizes ``"thumb"`` and ``"preview"``); this module names them for
the web layer, which serves them by frame id (``GET /api/frames/{id}/thumb?size=...``)."""

from __future__ import annotations

from pylapse.imaging.thumbs import (
    CACHE_BUDGET,
    SIZES,
    THUMB_QUALITY,
    THUMB_WIDTH,
    ThumbnailError,
    cached,
    make_thumbnail,
    prune,
    thumbnail,
    thumbnail_path,
)

__all__ = [
    "CACHE_BUDGET",
    "SIZES",
    "THUMB_QUALITY",
    "THUMB_WIDTH",
    "ThumbnailError",
    "cached",
    "make_thumbnail",
    "prune",
    "thumbnail",
    "thumbnail_path",
]
