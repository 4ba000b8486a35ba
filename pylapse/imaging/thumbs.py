"""Small cached pictures of frames, in two sizes, made once per frame file and kept by frame id.

Sizes (:data:`SIZES`): ``"thumb"`` (400 px wide, the grids and day pages) and ``"preview"``
(960 px wide, the day player). A picture lives at
``<cache>/<id // 1000>/<id>-<mtime>-<size>-<path>-<suffix>.jpg`` (``<path>`` a short hash of the
frame's path, ``<suffix>`` naming the size): a replaced file, or an id SQLite hands out again
after frames were forgotten (a removed collection, an index rebuild), never shows a stale
picture, and a cache left by a stopped process is still right after a restart. JPEG draft mode
decodes at 1/2-1/8 scale, so even a 24 MP frame costs some tens of milliseconds, once.

The cache is bounded (:data:`CACHE_BUDGET`): whenever a picture opens a new bucket folder (one
per thousand frame ids), the least recently filled buckets are removed until the cache fits.
Years of browsing a camera that shoots every 10 s would otherwise fill the disk with pictures
that are cheap to make again.

A picture is made only of a file inside the frame's roots (the storage roots), checked when it
is asked for, also when it is cached: a frame replaced by a link out of the roots afterwards is
refused (:class:`pylapse.storage.PathNotAllowed`) instead of shown.

This module knows frames only by the four fields it reads (:class:`FrameFile`), so the imaging
wing stays below the index. :mod:`pylapse.imaging.thumbmaker` makes them ahead of time, after
capture and scans.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from PIL import Image, ImageOps

from pylapse import storage
from pylapse.imaging import decode

__all__ = [
    "CACHE_BUDGET",
    "SIZES",
    "FrameFile",
    "Size",
    "ThumbnailError",
    "make_thumbnail",
    "prune",
    "thumbnail",
    "thumbnail_path",
]

Size = Literal["thumb", "preview"]

#: width in pixels, JPEG quality and the file-name suffix of each size. The thumb's suffix "u"
#: (upright: EXIF orientation applied) is the one caches made before the preview size use.
SIZES: dict[str, tuple[int, int, str]] = {
    "thumb": (400, 78, "u"),
    "preview": (960, 82, "p960"),
}
THUMB_WIDTH = SIZES["thumb"][0]
THUMB_QUALITY = SIZES["thumb"][1]
CACHE_BUDGET = 512 * 1024 * 1024  # bytes
_ORIENTATION = 0x0112  # the EXIF tag


class FrameFile(Protocol):
    """What a picture is made from and named by (an index ``Frame`` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def path(self) -> Path: ...
    @property
    def mtime(self) -> float | None: ...
    @property
    def size(self) -> int | None: ...


class ThumbnailError(Exception):
    """The frame's file is missing or not a readable image."""


def _spec(size: str) -> tuple[int, int, str]:
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown picture size {size!r} (one of {', '.join(SIZES)})") from None


def thumbnail_path(cache_dir: Path, frame: FrameFile, size: str = "thumb") -> Path:
    suffix = _spec(size)[2]
    stamp = int(float(frame.mtime or 0) * 1000)
    where = hashlib.sha1(os.fsencode(frame.path), usedforsecurity=False).hexdigest()[:10]
    name = f"{frame.id}-{stamp}-{frame.size or 0}-{where}-{suffix}.jpg"
    return cache_dir / f"{frame.id // 1000:05d}" / name


def make_thumbnail(
    source: Path | BinaryIO,
    width: int = THUMB_WIDTH,
    name: str | None = None,
    quality: int = THUMB_QUALITY,
) -> bytes:
    """A small JPEG of an image file (or file-like object; ``name`` names it in errors)."""
    if name is None:
        name = source.name if isinstance(source, Path) else str(getattr(source, "name", "image"))
    try:
        with decode.open_image(source) as opened:  # HEIC and DNG (its largest preview) too
            # JPEG: decode at the smallest scale still at least ``width`` wide once upright
            # (EXIF orientations 5-8 store the picture sideways): half the time of asking for a
            # ``width`` square, the same picture (40+ dB PSNR against a full decode)
            sideways = opened.getexif().get(_ORIENTATION) in (5, 6, 7, 8)
            opened.draft("RGB", (1, width) if sideways else (width, 1))
            # upright as the camera meant it (phones and many cameras store the pixels sideways
            # and say so in EXIF Orientation), before convert() drops the EXIF
            image = ImageOps.exif_transpose(opened).convert("RGB")
            image.thumbnail((width, width * 4), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=quality, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"{name}: cannot make a thumbnail: {exc}") from None
    return out.getvalue()


def cached(
    cache_dir: Path,
    frame: FrameFile,
    size: str = "thumb",
    *,
    roots: Iterable[str | os.PathLike[str]],
) -> Path | None:
    """The picture of ``frame`` if it is already made (and the file is still inside ``roots``)."""
    path = thumbnail_path(cache_dir, frame, size)
    if not path.is_file():
        return None
    storage.confine(frame.path, roots)  # the file may have been swapped since
    return path


def thumbnail(
    cache_dir: Path,
    frame: FrameFile,
    budget: int = CACHE_BUDGET,
    *,
    roots: Iterable[str | os.PathLike[str]],
    size: str = "thumb",
) -> Path:
    """The cached picture of ``frame`` in ``size`` (:data:`SIZES`), made on first request.

    Raises :class:`pylapse.storage.PathNotAllowed` when the frame's file does not resolve
    inside ``roots`` now, :class:`ThumbnailError` when it is gone or not an image.
    """
    roots = list(roots)
    found = cached(cache_dir, frame, size, roots=roots)
    if found is not None:
        return found
    width, quality, _suffix = _spec(size)
    path = thumbnail_path(cache_dir, frame, size)
    name = Path(frame.path).name
    try:
        handle, _real = storage.open_confined(frame.path, roots)
    except storage.PathNotAllowed:
        raise
    except OSError as exc:
        raise ThumbnailError(f"{name}: cannot make a thumbnail: {exc.strerror or exc}") from None
    with handle:
        data = make_thumbnail(handle, width=width, name=name, quality=quality)
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
