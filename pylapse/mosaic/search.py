"""Exact nearest-neighbour search over tile vectors, much faster than comparing every cell with
every frame when the vectors are structured (as a collection's tiles are).

The codebook is split into clusters by a few k-means rounds on a sample; inside a cluster the
rows are sorted by their distance to its centre. For a cell at distance ``t`` from a centre and a
best distance so far ``b``, the triangle inequality says only rows whose own distance ``r`` to
that centre lies in ``[t - b, t + b]`` can be nearer: one contiguous slice of the cluster, and no
slice at all for most clusters. A cell is first compared with the rows of its nearest cluster
(giving a tight ``b``), then with the slices of the others that can still hold a nearer row. The
answer is exact (the pruning only skips rows proven farther); how much it saves depends on the
data: tiles of real frames (correlated colours, few effective dimensions) prune nearly
everything, random uniform vectors little. Distances are computed as one float32 matrix product
per (cluster, cells) pair on vectors centred on the codebook's mean (smaller magnitudes, less
rounding), and the bounds carry a small slack so rounding never prunes the true nearest.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pylapse.progress import Cancelled

__all__ = ["TileIndex"]

SAMPLE = 32  # k-means runs on at most SAMPLE rows per cluster
ROUNDS = 6  # k-means rounds: the clusters only need to be compact, not optimal
SLACK = 1e-3  # relative slack on the bounds: float32 rounding must never prune the nearest
CHUNK = 4096  # rows per assignment product while building


def _sq(a: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = np.einsum("ij,ij->i", a, a)
    return out


def _assign(rows: npt.NDArray[np.float32], centres: npt.NDArray[np.float32]
            ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:  # fmt: skip
    """Each row's nearest centre and the squared distance to it, in chunks (flat memory)."""
    cn = _sq(centres)
    label = np.empty(len(rows), np.int64)
    dist = np.empty(len(rows), np.float32)
    for lo in range(0, len(rows), CHUNK):
        part = rows[lo : lo + CHUNK]
        d = cn[None, :] - 2.0 * (part @ centres.T)
        label[lo : lo + CHUNK] = np.argmin(d, axis=1)
        dist[lo : lo + CHUNK] = d[np.arange(len(d)), label[lo : lo + CHUNK]] + _sq(part)
    return label, np.maximum(dist, 0.0)


