"""The tile vectors of a collection for photomosaics, cached in the data folder and refreshed
incrementally.

A frame's vector is its centre square (the part a square tile shows) reduced to ``side`` x
``side`` RGB pixels, as float32 (``side`` 4: 48 numbers). Decoding is at 1/8 by DCT scaling, so a
vector costs a fraction of a frame's full decode. The cache (``<folder>/<key>-<side>.npz``) holds
each frame's index id, file size and mtime beside its vector: a refresh keeps the vectors of
frames whose (id, size, mtime) is unchanged, drops those of frames gone, and computes only the new
or changed ones, so adding 1 % of frames costs about 1 % of a rebuild. The file is replaced
atomically; an unreadable cache is rebuilt.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse import storage
from pylapse.imaging.decode import open_image
from pylapse.pictures.frames import default_workers
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

__all__ = ["DEFAULT_SIDE", "CacheFrame", "TileVectors", "frame_vector", "refresh_vectors"]

log = logging.getLogger(__name__)

DEFAULT_SIDE = 4
VECTORS = "vectors"  # the progress stage of computing vectors


class CacheFrame(Protocol):
    """What the cache needs of a frame (``pylapse.index.frame.Frame`` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def path(self) -> Path: ...
    @property
    def size(self) -> int | None: ...
    @property
    def mtime(self) -> float | None: ...


@dataclass(frozen=True, eq=False)
class TileVectors:
    """Frames (ids, paths, file sizes, mtimes) and their vectors, one row each, in id order."""

    ids: npt.NDArray[np.int64]
    paths: npt.NDArray[np.str_]
    sizes: npt.NDArray[np.int64]
    mtimes: npt.NDArray[np.float64]
    vectors: npt.NDArray[np.float32]
    side: int

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def empty(cls, side: int) -> TileVectors:
        none = np.empty(0, np.int64)
        return cls(none, np.empty(0, np.str_), none, np.empty(0, np.float64),
                   np.empty((0, 3 * side * side), np.float32), side)  # fmt: skip


def centre_square(image: Image.Image) -> Image.Image:
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return image.crop((left, top, left + s, top + s))


def frame_vector(path: str | os.PathLike[str], side: int = DEFAULT_SIDE) -> npt.NDArray[np.float32]:
    """The vector of the frame at ``path``: its centre square reduced to side x side RGB."""
    with open_image(path) as image:
        image.draft("RGB", (side * 8, side * 8))  # at least 8 pixels per cell survive
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        small = centre_square(rgb).resize((side, side), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32).reshape(-1)


def _cache_path(folder: Path, key: str, side: int) -> Path:
    safe = re.sub(r"[^\w-]+", "-", key).strip("-") or "collection"
    return folder / f"{safe}-{side}.npz"


def _load(path: Path, side: int) -> TileVectors:
    try:
        with np.load(path, allow_pickle=False) as data:
            found = TileVectors(data["ids"], data["paths"], data["sizes"], data["mtimes"],
                                data["vectors"], side)  # fmt: skip
    except (OSError, ValueError, KeyError) as exc:
        if path.exists():
            log.warning("tile cache %s is unreadable (%s); rebuilding it", path, exc)
        return TileVectors.empty(side)
    if found.vectors.shape[1:] != (3 * side * side,):
        return TileVectors.empty(side)
    return found


def _save(path: Path, vectors: TileVectors) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, ids=vectors.ids, paths=vectors.paths, sizes=vectors.sizes,
             mtimes=vectors.mtimes, vectors=vectors.vectors)  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.atomic_write(path, buffer.getvalue())


def _compute(
    paths: Sequence[str],
    side: int,
    workers: int | None,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[npt.NDArray[np.float32], list[bool]]:
    out = np.zeros((len(paths), 3 * side * side), np.float32)
    ok = [False] * len(paths)
    report = Throttle(progress)

    def one(i: int) -> None:
        if cancel is not None and cancel.is_set():
            return
        try:
            out[i] = frame_vector(paths[i], side)
            ok[i] = True
        except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises on a bad file
            log.warning("cannot read %s: %s", paths[i], exc)

    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        for done, _ in enumerate(pool.map(one, range(len(paths))), 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("the tile vectors were cancelled")
            report(Progress(VECTORS, done, len(paths)))
    return out, ok


def _keys(frames: Sequence[CacheFrame]) -> list[tuple[int, int, float]]:
    return [(f.id, f.size or -1, f.mtime or -1.0) for f in frames]


def refresh_vectors(
    frames: Iterable[CacheFrame],
    folder: str | os.PathLike[str],
    key: str,
    *,
    side: int = DEFAULT_SIDE,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
) -> TileVectors:
    """The vectors of ``frames`` (the collection's frames now), from the cache of ``key`` in
    ``folder`` plus those computed for new or changed frames; the cache is saved when it
    changed. Frames that cannot be read are left out (and tried again next time)."""
    if not 1 <= side <= 16:
        raise ValueError(f"side: {side} must be 1 to 16 pixels")
    now = sorted(frames, key=lambda f: f.id)
    path = _cache_path(Path(folder), key, side)
    cached = _load(path, side)
    known: dict[tuple[int, int, float], int] = {
        (int(i), int(s), float(m)): row
        for row, (i, s, m) in enumerate(zip(cached.ids, cached.sizes, cached.mtimes, strict=True))
    }
    keys = _keys(now)
    rows = [known.get(k, -1) for k in keys]
    fresh = [n for n, row in enumerate(rows) if row < 0]
    computed, ok = _compute([str(now[n].path) for n in fresh], side, workers, progress, cancel)
    vectors = np.empty((len(now), 3 * side * side), np.float32)
    keep = np.ones(len(now), bool)
    old = [n for n, row in enumerate(rows) if row >= 0]
    if old:
        vectors[old] = cached.vectors[[rows[n] for n in old]]
    for j, n in enumerate(fresh):
        vectors[n] = computed[j]
        keep[n] = ok[j]
    result = TileVectors(
        np.array([k[0] for k in keys], np.int64)[keep],
        np.array([str(f.path) for f in now], np.str_)[keep] if now else np.empty(0, np.str_),
        np.array([k[1] for k in keys], np.int64)[keep],
        np.array([k[2] for k in keys], np.float64)[keep],
        vectors[keep],
        side,
    )
    if fresh or len(result) != len(cached):
        _save(path, result)
    return result
