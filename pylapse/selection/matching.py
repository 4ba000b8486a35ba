"""Nearest-frame matching: each sorted target instant takes its nearest frame within a tolerance.

The rule (see :mod:`pylapse.selection`): the nearest frame within the tolerance (inclusive); on a
tie the earlier frame, and of several frames at the same instant the first in index order; no
frame within the tolerance is a gap (-1). Positions never decrease with the targets.

The cost is O(frames + targets), and mostly at C speed. The usual archive is a camera shooting
at about the rule's cadence, where target ``k`` plainly takes frame ``s + k``: such stretches are
matched a block of targets at a time, proven by bounds over the whole block (:func:`_block`),
with a few C-level passes (``map``/``min``/``max`` over array slices) and no Python loop per
target. Everything else (sparse targets, gaps, bursts, ties, the blocks around them) goes through
a forward merge one target at a time (:func:`_merge`). Both give exactly the same positions; the
property tests compare them with a brute-force reference.

The result keeps positions relative to the target index (``rel[i] = positions[i] - i``): a
matched block is then one constant, written by array repetition (memcpy) instead of 256 integer
objects, and the absolute positions are made only when someone asks for them.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import compress
from operator import add, sub

__all__ = ["Matched", "distinct_positions", "match", "match_nearest"]

#: Targets a block of the fast path covers; a block that fails is retried in halves down to
#: :data:`_MIN_BLOCK` targets, then merged one target at a time.
_BLOCK = 256
_MIN_BLOCK = 32
_SPLIT, _MERGE = -1, -2  # a block that failed: retry in halves / merge one target at a time
_MAX_BACKOFF = 64  # blocks merged without trying, at most, after blocks kept failing


class Matched:
    """What :func:`match` found, for ``count`` targets: ``positions[i]`` is the frame position
    of target ``i`` or -1 (a gap); ``chosen`` the distinct positions (ascending); ``gaps`` the
    number of -1s. Given relative positions (``rel[i] = positions[i] - i``), the chosen count
    and the gaps' target indices, nothing per target is made until asked for."""

    __slots__ = ("_chosen", "_gap_at", "_positions", "_rel", "chosen_count", "count", "gaps")

    def __init__(
        self,
        *,
        rel: array[int] | None = None,
        positions: Sequence[int] | None = None,
        chosen: Sequence[int] | None = None,
        chosen_count: int | None = None,
        gap_at: Sequence[int] | None = None,
    ) -> None:
        if (rel is None) == (positions is None):
            raise ValueError("give rel or positions")
        if rel is not None and (chosen_count is None or gap_at is None):
            raise ValueError("relative positions need chosen_count and gap_at")
        self._rel = rel
        self._positions = positions
        self._chosen = chosen
        self._gap_at = gap_at
        self.count = len(rel) if rel is not None else len(positions)  # type: ignore[arg-type]
        if gap_at is not None:
            self.gaps = len(gap_at)
        else:
            assert positions is not None
            self.gaps = positions.count(-1)
        if chosen_count is None:
            chosen_count = len(self.chosen)
        self.chosen_count = chosen_count

    @property
    def positions(self) -> Sequence[int]:
        """Absolute positions, made from the relative ones on first access (C speed)."""
        if self._positions is None:
            rel = self._rel
            assert rel is not None
            self._positions = array("q", map(add, rel, range(len(rel))))
        return self._positions

    @property
    def chosen(self) -> Sequence[int]:
        if self._chosen is None:
            self._chosen = distinct_positions(self.positions)
        return self._chosen

    def gap_indices(self) -> Sequence[int]:
        """Indices of the targets without a frame, ascending."""
        if self._gap_at is None:
            hits = map((-1).__eq__, self.positions)
            self._gap_at = array("q", compress(range(self.count), hits))
        return self._gap_at

    def position(self, i: int) -> int:
        """``positions[i]`` without making the whole array."""
        if self._positions is not None:
            return self._positions[i]
        rel = self._rel
        assert rel is not None
        i = i + len(rel) if i < 0 else i
        return rel[i] + i

    def leading_gaps(self) -> int:
        """Targets before the first one that has a frame: the gap indices 0, 1, 2 ... (found
        by bisection, so a camera that started late costs no scan of its leading gaps)."""
        g = self.gap_indices()
        lo, hi = 0, len(g)
        while lo < hi:  # g[i] - i never decreases and is 0 exactly on the leading run
            mid = (lo + hi) // 2
            if g[mid] == mid:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def trailing_gaps(self) -> int:
        """Targets after the last one that has a frame."""
        g = self.gap_indices()
        shift = self.count - len(g)
        lo, hi = 0, len(g)
        while lo < hi:  # shift + i - g[i] never increases and is 0 exactly on the trailing run
            mid = (lo + hi) // 2
            if g[mid] == shift + mid:
                hi = mid
            else:
                lo = mid + 1
        return len(g) - lo

    def first_chosen(self) -> int | None:
        """The first position chosen, or None."""
        if self._chosen is not None:
            return self._chosen[0] if self._chosen else None
        k = self.leading_gaps()
        return self.position(k) if k < self.count else None

    def last_chosen(self) -> int | None:
        """The last position chosen, or None."""
        if self._chosen is not None:
            return self._chosen[-1] if self._chosen else None
        k = self.count - 1 - self.trailing_gaps()
        return self.position(k) if k >= 0 else None