@dataclass(eq=False)
class _Search:
    """One search's cells (centred), their squared norms and distances to the centres, the
    best rows so far (index positions, nearest first) and the excluded positions."""

    q: npt.NDArray[np.float32]
    qn: npt.NDArray[np.float32]
    to_centre: npt.NDArray[np.float32]
    best_i: npt.NDArray[np.int64]
    best_d: npt.NDArray[np.float32]
    excluded: npt.NDArray[np.bool_] | None

    def bound(self, cells: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """The distance within which a row must lie to enter each cell's best (with slack)."""
        worst = np.sqrt(np.maximum(self.best_d[cells, -1], 0.0))
        out: npt.NDArray[np.float32] = (worst * (1.0 + SLACK) + SLACK).astype(np.float32)
        return out


class TileIndex:
    """An exact nearest-row index over ``codebook`` (rows of float vectors)."""

    def __init__(self, codebook: npt.NDArray[np.floating], clusters: int | None = None,
                 seed: int = 0) -> None:  # fmt: skip
        data = np.asarray(codebook, np.float32)
        if data.ndim != 2 or len(data) == 0:
            raise ValueError(f"codebook: {data.shape} is not a non-empty 2-d array of vectors")
        self.size = len(data)
        self.mean = data.mean(axis=0)
        centred = data - self.mean
        # about sqrt(n) clusters balances the per-cluster overhead against the rows per cluster
        count = clusters if clusters is not None else max(1, round(np.sqrt(self.size)))
        count = max(1, min(count, self.size))
        rng = np.random.default_rng(seed)
        pick = rng.choice(self.size, min(self.size, count * SAMPLE), replace=False)
        sample = centred[pick]
        centres = sample[rng.choice(len(sample), count, replace=False)].copy()
        for _ in range(ROUNDS):
            label, _ = _assign(sample, centres)
            counts = np.bincount(label, minlength=count)
            # per-dimension bincounts: much faster than np.add.at for the cluster sums
            sums = np.stack([np.bincount(label, sample[:, j], count)
                             for j in range(sample.shape[1])], axis=1)  # fmt: skip
            kept = counts > 0  # an empty cluster keeps its centre: it may win rows later
            centres[kept] = sums[kept] / counts[kept, None]
        label, dist = _assign(centred, centres)
        radius = np.sqrt(dist)
        order = np.lexsort((radius, label))  # by cluster, then by distance to its centre
        self.rows = order.astype(np.int64)  # position in the index -> row of the codebook
        self.vectors = np.ascontiguousarray(centred[order])
        self.norms = _sq(self.vectors)
        self.radius = radius[order]
        counts = np.bincount(label, minlength=count)
        used = counts > 0
        self.centres = np.ascontiguousarray(centres[used])
        bounds = np.concatenate([[0], np.cumsum(counts)])
        self.starts = bounds[:-1][used]
        self.stops = bounds[1:][used]

    def search(self, cells: npt.NDArray[np.floating], k: int = 1,
               cancel: threading.Event | None = None,
               excluded: npt.NDArray[np.bool_] | None = None,
               ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:  # fmt: skip
        """The ``k`` rows of the codebook nearest each cell (nearest first) and their squared
        distances, shape (cells, k). Exact: the same rows as comparing with every row, up to
        ties and float32 rounding of the distances. Rows where ``excluded`` (one flag per
        codebook row) is true are never returned; ``k`` is then at most the rows left."""
        if k < 1:
            raise ValueError(f"k: {k} must be at least 1")
        left, hidden = self.size, None
        if excluded is not None:
            if excluded.shape != (self.size,):
                raise ValueError(f"excluded: shape {excluded.shape} is not ({self.size},)")
            left = self.size - int(np.count_nonzero(excluded))
            if left == 0:
                raise ValueError("excluded: every row of the codebook is excluded")
            hidden = excluded[self.rows]
        k = min(k, left)
        q = np.asarray(cells, np.float32) - self.mean
        n = len(q)
        qn = _sq(q)
        to_centre = np.sqrt(np.maximum(_sq(self.centres)[None, :] - 2.0 * (q @ self.centres.T)
                                       + qn[:, None], 0.0))  # fmt: skip
        run = _Search(q, qn, to_centre, np.zeros((n, k), np.int64),
                      np.full((n, k), np.inf, np.float32), hidden)  # fmt: skip
        if n == 0:
            return run.best_i, run.best_d
        # each cell's nearest two clusters first (cheap, grouped by cluster): a tight bound
        ranked = np.argsort(to_centre, axis=1)[:, :2]
        done = np.zeros(to_centre.shape, bool)
        for step in range(ranked.shape[1]):
            if cancel is not None and cancel.is_set():
                raise Cancelled("the search was cancelled")
            self._visit(run, np.arange(n), ranked[:, step], done)
        self._rest(run, done, cancel)
        return self.rows[run.best_i], np.maximum(run.best_d, 0.0)

    def _visit(self, run: _Search, cells: npt.NDArray[np.int64],
               clusters: npt.NDArray[np.int64], done: npt.NDArray[np.bool_]) -> None:  # fmt: skip
        """Compare cells with the clusters of the pairs (cell, cluster) not yet done."""
        fresh = ~done[cells, clusters]
        cells, clusters = cells[fresh], clusters[fresh]
        done[cells, clusters] = True
        order = np.argsort(clusters, kind="stable")
        cells, clusters = cells[order], clusters[order]
        cuts = np.flatnonzero(np.diff(clusters)) + 1
        for group in np.split(np.arange(len(cells)), cuts):
            if len(group):
                self._compare(run, cells[group], int(clusters[group[0]]))

    def _rest(self, run: _Search, done: npt.NDArray[np.bool_],
              cancel: threading.Event | None) -> None:  # fmt: skip
        """Every (cell, cluster) pair whose cluster can still hold a nearer row, cluster by
        cluster, re-checking each pair against the bound as it tightens."""
        lo_r, hi_r = self.radius[self.starts], self.radius[self.stops - 1]
        bound = run.bound(np.arange(len(run.q)))
        t = run.to_centre
        # a cluster's rows lie at [lo_r, hi_r] from its centre: outside t +- b none can win
        maybe = ((t - bound[:, None] <= hi_r[None, :])
                 & (t + bound[:, None] >= lo_r[None, :]) & ~done)  # fmt: skip
        for c in np.flatnonzero(maybe.any(axis=0)):
            if cancel is not None and cancel.is_set():
                raise Cancelled("the search was cancelled")
            cells = np.flatnonzero(maybe[:, c])
            bound = run.bound(cells)
            tc = t[cells, c]
            keep = (tc - bound <= hi_r[c]) & (tc + bound >= lo_r[c])
            if keep.any():
                self._compare(run, cells[keep], int(c))

    def _compare(self, run: _Search, cells: npt.NDArray[np.int64], c: int) -> None:
        start, stop = int(self.starts[c]), int(self.stops[c])
        bound = run.bound(cells)
        t = run.to_centre[cells, c]
        # the union of the cells' annuli [t - b, t + b] as one slice of the sorted radii
        radii = self.radius[start:stop]
        lo = start + int(np.searchsorted(radii, float(np.min(t - bound))))
        hi = start + int(np.searchsorted(radii, float(np.max(t + bound)), side="right"))
        if lo >= hi:
            return
        d = self.norms[None, lo:hi] - 2.0 * (run.q[cells] @ self.vectors[lo:hi].T)
        d += run.qn[cells, None]
        if run.excluded is not None:
            d[:, run.excluded[lo:hi]] = np.inf
        best_d, best_i = run.best_d, run.best_i
        k = best_d.shape[1]
        if k == 1:
            j = np.argmin(d, axis=1)
            dj = d[np.arange(len(cells)), j]
            better = dj < best_d[cells, 0]
            best_d[cells[better], 0] = dj[better]
            best_i[cells[better], 0] = lo + j[better]
            return
        all_d = np.concatenate([best_d[cells], d], axis=1)
        all_i = np.concatenate([best_i[cells],
                                np.broadcast_to(np.arange(lo, hi), d.shape)], axis=1)  # fmt: skip
        if all_d.shape[1] > k:
            part = np.argpartition(all_d, k - 1, axis=1)[:, :k]
            all_d = np.take_along_axis(all_d, part, axis=1)
            all_i = np.take_along_axis(all_i, part, axis=1)
        order = np.argsort(all_d, axis=1, kind="stable")
        best_d[cells] = np.take_along_axis(all_d, order, axis=1)
        best_i[cells] = np.take_along_axis(all_i, order, axis=1)
