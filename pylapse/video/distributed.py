"""A render's day segments encoded by Celery workers (``jobs.backend = "celery"``, issue 21 §3).

The process that queued the render keeps what decides the video: it lists and orders the
frames, cuts them into local days, fingerprints each day and reuses the days the segment cache
already has, exactly as :func:`~pylapse.video.segments.render_segmented` does in process; only
the encode of each missing day is a task (:func:`encode_segment`), and the join by stream copy
stays here. The frame list is therefore the one an in-process segmented render makes.

A day's task is idempotent. It first looks for the day's segment with the same fingerprint (a
task redone after its worker died, or a day another render encoded meanwhile, is not encoded
again), and it writes the segment as :func:`~pylapse.video.segments.encode_day` always does:
ffmpeg writes a hidden temp file that names its owner, renamed to the segment's name once
complete, then the manifest with the fingerprint. A worker killed mid-encode leaves only that
temp file, which the next encode in the folder sweeps (its owner is dead); the day has no
manifest with its fingerprint, so it is encoded again. Its ffmpeg dies with it
(:mod:`pylapse.orphans`).

Workers must see the frames and the cache folder under the same paths as the process that
queued the render (one machine, or a shared folder mounted alike), and use the same ffmpeg
build (a task refuses another: the segments' parameters include the ffmpeg version).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pylapse.ffmpeg import find_ffmpeg
from pylapse.jobs.fanout import TaskCall, run_tasks
from pylapse.progress import Progress, ProgressCallback
from pylapse.video.command import RenderOptions
from pylapse.video.segments import (
    DayToEncode,
    EncodeDays,
    OtherSize,
    cached_segment,
    encode_day,
    frame_stamp,
)

__all__ = ["SEGMENT_TASK", "SegmentFrame", "encode_on_workers", "encode_segment"]

#: the name the day-segment task is registered under in ``pylapse worker``
SEGMENT_TASK = "pylapse.video.segment"
STAGE = "encode"


@dataclass(frozen=True, slots=True)
class SegmentFrame:
    """A frame as a worker gets it: what the render and the day's fingerprint read of an index
    frame (size and mtime as the queuing process saw them)."""

    path: str
    utc: float
    offset: int | None
    size: int | None
    mtime: float | None
    width: int | None
    height: int | None


def _row(item: Any) -> list[Any]:
    path, utc, size, mtime = frame_stamp(item)
    offset, width, height = (getattr(item, k, None) for k in ("offset", "width", "height"))
    return [path, utc, offset, size, mtime, width, height]


# --- the worker side ---------------------------------------------------------------------------


def encode_segment(
    segment: str,
    day: str,
    rows: Sequence[Sequence[Any]],
    options: dict[str, Any],
    fingerprint: str,
    size: Sequence[int],
    roots: Sequence[str],
    ffmpeg_version: str,
    report: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Encode one day's segment (a Celery task's body; every argument JSON, ``rows`` as
    :class:`SegmentFrame` fields); ``{"manifest": the segment's manifest}``, or
    ``{"other_size": why}`` when the day's frames make another video size."""
    path = Path(segment)
    found = cached_segment(path, fingerprint)
    if found is not None:  # redone after a worker died once its day was complete, or shared
        return {"manifest": found, "reused": True}
    made = RenderOptions.from_dict(options)
    version = find_ffmpeg(made.ffmpeg_path).version
    if version != ffmpeg_version:
        raise RuntimeError(
            f"this worker's ffmpeg is {version}, the render asked for {ffmpeg_version}: "
            "segments of one video are encoded by one ffmpeg build"
        )

    def progress(p: Progress) -> None:
        if report is not None and p.stage == STAGE:
            report(p.done)

    items = [SegmentFrame(*row) for row in rows]
    try:
        manifest = encode_day(day, items, path, made, fingerprint, (int(size[0]), int(size[1])),
                              progress, cancel, roots)  # fmt: skip
    except OtherSize as exc:
        return {"other_size": str(exc)}
    return {"manifest": manifest, "reused": False}


# --- the side that queued the render -----------------------------------------------------------


def encode_on_workers(app: Any, queue: str) -> EncodeDays:
    """An :data:`~pylapse.video.segments.EncodeDays` sending each day to the Celery workers on
    ``queue`` of ``app`` as one task; progress counts the frames of all days."""

    def encode(
        wanted: Sequence[DayToEncode],
        options: RenderOptions,
        size: tuple[int, int],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        roots: Sequence[str | os.PathLike[str]],
    ) -> dict[str, dict[str, Any]]:
        version = find_ffmpeg(options.ffmpeg_path).version
        fields = asdict(options)
        allowed = [os.fspath(r) for r in roots]
        calls = [
            TaskCall(
                SEGMENT_TASK,
                (str(w.segment), w.day, [_row(i) for i in w.items], fields, w.fingerprint,
                 list(size), allowed, version),
                len(w.items),
            )
            for w in wanted
        ]  # fmt: skip
        results = run_tasks(app, calls, queue=queue, stage=STAGE, progress=progress,
                            cancel=cancel)  # fmt: skip
        manifests = {}
        for want, result in zip(wanted, results, strict=True):
            if "other_size" in result:
                raise OtherSize(result["other_size"])
            manifests[want.day] = result["manifest"]
        return manifests

    return encode