def distinct_positions(positions: Sequence[int]) -> array[int]:
    """The chosen positions without gaps and repeats. Positions never decrease, so a frame
    shared by several targets repeats in a row and one pass drops both."""
    chosen = array("q")
    append = chosen.append
    previous = -1
    for p in positions:
        if p > previous:
            append(p)
            previous = p
    return chosen


def match_nearest(utcs: Sequence[float], targets: Iterable[float], tolerance: float) -> array[int]:
    """For each target (sorted), the position in ``utcs`` (sorted) of its frame, or -1."""
    positions = match(utcs, targets, tolerance).positions
    assert isinstance(positions, array)
    return positions


def match(
    utcs: Sequence[float],
    targets: Iterable[float],
    tolerance: float,
    *,
    spacing: float | None = None,
) -> Matched:
    """Each target's nearest frame within ``tolerance``, in O(frames + targets).

    ``spacing``, when given, must be a lower bound of the distance between consecutive targets
    (the target generator knows it); otherwise each block measures its own.
    """
    inf = math.inf
    n = len(utcs)
    # Frame times padded with sentinels: u[0] = -inf and u[n + 1] = +inf, so frame i is u[i + 1]
    # and neither end needs a bounds check.
    u = array("d", (-inf,))
    u.extend(utcs)
    u.append(inf)
    t = targets if isinstance(targets, array) and targets.typecode == "d" else array("d", targets)
    rel = array("q")
    gap_at = array("q")
    state = [-1, 0]  # last position chosen, chosen count
    total = len(t)
    stack: list[tuple[int, int]] = []
    backoff = skip = 0
    for k in range(0, total, _BLOCK):
        if skip:  # recent blocks could not be proven (irregular data): merge, don't retry yet
            skip -= 1
            _merge(u, n, t, k, min(k + _BLOCK, total), tolerance, rel, gap_at, state)
            continue
        merged = 0
        stack.append((k, min(k + _BLOCK, total)))
        while stack:
            lo, hi = stack.pop()
            s = _block(u, n, t, lo, hi, tolerance, spacing)
            if s >= 0:
                stop = s + hi - lo
                rel.extend(array("q", (s - lo,)) * (hi - lo))  # memcpy, not hi - lo ints
                last = state[0]
                if stop - 1 > last:
                    state[1] += stop - max(s, last + 1)
                    state[0] = stop - 1
            elif s == _SPLIT and hi - lo >= 2 * _MIN_BLOCK:
                mid = (lo + hi) // 2
                stack.append((mid, hi))
                stack.append((lo, mid))
            else:
                merged += hi - lo
                _merge(u, n, t, lo, hi, tolerance, rel, gap_at, state)
        # Mostly merged: back off exponentially (1, 2, 4 ... 64 blocks) before trying again,
        # so data the blocks never fit costs little more than the merge alone.
        if 2 * merged > min(k + _BLOCK, total) - k:
            backoff = min(max(1, 2 * backoff), _MAX_BACKOFF)
            skip = backoff
        else:
            backoff = 0
    return Matched(rel=rel, chosen_count=state[1], gap_at=gap_at)


