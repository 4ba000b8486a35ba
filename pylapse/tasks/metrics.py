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

Each frame's scores carry the version of the method that made them (:data:`quality.VERSION`;
the index's ``score_version``). Frames an older method scored are left alone unless asked
(``rescore_old``, ``pylapse metrics --rescore-old``): a rescore decodes every one of them again,
which for an archive of years is hours, and an older frame's scores still do for what stays
within its version (its hash against its neighbours', its sharpness against frames scored
alike). The job walks them first, in time order, the same resumable way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import exif
from pylapse.imaging import quality, sky
from pylapse.imaging.decode import open_image
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.index.frame import Frame
    from pylapse.index.store import FrameIndex

__all__ = [
    "MEASURE_TASK",
    "MeasureMany",
    "MetricsResult",
    "backend_options",
    "fill_metrics",
    "measure_on_workers",
    "measure_rows",
    "older_note",
    "region_for",
]

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


def older_note(count: int) -> str:
    """What to tell about ``count`` > 0 frames scored by an older method (``pylapse metrics``)."""
    frames = "frame was" if count == 1 else "frames were"
    return (
        f"{count:,} {frames} scored by an older method: run pylapse metrics --rescore-old "
        "to make them comparable"
    )


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


Columns = dict[str, float | int | None]
#: frame id -> its columns, or why it could not be read
Measured = dict[int, Columns | str]
#: measures (frame, sky missing) pairs elsewhere (Celery workers); progress counts the frames
MeasureMany = Callable[
    [Sequence[tuple["Frame", bool]], sky.Region, ProgressCallback, threading.Event | None],
    Measured,
]
#: the name the measuring task is registered under in ``pylapse worker``
MEASURE_TASK = "pylapse.metrics.measure"
_UNREADABLE = (OSError, ValueError, SyntaxError)  # what Pillow raises


def _measure(frame: Frame, scores: bool, region: sky.Region) -> Columns:
    return _measure_path(frame.path, scores, region)


def _measure_path(path: Path, scores: bool, region: sky.Region) -> Columns:
    """Sky metrics of a frame, and its quality scores when ``scores``; also its size and mtime
    (filled only where the index has none)."""
    stat = path.stat()
    with open_image(path) as image:
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
    measure: MeasureMany | None = None,
    rescore_old: bool = False,
) -> MetricsResult:
    """Score and measure the frames of ``collection`` that lack scores or sky metrics;
    resumable (see the module). ``region`` is the band of rows the sky metrics measure.
    ``measure`` decodes each batch's frames elsewhere (:func:`measure_on_workers`); the hash
    distances and the writes stay here, in time order. ``rescore_old`` first scores (and
    measures) again the frames an older method scored (:data:`quality.VERSION`): their scores
    are on another scale; a frame whose hash changed gets its next frame's distance again.

    ``cancel`` set stops after writing what was scored so far (:class:`Cancelled`).
    """
    version = quality.VERSION
    run = _Run(index, collection, Throttle(progress), cancel, region, measure)
    old = index.count_old_scores(collection, version) if rescore_old else 0
    run.total = index.count_unscored(collection) + old
    if old:  # first: a rescored frame gets its sky metrics too, so no second decode of it
        run.walk(
            lambda after: [(f, True) for f in index.old_scored(collection, version, after, batch)],
            rescore=True,
            last=lambda frames: len(frames) < batch,  # not one more walk over the newer ones
        )
    run.walk(lambda after: index.unscored(collection, after, batch), rescore=False)
    run.result.seconds = time.monotonic() - run.started
    run.report(Progress(STAGE, run.total, run.total, message="done"))
    return run.result


@dataclass(slots=True)
class _Run:
    """One :func:`fill_metrics` run: its walks share the progress and the result."""

    index: FrameIndex
    collection: str
    report: ProgressCallback
    cancel: threading.Event | None
    region: sky.Region
    measure: MeasureMany | None
    total: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    result: MetricsResult = field(init=False)

    def __post_init__(self) -> None:
        self.result = MetricsResult(self.collection)

    def walk(self, fetch: Callable[[tuple[float, int] | None], list[tuple[Frame, bool]]],
             rescore: bool,
             last: Callable[[list[tuple[Frame, bool]]], bool] = lambda frames: False,
             ) -> None:  # fmt: skip
        """Score the frames ``fetch`` returns a batch at a time (each with whether its sky
        metrics are missing), all of them again when ``rescore``, else those without a hash;
        until a batch is empty or ``last`` says it was the last."""
        index, collection, result = self.index, self.collection, self.result
        after: tuple[float, int] | None = None
        # hashes scored in this batch and not written yet: the next frame's predecessor may be one
        pending: dict[int, int] = {}
        while frames := fetch(after):
            updates: list[tuple[int, dict[str, float | int | None]]] = []
            try:
                ahead = _measure_ahead(
                    self.measure, frames, self.region, self.report, self.done, self.total,
                    self.cancel, rescore,
                )  # fmt: skip
                for frame, sky_missing in frames:
                    if self.cancel is not None and self.cancel.is_set():
                        raise Cancelled(f"{collection}: scoring stopped after {self.done} frames")
                    columns: dict[str, float | int | None] = {}
                    dhash = frame.dhash
                    if rescore or dhash is None or sky_missing:
                        scores = rescore or dhash is None
                        try:
                            columns = _columns(ahead, frame, scores, self.region)
                        except _UNREADABLE as exc:
                            log.warning("%s: cannot score %s: %s", collection, frame.path, exc)
                            result.failed += 1
                            continue
                        dhash = int(columns.get("dhash", dhash) or 0)
                        result.scored += 1
                        self.done += 1
                    previous_id, previous = index.previous_hash(collection, frame.utc, frame.id)
                    previous = pending.get(previous_id, previous)
                    if previous is not None:
                        columns["hash_distance"] = quality.hash_distance(previous, dhash)
                        if frame.dhash is not None and not rescore:
                            result.linked += 1
                    pending[frame.id] = dhash
                    if columns:
                        updates.append((frame.id, columns))
                    if rescore and dhash != frame.dhash:
                        updates.extend(self._relink(frame, dhash))
                    elapsed = time.monotonic() - self.started
                    rate = self.done / elapsed if elapsed > 0 else None
                    eta = (self.total - self.done) / rate if rate else None
                    self.report(
                        Progress(STAGE, self.done, self.total, rate, eta, str(frame.path.name))
                    )
            finally:
                index.set_scores(updates)
                result.seconds = time.monotonic() - self.started
            pending.clear()  # written: the index answers for them now
            if last(frames):
                break
            after = (frames[-1][0].utc, frames[-1][0].id)

    def _relink(self, frame: Frame, dhash: int) -> list[tuple[int, Columns]]:
        """The hash distance of the frame after a rescored one whose hash changed, unless the
        walk rescores that frame too (it then takes its distance from the new hash)."""
        following, its_hash, older = self.index.next_hash(
            self.collection, frame.utc, frame.id, quality.VERSION
        )
        if its_hash is None or older:
            return []
        return [(following, {"hash_distance": quality.hash_distance(dhash, its_hash)})]


