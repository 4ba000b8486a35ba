"""A mosaic's whole sequence: the plan (output size, tiles, and per tile its track and which
frame it shows at each output instant) and the composed frames written to a folder as JPEGs,
ready for the video runner's frame list.

Output frames are composed on a few threads (Pillow releases the GIL while it decodes, scales
and encodes), each thread taking a run of consecutive frames so a tile whose frame does not
change between instants is decoded once per run, not once per output frame. At most
``2 * workers`` runs are in flight and each run holds one decoded frame per tile: memory does
not grow with the number of frames.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse.mosaic.compose import (
    LABEL_FORMAT,
    Band,
    Missing,
    TileArt,
    compose,
    decode_tile,
    label_text,
)
from pylapse.mosaic.layout import Tile
from pylapse.mosaic.timeline import Match, TileState, Track
from pylapse.pictures.frames import default_workers
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

__all__ = ["COMPOSE", "MosaicPlan", "PlannedTile", "write_frames"]

log = logging.getLogger(__name__)

COMPOSE = "compose"  # the progress stage of writing the frames
RUN = 24  # consecutive output frames one thread composes
JPEG_QUALITY = 95  # the composed frames are encoded again by ffmpeg: keep them near-lossless


@dataclass(frozen=True, eq=False)
class PlannedTile:
    """One tile: where it goes, its track, which frame it shows at each instant, and the name
    its label gives (None: no label)."""

    tile: Tile
    track: Track
    match: Match
    label: str | None = None


@dataclass(frozen=True, eq=False)
class MosaicPlan:
    size: tuple[int, int]
    tiles: Sequence[PlannedTile]
    instants: npt.NDArray[np.float64]  # the output instants (UTC; or offsets for a sunset grid)
    missing: Missing = Missing.DIM
    band: Band | None = None
    label_format: str = LABEL_FORMAT  # the frame's local time in each tile's label
    cover: bool = False  # frames fill their tiles (cropped) instead of fitting inside them

    def __post_init__(self) -> None:
        for planned in self.tiles:
            if len(planned.match) != len(self.instants):
                raise ValueError(
                    f"{planned.track.name}: {len(planned.match)} matches for "
                    f"{len(self.instants)} instants"
                )

    def __len__(self) -> int:
        return len(self.instants)

    def counts(self) -> dict[str, int]:
        """Tile-frames by state over the whole sequence (for the manifest and the summary)."""
        states = [p.match.states for p in self.tiles]
        every = np.concatenate(states) if states else np.empty(0, np.uint8)
        return {s.name.lower(): int(np.count_nonzero(every == s)) for s in TileState}


def _write_run(plan: MosaicPlan, folder: Path, lo: int, hi: int,
               cancel: threading.Event | None) -> list[Path]:  # fmt: skip
    cache: dict[int, tuple[int, Image.Image | None]] = {}  # tile -> (frame position, image)
    out: list[Path] = []
    for k in range(lo, hi):
        if cancel is not None and cancel.is_set():
            return out
        arts = []
        for t, planned in enumerate(plan.tiles):
            position = int(planned.match.frames[k])
            state = TileState(int(planned.match.states[k]))
            image = None
            if position >= 0:
                held = cache.get(t)
                if held is None or held[0] != position:
                    frame = planned.track.paths[position]
                    image = _decode(frame, planned.tile, plan.band, plan.cover)
                    cache[t] = (position, image)
                else:
                    image = held[1]
            label = None
            if planned.label is not None:
                utc = float(planned.track.utcs[position]) if position >= 0 else None
                label = label_text(planned.label, utc, planned.track.zone, plan.label_format)
            arts.append(TileArt(planned.tile, image, state, label))
        path = folder / f"mosaic-{k:07d}.jpg"
        compose(plan.size, arts, plan.missing).save(path, "JPEG", quality=JPEG_QUALITY)
        out.append(path)
    return out


def _decode(path: str, tile: Tile, band: Band | None, cover: bool) -> Image.Image | None:
    try:
        return decode_tile(path, tile, band, cover=cover)
    except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises on a bad file
        log.warning("cannot read %s: %s", path, exc)
        return None


def write_frames(
    plan: MosaicPlan,
    folder: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    workers: int | None = None,
    start: int = 0,
    stop: int | None = None,
) -> list[Path]:
    """Compose the output frames ``start`` to ``stop`` (default: all) of ``plan`` into
    ``folder`` (``mosaic-0000000.jpg`` ...), in order, reporting progress out of the whole
    plan; :class:`Cancelled` when ``cancel`` is set (the caller removes the folder)."""
    target = Path(folder)
    end = len(plan) if stop is None else min(stop, len(plan))
    report = Throttle(progress)
    tick = _ticker(report, len(plan), start)
    n = workers or default_workers()
    paths: list[Path] = []
    pending: deque[Future[list[Path]]] = deque()

    def collect() -> None:
        paths.extend(pending.popleft().result())
        tick(start + len(paths))

    tick(start)
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="mosaic") as pool:
        try:
            for lo in range(start, end, RUN):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the mosaic was cancelled")
                pending.append(pool.submit(_write_run, plan, target, lo, min(end, lo + RUN),
                                           cancel))  # fmt: skip
                while len(pending) > 2 * n:
                    collect()
            while pending:
                collect()
        finally:
            for future in pending:
                future.cancel()
    if cancel is not None and cancel.is_set():
        raise Cancelled("the mosaic was cancelled")
    return paths


def _ticker(
    report: Callable[[Progress], None], total: int, first: int = 0
) -> Callable[[int], None]:
    started = time.monotonic()

    def tick(done: int) -> None:
        elapsed = time.monotonic() - started
        rate = (done - first) / elapsed if done > first and elapsed > 0 else None
        eta = (total - done) / rate if rate else None
        report(Progress(COMPOSE, done, total, rate, eta))

    return tick
