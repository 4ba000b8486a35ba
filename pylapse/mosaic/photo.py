"""The photomosaic: a target image rebuilt from tiles that are a collection's own frames.

The target is cut into ``tile`` x ``tile`` pixel cells; each cell, reduced to the vectors' ``side``
x ``side``, is replaced by the frame whose vector (:mod:`pylapse.mosaic.tilecache`) is nearest in
L2, found exactly by :class:`pylapse.mosaic.search.TileIndex` (clusters of the codebook and
triangle-inequality bounds: tens of times faster than comparing every cell with every frame on
real tiles; built once per set of vectors and kept while they live, so a video mosaic builds it
once). ``repeat`` limits how often one frame may be used: cells then take their nearest frame
still free, in order of how well their best match fits (so the cells with the closest matches are
served first), from their nearest few found by the index (all free rows compared, in blocks, only
for cells whose few are all taken). ``opacity`` blends the target over the
result. Chosen frames are decoded once each, at the tile's size by DCT scaling.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse.imaging.decode import open_image
from pylapse.mosaic.search import TileIndex
from pylapse.mosaic.tilecache import TileVectors, centre_square
from pylapse.pictures.frames import default_workers
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle, safe_report

__all__ = ["PhotoMosaic", "cell_vectors", "nearest", "photomosaic", "tile_index"]

CANDIDATES = 16  # nearest frames found per cell under a repeat limit
REFILL = 64  # cells compared with every row in one product when their nearest few are taken
FAR_VALUES = 1 << 24  # at most this many distances held for them (64 MB): memory stays flat
MATCH, TILES = "match", "tiles"  # the progress stages


@dataclass(frozen=True, eq=False)
class PhotoMosaic:
    image: Image.Image
    choices: npt.NDArray[np.int64]  # per cell (row-major): the row of the vectors it took
    grid: tuple[int, int]  # rows, columns


def cell_vectors(target: Image.Image, tile: int, side: int) -> tuple[npt.NDArray[np.float32],
                                                                     tuple[int, int]]:  # fmt: skip
    """The vector of each ``tile``-pixel cell of ``target`` (row-major) and (rows, columns);
    the target's edge beyond whole cells is left out."""
    cols, rows = target.width // tile, target.height // tile
    if cols < 1 or rows < 1:
        raise ValueError(
            f"tile: {tile} px is larger than the target ({target.width}x{target.height})"
        )
    cropped = target.convert("RGB").crop((0, 0, cols * tile, rows * tile))
    small = np.asarray(cropped.resize((cols * side, rows * side), Image.Resampling.BOX), np.float32)
    cells = small.reshape(rows, side, cols, side, 3).transpose(0, 2, 1, 3, 4)
    return cells.reshape(rows * cols, side * side * 3), (rows, cols)


def nearest(
    cells: npt.NDArray[np.float32],
    codebook: npt.NDArray[np.float32],
    repeat: int | None = None,
    cancel: threading.Event | None = None,
    index: TileIndex | None = None,
) -> npt.NDArray[np.int64]:
    """For each cell the row of ``codebook`` nearest in L2 (each row used at most ``repeat``
    times, when given). ``index`` is a :class:`TileIndex` of ``codebook`` (built here when
    not given)."""
    n = len(codebook)
    if n == 0:
        raise ValueError("the collection has no frames to make tiles of")
    if repeat is not None:
        if repeat < 1:
            raise ValueError(f"repeat: {repeat} must be at least 1")
        if repeat * n < len(cells):
            raise ValueError(
                f"repeat: {n} frames used at most {repeat} times each cannot fill "
                f"{len(cells)} tiles; allow more repeats or use larger tiles"
            )
    if index is None:
        index = TileIndex(codebook)
    if repeat is None:
        return index.search(cells, 1, cancel)[0][:, 0]
    return _limited(cells, codebook, index, repeat, cancel)


