"""Filling the quality scores and sky metrics of frames already on disk (``pylapse metrics``,
issues 17 and 18).

Capture scores and measures every new frame; frames indexed by a scan (an imported archive, a
folder collection) have neither, and frames captured before sky metrics existed lack those.
:func:`fill_metrics` walks a collection's frames that lack a hash, a hash distance or sky
metrics in time order, scores and measures each from one JPEG draft decode
(:mod:`pylapse.imaging.quality`, :mod:`pylapse.imaging.sky`: one pass fills both; a frame
capture scored only gets its sky, its scores stay) and writes them a batch at a time, so a
stopped run (cancel, a crash, a restart) loses at most one batch and the next run carries on
where it stopped: the frames it wrote no longer match. A frame that already has its hash and
its sky metrics (capture) only gets its distance to the previous frame, without a decode.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pylapse import exif
from pylapse.imaging import quality, sky
from pylapse.imaging.decode import open_image
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.index.frame import Frame
    from pylapse.index.store import FrameIndex

__all__ = ["MetricsResult", "fill_metrics", "region_for"]

log = logging.getLogger(__name__)

BATCH = 200  # frames scored between writes: what a stopped run may have to score again
STAGE = "metrics"


@dataclass(slots=True)
class MetricsResult:
    collection: str
    scored: int = 0  # frames decoded and scored
    linked: int = 0  # frames that only got their hash distance
    failed: int = 0  # frames that could not be read (left without scores)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        rate = self.scored / self.seconds if self.seconds > 0 else 0.0
        text = f"{self.collection}: {self.scored} frames scored"
        if self.linked:
            text += f", {self.linked} linked to their previous frame"
        if self.failed:
            text += f", {self.failed} unreadable"
        return text + f" in {self.seconds:.1f} s ({rate:.0f} frames/s)"


def region_for(config: Config, collection_id: str) -> sky.Region:
    """The sky metrics region of a camera or collection id: its ``metrics_region``; a
    collection without one takes its camera's (capture measured its frames with that)."""
    camera = config.cameras.get(collection_id)
    chosen = camera.metrics_region if camera is not None else None
    collection = config.collections.get(collection_id)
    if collection is not None:
        chosen = collection.metrics_region
        if chosen is None and collection.camera in config.cameras:
            chosen = config.cameras[collection.camera].metrics_region
    return sky.WHOLE if chosen is None else sky.Region(chosen.top, chosen.bottom)


def _measure(frame: Frame, scores: bool, region: sky.Region) -> dict[str, float | int | None]:
    """Sky metrics of a frame, and its quality scores when ``scores``; also its size and mtime
    (filled only where the index has none)."""
    stat = frame.path.stat()
    with open_image(frame.path) as image:
        width, height = image.size  # before the draft decode shrinks it
        exposure = exif.exposure(image)
        small = quality.reduced(image, "RGB")
        columns: dict[str, float | int | None] = {
            **sky.measure(small, height, region, exposure).as_columns(),
            "width": width,
            "height": height,
            "size": stat.st_size,
            "mtime": stat.st_mtime,
        }
        if scores:
            columns.update(quality.score(small).as_columns())
    return columns


def fill_metrics(
    index: FrameIndex,
    collection: str,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    batch: int = BATCH,
    region: sky.Region = sky.WHOLE,
) -> MetricsResult:
    """Score and measure the frames of ``collection`` that lack scores or sky metrics;
    resumable (see the module). ``region`` is the band of rows the sky metrics measure.

    ``cancel`` set stops after writing what was scored so far (:class:`Cancelled`).
    """
    result = MetricsResult(collection)
    report = Throttle(progress)
    started = time.monotonic()
    total = index.count_unscored(collection)
    done = 0
    after: tuple[float, int] | None = None
    # hashes scored in this batch and not written yet: the next frame's predecessor may be one
    pending: dict[int, int] = {}
    while True:
        frames = index.unscored(collection, after, batch)
        if not frames:
            break
        updates: list[tuple[int, dict[str, float | int | None]]] = []
        try:
            for frame, sky_missing in frames:
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"{collection}: scoring stopped after {done} frames")
                columns: dict[str, float | int | None] = {}
                dhash = frame.dhash
                if dhash is None or sky_missing:
                    try:
                        columns = _measure(frame, dhash is None, region)
                    except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises
                        log.warning("%s: cannot score %s: %s", collection, frame.path, exc)
                        result.failed += 1
                        continue
                    dhash = int(columns.get("dhash", dhash) or 0)
                    result.scored += 1
                    done += 1
                previous_id, previous = index.previous_hash(collection, frame.utc, frame.id)
                previous = pending.get(previous_id, previous)
                if previous is not None:
                    columns["hash_distance"] = quality.hash_distance(previous, dhash)
                    if frame.dhash is not None:
                        result.linked += 1
                pending[frame.id] = dhash
                if columns:
                    updates.append((frame.id, columns))
                elapsed = time.monotonic() - started
                rate = done / elapsed if elapsed > 0 else None
                eta = (total - done) / rate if rate else None
                report(Progress(STAGE, done, total, rate, eta, str(frame.path.name)))
        finally:
            index.set_scores(updates)
            result.seconds = time.monotonic() - started
        pending.clear()  # written: the index answers for them now
        after = (frames[-1][0].utc, frames[-1][0].id)
    result.seconds = time.monotonic() - started
    report(Progress(STAGE, total, total, message="done"))
    return result
