"""The exact tile search: the rows it finds are the nearest (compared with every row in float64)
on structured vectors (tiles of real frames), on random ones, with duplicate rows, for the k
nearest, and under the photomosaic's repeat limit; a cancel stops it."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from pylapse.mosaic.photo import CANDIDATES, cell_vectors, nearest
from pylapse.mosaic.search import TileIndex
from pylapse.progress import Cancelled

REAL = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "sequence-real"


def _exact(cells: npt.NDArray[np.float32], codebook: npt.NDArray[np.float32]
           ) -> npt.NDArray[np.float64]:  # fmt: skip
    """Squared distances of every cell to every row, in float64."""
    a, b = cells.astype(np.float64), codebook.astype(np.float64)
    d: npt.NDArray[np.float64] = (a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None, :]
    return np.maximum(d, 0.0)


def _assert_nearest(cells: npt.NDArray[np.float32], codebook: npt.NDArray[np.float32],
                    found: npt.NDArray[np.int64], k: int = 1) -> None:  # fmt: skip
    exact = _exact(cells, codebook)
    wanted = np.sort(exact, axis=1)[:, :k]
    got = np.take_along_axis(exact, found, axis=1)
    # the same distances (ties may pick another row of the same distance), in order
    assert np.allclose(got, wanted, rtol=1e-5, atol=1e-2)
    unique = wanted[:, 0] + 1.0 < np.sort(exact, axis=1)[:, 1]
    assert np.array_equal(found[unique, 0], np.argmin(exact, axis=1)[unique])


def _structured(count: int, seed: int) -> npt.NDArray[np.float32]:
    """4x4 RGB vectors of crops of real frames, brightened and shifted at random: correlated
    colours of few effective dimensions, as a collection's tiles are."""
    frames = sorted((REAL / "frames").glob("*.jpg"))[::8]
    rng = np.random.default_rng(seed)
    small = [np.asarray(Image.open(p).convert("RGB").resize((96, 72)), np.float32) for p in frames]
    out = np.empty((count, 48), np.float32)
    for i in range(count):
        a = small[rng.integers(len(small))]
        s = 4 * int(rng.integers(2, 18))
        y, x = rng.integers(0, 72 - s + 1), rng.integers(0, 96 - s + 1)
        v = a[y : y + s, x : x + s].reshape(4, s // 4, 4, s // 4, 3).mean(axis=(1, 3))
        out[i] = np.clip(v * rng.uniform(0.6, 1.4), 0, 255).reshape(-1)
    return out


def test_the_nearest_of_tiles_of_real_frames() -> None:
    codebook = _structured(3000, 1)
    target = Image.open(sorted((REAL / "frames").glob("*.jpg"))[3]).convert("RGB")
    cells, _ = cell_vectors(target, 16, 4)
    assert len(cells) == 48 * 36
    index = TileIndex(codebook)
    found, distances = index.search(cells)
    _assert_nearest(cells, codebook, found)
    assert np.allclose(distances[:, 0], _exact(cells, codebook).min(axis=1), rtol=1e-4, atol=1)
    _assert_nearest(_structured(500, 2), codebook, index.search(_structured(500, 2))[0])


def test_the_nearest_of_random_vectors() -> None:
    rng = np.random.default_rng(3)
    codebook = rng.uniform(0, 255, (2000, 48)).astype(np.float32)
    cells = rng.uniform(0, 255, (600, 48)).astype(np.float32)
    _assert_nearest(cells, codebook, TileIndex(codebook).search(cells)[0])
    # and on the codebook's own rows: each is its own nearest, at distance 0
    found, distances = TileIndex(codebook, clusters=7).search(codebook[:300])
    assert np.array_equal(found[:, 0], np.arange(300)) and np.all(distances[:, 0] < 1.0)


@pytest.mark.parametrize("k", [2, 5, 40])
def test_the_k_nearest_in_order(k: int) -> None:
    codebook = _structured(1500, 4)
    cells = _structured(200, 5)
    found, distances = TileIndex(codebook).search(cells, k)
    assert found.shape == (200, k) and np.all(np.diff(distances, axis=1) >= 0)
    _assert_nearest(cells, codebook, found, k)
    assert all(len(set(row)) == k for row in found.tolist())  # k distinct rows


def test_duplicate_rows_tiny_codebooks_and_a_k_beyond_the_rows() -> None:
    rng = np.random.default_rng(6)
    base = rng.uniform(0, 255, (5, 48)).astype(np.float32)
    codebook = np.repeat(base, 40, axis=0)  # 200 rows, 5 distinct vectors
    cells = base + rng.normal(0, 3, base.shape).astype(np.float32)
    found, _ = TileIndex(codebook).search(cells)
    assert np.array_equal(found[:, 0] // 40, np.arange(5))
    one = TileIndex(base[:1])
    assert one.search(cells, 3)[0].shape == (5, 1) and not one.search(cells)[0].any()
    _assert_nearest(cells, base[:2], TileIndex(base[:2]).search(cells, 2)[0], 2)
    with pytest.raises(ValueError, match="codebook"):
        TileIndex(np.empty((0, 48), np.float32))
    with pytest.raises(ValueError, match="k: 0"):
        one.search(cells, 0)


def test_excluded_rows_are_never_returned() -> None:
    codebook = _structured(1200, 9)
    cells = _structured(150, 10)
    excluded = np.zeros(len(codebook), bool)
    excluded[TileIndex(codebook).search(cells, 3)[0].ravel()] = True  # each cell's nearest 3
    excluded[::2] = True
    found, _ = TileIndex(codebook).search(cells, 4, excluded=excluded)
    assert not excluded[found].any()
    left = np.flatnonzero(~excluded)
    _assert_nearest(cells, codebook[left], np.searchsorted(left, found), 4)
    with pytest.raises(ValueError, match="every row"):
        TileIndex(codebook).search(cells, excluded=np.ones(len(codebook), bool))


def test_a_cancelled_search_raises() -> None:
    codebook = _structured(400, 7)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        TileIndex(codebook).search(codebook[:10], cancel=cancel)


def _greedy(cells: npt.NDArray[np.float32], codebook: npt.NDArray[np.float32],
            repeat: int) -> list[int]:  # fmt: skip
    """The repeat limit by comparing with every row: cells by how close their best match is,
    each taking its nearest row still free."""
    exact = _exact(cells, codebook)
    used = np.zeros(len(codebook), int)
    out = [0] * len(cells)
    for i in np.argsort(exact.min(axis=1), kind="stable"):
        d = np.where(used < repeat, exact[i], np.inf)
        out[i] = int(np.argmin(d))
        used[out[i]] += 1
    return out


@pytest.mark.parametrize("repeat", [1, 3])
def test_the_repeat_limit_takes_the_nearest_free_row(repeat: int) -> None:
    rng = np.random.default_rng(8)
    codebook = rng.uniform(0, 255, (300, 48)).astype(np.float32)
    # clumps of near-identical cells: their nearest CANDIDATES rows are all taken, so the
    # cells served later are compared with every free row
    centres = rng.uniform(0, 255, (4, 48)).astype(np.float32)
    cells = np.repeat(centres, 3 * CANDIDATES, axis=0) + np.arange(
        4 * 3 * CANDIDATES, dtype=np.float32)[:, None] * 0.01  # fmt: skip
    got = nearest(cells, codebook, repeat=repeat)
    assert got.tolist() == _greedy(cells, codebook, repeat)
    assert np.bincount(got).max() <= repeat
