"""Making a picture from a collection: which frames (the day's slot grid, the night window, a
range of days' stored colours), then the picture itself, with staged progress and cancel.

The collection is anything with the :class:`~pylapse.pictures.request.PictureSource` shape
(``Collection`` has it); this module never imports the collection or the index, which sit above
it. ``collection.pictures``
is a :class:`Pictures` on the collection.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import statistics
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from pylapse.pictures.daystrip import daystrip
from pylapse.pictures.frames import default_workers, ticker
from pylapse.pictures.keogram import keogram
from pylapse.pictures.kinds import ONE_DAY_KINDS, PictureError, PictureKind
from pylapse.pictures.request import Picture, PictureRequest, PictureSource
from pylapse.pictures.stacks import StackMode, negative, stack
from pylapse.pictures.timeslice import frame_size, timeslice
from pylapse.pictures.timewarp import timewarp
from pylapse.progress import Progress, ProgressCallback, safe_report
from pylapse.selection.selection import Selection
from pylapse.selection.sun import NIGHT, SunGap, sun_window

__all__ = [
    "Pictures",
    "draw_day",
    "make_picture",
    "make_timewarp",
    "plan_day",
    "slot_paths",
    "typical_spacing",
]

SELECT, READ = "select", "read"  # the stages make_picture reports


def slot_paths(selection: Selection) -> list[str | None]:
    """The frame path of each target of ``selection`` (None for a gap), frames loaded in
    batches."""
    frames = selection.iter_frames()
    out: list[str | None] = []
    current, path = -1, None
    for p in selection.positions:
        if p < 0:
            out.append(None)
            continue
        if p != current:
            path, current = str(next(frames).path), p
        out.append(path)
    return out


def typical_spacing(utcs: Sequence[float]) -> float:
    """The median time between consecutive frames, at least 1 s (10 s for fewer than two)."""
    gaps = [b - a for a, b in itertools.pairwise(utcs) if b > a]
    return max(1.0, round(statistics.median(gaps))) if gaps else 10.0


def make_picture(
    source: PictureSource,
    request: PictureRequest,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    executor: Executor | None = None,
) -> Picture:
    """Make the picture ``request`` asks for from ``source``'s frames (stages: select, read);
    ``executor``: where frames are decoded (see :func:`~pylapse.pictures.frames.read_frames`)."""
    request = request.checked()
    safe_report(progress, Progress(SELECT, 0, 1))
    kind = request.kind
    if kind is PictureKind.COLORMAP:
        from pylapse.pictures.colormap import colormap_picture

        return colormap_picture(source, request, progress, cancel)
    paths, manifest = plan_day(source, request)
    found = sum(p is not None for p in paths)
    safe_report(progress, Progress(SELECT, 1, 1, message=f"{found} frames"))
    return draw_day(request, paths, manifest, progress, cancel, executor=executor)


def plan_day(
    source: PictureSource, request: PictureRequest
) -> tuple[list[str | None], dict[str, Any]]:
    """The frames a one-day picture is drawn from (a path per slot, None for a gap) and its
    manifest: everything that needs the index, so the drawing can happen elsewhere
    (:func:`draw_day`, a Celery worker). :class:`PictureError` when the day has no frames."""
    request = request.checked()
    assert request.day is not None and request.kind in ONE_DAY_KINDS  # checked()
    if request.kind in (PictureKind.NIGHTSTACK, PictureKind.DAYSTACK):
        paths, times, extra = _stack_frames(source, request)
    else:
        paths, times, extra = _day_slots(source, request)
    manifest = {
        "kind": request.kind.value,
        "collection": source.key,
        "timezone": str(source.zone),
        "parameters": request.parameters(),
        **extra,
        "frames": [[t, p] for t, p in zip(times, paths, strict=True)],
    }
    return paths, manifest


def draw_day(
    request: PictureRequest,
    paths: Sequence[str | None],
    manifest: dict[str, Any],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    executor: Executor | None = None,
) -> Picture:
    """The one-day picture of :func:`plan_day`'s frames (stage: read)."""
    image = _draw(request.checked(), paths, ticker(progress, READ), cancel, executor)
    return Picture(image, manifest)


def _draw(
    request: PictureRequest,
    paths: Sequence[str | None],
    tick: Callable[[int, int], None],
    cancel: threading.Event | None,
    executor: Executor | None,
) -> Image.Image:
    common: dict[str, Any] = {"scale": request.scale, "workers": request.workers,
                              "cancel": cancel, "tick": tick, "executor": executor}  # fmt: skip
    kind = request.kind
    if kind is PictureKind.DAYSTRIP:
        return daystrip(paths, row=request.row, **common)
    if kind is PictureKind.KEOGRAM:
        return keogram(paths, column=request.column, **common)
    if kind is PictureKind.TIMESLICE:
        return timeslice(paths, **common)
    if kind is PictureKind.DAYSTACK:
        return stack(paths, StackMode.MIN, **common)
    image = stack(paths, StackMode.MAX, **common)
    return negative(image) if request.negative else image


def _day_slots(
    source: PictureSource, request: PictureRequest
) -> tuple[list[str | None], list[float], dict[str, Any]]:
    day = request.day
    width = request.slot_width
    if width is None:
        width = typical_spacing(source.select(date_from=day, date_to=day).utcs)
    grid = source.slot_grid(width, date_from=day, date_to=day)
    if not grid.counts.chosen:
        raise PictureError(f"{source.key} has no frames on {day}")
    return slot_paths(grid), list(grid.targets), {"slot_width": width, "slots": len(grid.targets)}


