"""Small cached thumbnails of frames, made once per frame and served by frame id.

A thumbnail lives at ``<data_dir>/thumbs/<id // 1000>/<id>-<mtime>-<size>-<path>.jpg`` (the
last part a short hash of the frame's path): a replaced file, or an id SQLite hands out again
after frames were forgotten (a removed collection, an index rebuild), never shows a stale
picture, also for scanned frames whose mtime and size the index does not know. JPEG draft mode
decodes at 1/2-1/8 scale, so even a 24 MP frame costs a few milliseconds, once.

The cache is bounded (:data:`CACHE_BUDGET`): whenever a thumbnail opens a new bucket folder (one
per thousand frame ids), the least recently filled buckets are removed until the cache fits.
Years of browsing a camera that shoots every 10 s would otherwise fill the disk with pictures
that are cheap to make again.

A thumbnail is made only of a file inside the frame's roots (the storage roots), checked when it
is asked for, also when it is cached: a frame replaced by a link out of the roots afterwards is
refused (:class:`pylapse.storage.PathNotAllowed`) instead of shown.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from PIL import Image, ImageOps

from pylapse import storage
from pylapse.imaging import decode

if TYPE_CHECKING:
    from pylapse.index.frame import Frame

THUMB_WIDTH = 400
THUMB_QUALITY = 78
CACHE_BUDGET = 512 * 1024 * 1024  # bytes


class ThumbnailError(Exception):
    """The frame's file is missing or not a readable image."""


def thumbnail_path(cache_dir: Path, frame: Frame) -> Path:
    stamp = int(float(frame.mtime or 0) * 1000)
    where = hashlib.sha1(os.fsencode(frame.path), usedforsecurity=False).hexdigest()[:10]
    # "u": upright thumbnails (EXIF orientation applied); older sideways ones are not served
    name = f"{frame.id}-{stamp}-{frame.size or 0}-{where}-u.jpg"
    return cache_dir / f"{frame.id // 1000:05d}" / name


def make_thumbnail(
    source: Path | BinaryIO, width: int = THUMB_WIDTH, name: str | None = None
) -> bytes:
    """A small JPEG of an image file (or file-like object; ``name`` names it in errors)."""
    if name is None:
        name = source.name if isinstance(source, Path) else str(getattr(source, "name", "image"))
    try:
        with decode.open_image(source) as opened:  # HEIC and DNG (its largest preview) too
            opened.draft("RGB", (width, width))  # JPEG: decode at reduced scale
            # upright as the camera meant it (phones and many cameras store the pixels sideways
            # and say so in EXIF Orientation), before convert() drops the EXIF
            image = ImageOps.exif_transpose(opened).convert("RGB")
            image.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=THUMB_QUALITY, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"{name}: cannot make a thumbnail: {exc}") from None
    return out.getvalue()


def thumbnail(
    cache_dir: Path,
    frame: Frame,
    budget: int = CACHE_BUDGET,
    *,
    roots: Iterable[str | os.PathLike[str]],
) -> Path:
    """The cached thumbnail of ``frame`` (an index Frame), made on first request.

    Raises :class:`pylapse.storage.PathNotAllowed` when the frame's file does not resolve
    inside ``roots`` now, :class:`ThumbnailError` when it is gone or not an image.
    """
    path = thumbnail_path(cache_dir, frame)
    if path.is_file():
        storage.confine(frame.path, roots)  # the file may have been swapped since
        return path
    name = Path(frame.path).name
    try:
        handle, _real = storage.open_confined(frame.path, roots)
    except storage.PathNotAllowed:
        raise
    except OSError as exc:
        raise ThumbnailError(f"{name}: cannot make a thumbnail: {exc.strerror or exc}") from None
    with handle:
        data = make_thumbnail(handle, name=name)
    new_bucket = not path.parent.is_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.atomic_write(path, data)
    if new_bucket:
        prune(cache_dir, budget, keep=path.parent)
    return path


def prune(cache_dir: Path, budget: int = CACHE_BUDGET, keep: Path | None = None) -> int:
    """Remove whole buckets, least recently filled first, until the cache is within ``budget``
    bytes; ``keep`` (the bucket just written to) stays. Returns the buckets removed."""
    buckets = []
    try:
        entries = list(os.scandir(cache_dir))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if entry.is_dir():
            size = sum(f.stat().st_size for f in os.scandir(entry.path) if f.is_file())
            buckets.append((entry.stat().st_mtime, entry.path, size))
    total = sum(size for _mtime, _path, size in buckets)
    removed = 0
    for _mtime, bucket, size in sorted(buckets):
        if total <= budget:
            break
        if keep is not None and bucket == os.fspath(keep):
            continue
        shutil.rmtree(bucket, ignore_errors=True)
        total -= size
        removed += 1
    return removed