def _measure_ahead(
    measure: MeasureMany | None,
    frames: Sequence[tuple[Frame, bool]],
    region: sky.Region,
    report: ProgressCallback,
    done: int,
    total: int,
    cancel: threading.Event | None,
    rescore: bool = False,
) -> Measured | None:
    """The batch's frames that need a decode, measured by ``measure`` (None: none given);
    all of them, scores included, when ``rescore``."""
    if measure is None:
        return None
    wanted = [
        (f, rescore or f.dhash is None)
        for f, sky_missing in frames
        if rescore or f.dhash is None or sky_missing
    ]

    def progress(p: Progress) -> None:
        report(Progress(STAGE, done + p.done, total, message="measured on workers"))

    return measure(wanted, region, progress, cancel) if wanted else {}


def _columns(ahead: Measured | None, frame: Frame, scores: bool, region: sky.Region) -> Columns:
    if ahead is None:
        return _measure(frame, scores, region)
    found = ahead.get(frame.id, "not measured")
    if isinstance(found, str):
        raise OSError(found)
    return found


def measure_rows(
    rows: Sequence[Sequence[Any]],
    region: Sequence[int | None],
    report: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """A Celery task's body (every argument JSON): measure ``[frame id, path, scores]`` rows in
    the rows ``region`` = ``[top, bottom]``; ``{"measured": {id: columns or why not}}``.
    It writes nothing, so a task redone after its worker died answers the same."""
    band = sky.Region(int(region[0] or 0), None if region[1] is None else int(region[1]))
    measured: dict[str, Columns | str] = {}
    for frame_id, path, scores in rows:
        try:
            measured[str(frame_id)] = _measure_path(Path(path), bool(scores), band)
        except _UNREADABLE as exc:
            measured[str(frame_id)] = str(exc) or type(exc).__name__
        if report is not None:
            report(len(measured))
    return {"measured": measured}


def measure_on_workers(app: Any, queue: str, chunk_frames: int) -> MeasureMany:
    """A :data:`MeasureMany` that sends the frames to Celery workers on ``queue``, a task per
    local day (a day of more than ``chunk_frames`` frames in pieces)."""
    from pylapse.export.distributed import plan_chunks
    from pylapse.jobs.fanout import TaskCall, run_tasks

    def measure(
        frames: Sequence[tuple[Frame, bool]],
        region: sky.Region,
        progress: ProgressCallback,
        cancel: threading.Event | None,
    ) -> Measured:
        scores = {f.id: wanted for f, wanted in frames}
        numbered = [(f.id, (str(f.path), f.utc, f.offset)) for f, _ in frames]
        calls = [
            TaskCall(
                MEASURE_TASK,
                ([[i, path, scores[i]] for i, (path, _, _) in chunk], [region.top, region.bottom]),
                len(chunk),
            )
            for chunk in plan_chunks(numbered, chunk_frames)
        ]
        results = run_tasks(app, calls, queue=queue, stage=STAGE, progress=progress, cancel=cancel)
        return {int(k): v for r in results for k, v in r["measured"].items()}

    return measure


def backend_options(config: Config) -> dict[str, Any]:
    """:func:`fill_metrics`'s keyword arguments for the config's ``jobs``: none in process;
    with Celery, frames measured on the workers, a day at a time, in batches of several tasks."""
    jobs = config.jobs
    if jobs.backend != "celery":
        return {}
    from pylapse.jobs.celery_app import client_app

    assert jobs.broker_url is not None and jobs.results_url is not None  # the model checks it
    app = client_app(jobs.broker_url, jobs.results_url, jobs.visibility_timeout)
    return {
        "measure": measure_on_workers(app, jobs.queue, jobs.chunk_frames),
        # enough frames a batch to keep several workers busy between the writes
        "batch": max(BATCH, 8 * jobs.chunk_frames),
    }
