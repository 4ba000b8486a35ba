"""The multi-camera grid: two to sixteen inputs side by side, time-synchronised.

Output instants run from the first frame of any input to the last, one per ``step`` seconds
(default: the finest input's typical spacing); each tile shows its input's frame nearest the
instant within ``tolerance``, else its last frame (dimmed, by default). Instants where no input
has a frame within the tolerance (a night when every camera sleeps) are left out unless
``keep_empty``. All on UTC, so a Berlin and a Tokyo camera line up on the real instant.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pylapse.mosaic.compose import Missing
from pylapse.mosaic.layout import Layout, tiles
from pylapse.mosaic.sequence import MosaicPlan, PlannedTile
from pylapse.mosaic.timeline import TileState, Track, instants, match, typical_step

__all__ = ["MAX_CAMERAS", "grid_plan"]

MAX_CAMERAS = 16


def grid_plan(
    tracks: Sequence[Track],
    size: tuple[int, int] = (1920, 1080),
    *,
    layout: Layout | str = Layout.GRID,
    rows: int | None = None,
    cols: int | None = None,
    step: float | None = None,
    tolerance: float | None = None,
    missing: Missing | str = Missing.DIM,
    labels: bool = True,
    keep_empty: bool = False,
    cover: bool = False,
) -> MosaicPlan:
    """The plan of a grid of ``tracks`` (tolerance default: half the step; ``cover``: frames
    fill their tiles, cropped, instead of fitting inside them)."""
    if not 1 <= len(tracks) <= MAX_CAMERAS:
        raise ValueError(f"a grid takes 1 to {MAX_CAMERAS} cameras, got {len(tracks)}")
    rects = tiles(layout, len(tracks), size, rows=rows, cols=cols)
    filled = [t for t in tracks if len(t.utcs)]
    if not filled:
        names = ", ".join(t.name for t in tracks)
        raise ValueError(f"no frames in the range for {names}")
    step = typical_step(filled) if step is None else float(step)
    tolerance = step / 2 if tolerance is None else float(tolerance)
    start = min(float(t.utcs[0]) for t in filled)
    stop = max(float(t.utcs[-1]) for t in filled)
    when = instants(start, stop, step)
    matches = [match(t.utcs, when, tolerance) for t in tracks]
    if not keep_empty:
        fresh = np.zeros(len(when), bool)
        for m in matches:
            fresh |= m.states == TileState.FRESH
        when = when[fresh]
        matches = [type(m)(m.frames[fresh], m.states[fresh]) for m in matches]
    planned = [
        PlannedTile(rect, track, m, track.name if labels else None)
        for rect, track, m in zip(rects, tracks, matches, strict=True)
    ]
    return MosaicPlan(size, planned, when, Missing(missing), cover=cover)
