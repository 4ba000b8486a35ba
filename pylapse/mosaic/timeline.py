"""Which frame each tile shows at each output instant.

An input is a :class:`Track`: its frames' UTC times (sorted) and paths, its zone and a name.
For an array of target instants, :func:`match` finds per target the frame nearest it within a
tolerance (``FRESH``); failing that, the track's last frame before the target (``STALE``: the
composer dims or repeats it), unless there is none or it is older than ``floor`` (``NONE``: a
placeholder or dark tile). Everything is on UTC seconds, so cameras in different zones line up
on the real instant; the zone only matters for labels.

All of it is vectorised with ``numpy.searchsorted``: O((frames + targets) log frames), no loop
over targets in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from enum import IntEnum

import numpy as np
import numpy.typing as npt

__all__ = ["Match", "TileState", "Track", "instants", "match", "typical_step"]

Floats = npt.NDArray[np.float64]


class TileState(IntEnum):
    FRESH = 0  # a frame within the tolerance of the instant
    STALE = 1  # the last frame before the instant (shown dimmed or repeated)
    NONE = 2  # nothing to show (placeholder or dark)


@dataclass(frozen=True, eq=False)
class Track:
    """One input: frame times (UTC seconds, ascending) and their paths, with a name and the
    zone its labels read local time in."""

    name: str
    zone: tzinfo
    utcs: Floats
    paths: Sequence[str]

    def __post_init__(self) -> None:
        utcs = np.asarray(self.utcs, dtype=np.float64)
        if utcs.ndim != 1 or len(utcs) != len(self.paths):
            raise ValueError(f"{self.name}: {len(utcs)} times for {len(self.paths)} paths")
        if len(utcs) > 1 and bool(np.any(np.diff(utcs) < 0)):
            raise ValueError(f"{self.name}: frame times must be in ascending order")
        object.__setattr__(self, "utcs", utcs)


@dataclass(frozen=True, eq=False)
class Match:
    """Per target: the frame's position in its track (-1 for none) and the tile's state."""

    frames: npt.NDArray[np.int64]
    states: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.frames)


def match(utcs: Floats, targets: Floats, tolerance: float, floor: float | None = None) -> Match:
    """For each of ``targets`` the nearest of ``utcs`` within ``tolerance`` seconds (the earlier
    on a tie), else the last one at or before the target if it is not older than ``floor``."""
    if tolerance < 0:
        raise ValueError(f"tolerance: {tolerance} must be >= 0 seconds")
    utcs = np.asarray(utcs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    n = len(utcs)
    if n == 0:
        return Match(np.full(len(targets), -1, np.int64),
                     np.full(len(targets), TileState.NONE, np.uint8))  # fmt: skip
    right = np.searchsorted(utcs, targets, side="left")  # first frame at or after the target
    before = np.clip(right - 1, 0, n - 1)
    after = np.clip(right, 0, n - 1)
    d_before = np.abs(targets - utcs[before])
    d_after = np.abs(utcs[after] - targets)
    nearest = np.where(d_after < d_before, after, before)
    fresh = np.abs(utcs[nearest] - targets) <= tolerance
    last = np.searchsorted(utcs, targets, side="right") - 1  # at or before the target
    has_last = last >= 0
    if floor is not None:
        has_last &= utcs[np.clip(last, 0, n - 1)] >= floor
    frames = np.where(fresh, nearest, np.where(has_last, last, -1)).astype(np.int64)
    states = np.where(
        fresh, TileState.FRESH, np.where(has_last, TileState.STALE, TileState.NONE)
    ).astype(np.uint8)
    return Match(frames, states)


def instants(start: float, stop: float, step: float) -> Floats:
    """Output instants from ``start`` to ``stop`` (inclusive when it falls on a step)."""
    if step <= 0:
        raise ValueError(f"step: {step} must be more than 0 seconds")
    if stop < start:
        return np.empty(0, np.float64)
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return start + step * np.arange(count, dtype=np.float64)


def typical_step(tracks: Sequence[Track]) -> float:
    """The finest of the tracks' median frame spacings (at least 1 s; 60 s with no spacing)."""
    spacings = [float(np.median(np.diff(t.utcs))) for t in tracks if len(t.utcs) > 1]
    spacings = [s for s in spacings if s > 0]
    return max(1.0, round(min(spacings))) if spacings else 60.0