def _stack_frames(
    source: PictureSource, request: PictureRequest
) -> tuple[list[str | None], list[float], dict[str, Any]]:
    day = request.day
    assert day is not None
    extra: dict[str, Any] = {}
    if request.kind is PictureKind.NIGHTSTACK:
        if request.latitude is None or request.longitude is None:
            raise PictureError(
                "a nightstack needs the camera's latitude and longitude (for sunset and sunrise)"
            )
        window = sun_window(day, request.latitude, request.longitude, source.zone, *NIGHT)
        if isinstance(window, SunGap):
            raise PictureError(str(window))
        start, stop = window[0], window[1] - timedelta(microseconds=1)  # the end is exclusive
        extra["window"] = [start.isoformat(), window[1].isoformat()]
        what = f"the night after {day} ({start:%H:%M} to {stop:%H:%M})"
    else:
        start = datetime.combine(day, time(0), source.zone)
        stop = start + timedelta(days=1) - timedelta(microseconds=1)
        what = str(day)
    selection = source.select(date_from=start, date_to=stop)
    if not selection.counts.chosen:
        raise PictureError(f"{source.key} has no frames in {what}")
    paths: list[str | None] = [str(f.path) for f in selection.iter_frames()]
    return paths, selection.utcs, extra


def make_timewarp(
    source: PictureSource,
    request: PictureRequest,
    output: str | os.PathLike[str],
    *,
    band: int = 4,
    fps: float = 30.0,
    size: tuple[int, int] | None = None,
    ffmpeg: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Path:
    """The time warp video of ``request.day``'s slots (see :mod:`pylapse.pictures.timewarp`);
    ``size`` defaults to the frames' size at ``request.scale``, made even."""
    request = replace(request, kind=PictureKind.TIMESLICE).checked()
    safe_report(progress, Progress(SELECT, 0, 1))
    paths, _times, _extra = _day_slots(source, request)
    safe_report(progress, Progress(SELECT, 1, 1))
    if size is None:
        width, height = frame_size(paths, request.scale)
        size = (width - width % 2, height - height % 2)
    return timewarp(paths, output, size, band=band, fps=fps, scale=request.scale,
                    ffmpeg=ffmpeg, workers=request.workers, progress=progress,
                    cancel=cancel, executor=executor)  # fmt: skip


class Pictures:
    """``collection.pictures``: each kind as a method returning a :class:`Picture` (``.image``,
    ``.manifest``, ``.save(path)``). Options are :class:`PictureRequest`'s fields."""

    def __init__(
        self, source: PictureSource, pool: Callable[[int], Executor] | None = None
    ) -> None:
        self._source = source
        self._pool = pool  # makes the executor frames are decoded on (None: threads)

    def _executor(self, workers: int | None) -> contextlib.AbstractContextManager[Any]:
        if self._pool is None:
            return contextlib.nullcontext()
        return self._pool(workers or default_workers())

    def make(
        self,
        request: PictureRequest,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Picture:
        if request.latitude is None and request.longitude is None:
            # a collection knows its (or its camera's) place: the night stack needs no repeat
            latitude = getattr(self._source, "latitude", None)
            longitude = getattr(self._source, "longitude", None)
            if latitude is not None and longitude is not None:
                request = replace(request, latitude=latitude, longitude=longitude)
        if request.kind == PictureKind.COLORMAP:  # read from the index: no frame decoded
            return make_picture(self._source, request, progress, cancel)
        with self._executor(request.workers) as executor:
            return make_picture(self._source, request, progress, cancel, executor=executor)

    def _day(self, kind: PictureKind, day: date | str, options: dict[str, Any]) -> Picture:
        progress, cancel = options.pop("progress", None), options.pop("cancel", None)
        when = date.fromisoformat(day) if isinstance(day, str) else day
        return self.make(PictureRequest(kind, day=when, **options), progress, cancel)

    def daystrip(self, day: date | str, **options: Any) -> Picture:
        return self._day(PictureKind.DAYSTRIP, day, options)

    def keogram(self, day: date | str, **options: Any) -> Picture:
        return self._day(PictureKind.KEOGRAM, day, options)

    def timeslice(self, day: date | str, **options: Any) -> Picture:
        return self._day(PictureKind.TIMESLICE, day, options)

    def nightstack(self, day: date | str, **options: Any) -> Picture:
        return self._day(PictureKind.NIGHTSTACK, day, options)

    def daystack(self, day: date | str, **options: Any) -> Picture:
        return self._day(PictureKind.DAYSTACK, day, options)

    def timewarp(self, day: date | str, output: str | os.PathLike[str], **options: Any) -> Path:
        """The time warp video of ``day`` at ``output``: ``band``, ``fps``, ``size`` and
        ``ffmpeg`` for the video (see :func:`make_timewarp`), the rest as for the pictures."""
        video = {k: options.pop(k) for k in ("band", "fps", "size", "ffmpeg") if k in options}
        progress, cancel = options.pop("progress", None), options.pop("cancel", None)
        when = date.fromisoformat(day) if isinstance(day, str) else day
        request = PictureRequest(PictureKind.TIMESLICE, day=when, **options)
        with self._executor(request.workers) as executor:
            return make_timewarp(self._source, request, output, progress=progress,
                                 cancel=cancel, executor=executor, **video)  # fmt: skip

    def colormap(self, date_from: date | str, date_to: date | str, **options: Any) -> Picture:
        progress, cancel = options.pop("progress", None), options.pop("cancel", None)
        lo, hi = (date.fromisoformat(d) if isinstance(d, str) else d for d in (date_from, date_to))
        request = PictureRequest(PictureKind.COLORMAP, date_from=lo, date_to=hi, **options)
        return self.make(request, progress, cancel)