def _block(
    u: array[float], n: int, t: array[float], lo: int, hi: int, tol: float, spacing: float | None
) -> int:
    """The position ``s`` such that target ``lo + i`` takes frame ``s + i`` for every target of
    ``t[lo:hi]``, proven by bounds over the whole block; otherwise ``_SPLIT`` or ``_MERGE``.

    With ``d_i = frame_i - target_i``, ``D = max |d_i|`` and ``S`` the smallest target spacing:
    the frame before frame ``i`` lies at most ``max d - S`` from target ``i``, so if
    ``S - max d > D`` it is strictly farther than frame ``i`` (and every earlier frame farther
    still); the frame after lies at least ``min d + S`` above, so ``min d + S >= D`` makes it at
    least as far (a tie goes to the earlier frame, ``i``). The frames just outside the block are
    checked directly (the half-spacing window already implies it; the check is cheap insurance),
    and ``D <= tol`` keeps every target within the tolerance. The margin
    ``eps`` (thousands of float ulps, far below any real spacing) keeps rounding from deciding a
    near-tie.
    """
    m = hi - lo
    if m < 2:
        return _MERGE
    tb = t[lo:hi]
    t0, t1 = tb[0], tb[-1]
    # About as many frames as targets, or pairing cannot work (sparse targets: every 15 min).
    half = (t1 - t0) / (2 * (m - 1))  # half the mean spacing
    s = bisect_left(u, t0 - half, 1, n + 1)  # u index of the frame for t[lo]
    e = bisect_left(u, t1 + half, s, n + 1)
    if e - s != m:
        return _SPLIT if abs(e - s - m) <= m // 4 else _MERGE
    if spacing is None:
        spacing = min(map(sub, tb[1:], tb[:-1]))
    d = list(map(sub, u[s:e], tb))
    top, bottom = max(d), min(d)
    far = top if top > -bottom else -bottom
    eps = 1e-12 * (abs(t0) + abs(t1)) + 1e-9
    if (
        far <= tol
        and spacing - top > far + eps
        and bottom + spacing >= far + eps
        and t0 - u[s - 1] > far + eps
        and u[e] - t1 >= far + eps
    ):
        return s - 1
    return _SPLIT


def _gallop(a: Sequence[float], x: float, lo: int, n: int) -> int:
    """First index >= ``lo`` with ``a[i] >= x``, given ``a[lo] < x``; costs O(log distance)."""
    step = 1
    hi = lo + 1
    while hi < n and a[hi] < x:
        lo = hi
        step <<= 1
        hi = lo + step
    return bisect_left(a, x, lo, min(hi, n))


def _merge(
    u: array[float],
    n: int,
    t: array[float],
    lo: int,
    hi: int,
    tol: float,
    rel: array[int],
    gap_at: array[int],
    state: list[int],
) -> None:
    """Match ``t[lo:hi]`` one target at a time: one forward merge, the frame pointer moving a
    step for dense targets and galloping between sparse ones. Appends to ``rel`` and ``gap_at``;
    ``state`` is ``[last position chosen, chosen count]``."""
    put, gap = rel.append, gap_at.append
    last, count = state
    j = bisect_left(u, t[lo], 1, n + 1)  # u[j] is the first frame at or after the target
    before, after = u[j - 1], u[j]
    end = n + 2
    for k, x in enumerate(t[lo:hi], lo):
        if after < x:
            j += 1
            before, after = after, u[j]
            if after < x:
                j = _gallop(u, x, j, end)
                before, after = u[j - 1], u[j]
        b = x - before
        a = after - x
        if b <= a:  # a tie goes to the earlier frame
            if b > tol:
                put(-1 - k)
                gap(k)
                continue
            p = j - 2
            if u[p] == before:  # several frames at that instant: the first in order
                p = bisect_left(u, before, 1, p) - 1
        elif a <= tol:
            p = j - 1
        else:
            put(-1 - k)
            gap(k)
            continue
        put(p - k)
        if p > last:
            count += 1
            last = p
    state[:] = [last, count]