def _limited(cells: npt.NDArray[np.float32], codebook: npt.NDArray[np.float32],
             index: TileIndex, repeat: int,
             cancel: threading.Event | None) -> npt.NDArray[np.int64]:  # fmt: skip
    # the first free row of a cell's nearest few (nearest first) is its nearest free row: every
    # nearer row is among the few and taken. Cells whose few are all taken (a large even area
    # of the target wants the same frames) are compared with every row, REFILL at a time in one
    # matrix product, full rows masked (and masked again as more fill up while they wait):
    # asking the index again is slow once the near rows are gone (loose bounds)
    found, distances = index.search(cells, min(CANDIDATES, len(codebook)), cancel)
    used = np.zeros(len(codebook), np.int64)
    out = np.empty(len(cells), np.int64)
    norms = np.einsum("ij,ij->i", codebook, codebook)
    order = np.argsort(distances[:, 0], kind="stable")  # the closest matches are served first
    waiting: dict[int, int] = {}  # cell -> its row of ``far``
    far = np.empty((0, len(codebook)), np.float32)
    for pos, i in enumerate(order.tolist()):
        free = found[i][used[found[i]] < repeat]
        if len(free):
            choice = int(free[0])
        else:
            if i not in waiting:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the photomosaic was cancelled")
                later = order[pos:]
                taken = ~(used[found[later]] < repeat).any(axis=1)  # taken now stays taken
                block = later[taken][: max(1, min(REFILL, FAR_VALUES // len(codebook)))]
                far = norms[None, :] - 2.0 * (cells[block] @ codebook.T)
                far[:, used >= repeat] = np.inf
                waiting = {cell: r for r, cell in enumerate(block.tolist())}
            choice = int(np.argmin(far[waiting[i]]))
        used[choice] += 1
        out[i] = choice
        if used[choice] >= repeat:
            far[:, choice] = np.inf
    return out


_INDEXES: weakref.WeakKeyDictionary[TileVectors, TileIndex] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def tile_index(vectors: TileVectors) -> TileIndex:
    """The index of ``vectors``, built on first use and kept while they live (a video mosaic
    matches every output frame against the same vectors)."""
    with _INDEXES_LOCK:
        index = _INDEXES.get(vectors)
    if index is None:
        index = TileIndex(vectors.vectors)
        with _INDEXES_LOCK:
            _INDEXES[vectors] = index
    return index


def _tile_image(path: str, tile: int) -> Image.Image:
    with open_image(path) as image:
        image.draft("RGB", (tile, tile))
        rgb = image.convert("RGB") if image.mode != "RGB" else image
        return centre_square(rgb).resize((tile, tile), Image.Resampling.BILINEAR)


def _paint(vectors: TileVectors, choices: npt.NDArray[np.int64], grid: tuple[int, int], tile: int,
           progress: ProgressCallback | None, cancel: threading.Event | None,
           workers: int | None, held: dict[int, Image.Image | None]) -> Image.Image:  # fmt: skip
    rows, cols = grid
    canvas = Image.new("RGB", (cols * tile, rows * tile))
    chosen: Sequence[int] = sorted(set(choices.tolist()))
    cells: dict[int, list[int]] = {}
    for cell, row in enumerate(choices.tolist()):
        cells.setdefault(row, []).append(cell)
    report = Throttle(progress)

    def decode(row: int) -> tuple[int, Image.Image | None]:
        if row in held:
            return row, held[row]
        if cancel is not None and cancel.is_set():
            return row, None
        try:
            image: Image.Image | None = _tile_image(str(vectors.paths[row]), tile)
        except (OSError, ValueError, SyntaxError):  # a frame gone since: its cells stay black
            image = None
        held[row] = image
        return row, image

    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        for done, (row, image) in enumerate(pool.map(decode, chosen), 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("the photomosaic was cancelled")
            if image is not None:
                for cell in cells[row]:
                    canvas.paste(image, ((cell % cols) * tile, (cell // cols) * tile))
            report(Progress(TILES, done, len(chosen)))
    return canvas


def photomosaic(
    target: Image.Image,
    vectors: TileVectors,
    tile: int,
    *,
    repeat: int | None = None,
    opacity: float = 0.0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    held: dict[int, Image.Image | None] | None = None,
) -> PhotoMosaic:
    """``target`` rebuilt from the frames of ``vectors``, ``tile`` pixels a cell. ``held``
    keeps the decoded tiles (by vector row) between calls with the same vectors and tile size:
    a video mosaic decodes each frame it uses once, not once per output frame."""
    if tile < 2:
        raise ValueError(f"tile: {tile} must be at least 2 pixels")
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity: {opacity} must be between 0 and 1")
    cells, grid = cell_vectors(target, tile, vectors.side)
    safe_report(progress, Progress(MATCH, 0, 1))
    if len(vectors) == 0:
        raise ValueError("the collection has no frames to make tiles of")
    choices = nearest(cells, vectors.vectors, repeat, cancel, tile_index(vectors))
    safe_report(progress, Progress(MATCH, 1, 1, message=f"{len(set(choices.tolist()))} frames"))
    image = _paint(vectors, choices, grid, tile, progress, cancel, workers,
                   {} if held is None else held)  # fmt: skip
    if opacity > 0:
        under = target.convert("RGB").crop((0, 0, image.width, image.height))
        image = Image.blend(image, under, opacity)
    return PhotoMosaic(image, choices, grid)
