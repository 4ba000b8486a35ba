"""Small cached thumbnails of frames, made once per frame and served by frame id.

A thumbnail lives at ``<data_dir>/thumbs/<id // 1000>/<id>-<mtime>-<size>.jpg``: the frame's
mtime and size are part of the name, so a replaced file (or an id reused after an index rebuild)
never shows a stale picture. JPEG draft mode decodes at 1/2-1/8 scale, so even a 24 MP frame
costs a few milliseconds, once.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image

from pylapse import storage

THUMB_WIDTH = 400
THUMB_QUALITY = 78


class ThumbnailError(Exception):
    """The frame's file is missing or not a readable image."""


def thumbnail_path(cache_dir: Path, frame: Any) -> Path:
    stamp = int(float(frame.mtime or 0) * 1000)
    return cache_dir / f"{frame.id // 1000:05d}" / f"{frame.id}-{stamp}-{frame.size or 0}.jpg"


def make_thumbnail(source: Path | BinaryIO, width: int = THUMB_WIDTH) -> bytes:
    """A small JPEG of an image file (or file-like object)."""
    name = getattr(source, "name", "image") if not isinstance(source, Path) else source.name
    try:
        with Image.open(source) as image:
            image.draft("RGB", (width, width))  # JPEG: decode at reduced scale
            image = image.convert("RGB")
            image.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=THUMB_QUALITY, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"{name}: cannot make a thumbnail: {exc}") from None
    return out.getvalue()


def thumbnail(cache_dir: Path, frame: Any) -> Path:
    """The cached thumbnail of ``frame`` (an index Frame), made on first request."""
    path = thumbnail_path(cache_dir, frame)
    if not path.is_file():
        data = make_thumbnail(Path(frame.path))
        path.parent.mkdir(parents=True, exist_ok=True)
        storage.atomic_write(path, data)
    return path
