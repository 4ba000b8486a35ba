"""Pictures as use cases shared by the dashboard, the CLI and the API: a picture made from a
collection and saved with its manifest, run directly (``pylapse picture``) or as a ``picture``
job with staged progress (select -> read -> save) and cancel.

The picture is made in memory and only then written, each file through a temporary name, so a
failed or cancelled run never harms an earlier picture at the same path.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse.export.pool import process_pool
from pylapse.pictures.distributed import DayPlan, draw_days_on_workers, saved_summary
from pylapse.pictures.frames import default_workers
from pylapse.pictures.kinds import ONE_DAY_KINDS, PictureError, PictureKind
from pylapse.pictures.make import draw_day, make_picture, plan_day
from pylapse.pictures.movie import StripMovie, daystrip_movie
from pylapse.pictures.request import PictureRequest
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "MAX_DAYS",
    "STEPS",
    "configured_request",
    "day_range",
    "make_and_save",
    "make_days",
    "picture_output",
    "pictures_folder",
    "queue_picture",
    "queue_picture_days",
]

#: the job's steps, weighted by what each costs: reading frames is the picture's work
STEPS = {"select": 1, "read": 18, "save": 1}

#: the most days one run of pictures by day covers: a year (a longer run is better split, and a
#: typo in a year must not start a decade of pictures)
MAX_DAYS = 366


def pictures_folder(config: Config) -> Path | None:
    """Where the dashboard's pictures go: ``pictures`` in the first storage root (None when
    there is no storage root)."""
    return config.root_paths[0] / "pictures" if config.root_paths else None


def picture_output(
    config: Config, collection_id: str, request: PictureRequest, *, folder: Path | None = None
) -> Path:
    """The dashboard's path for a picture: ``<collection>-<kind>-<date(s)>.png`` in ``folder``,
    else the pictures folder (the same picture made again replaces it); ``ValueError`` without
    either."""
    folder = folder or pictures_folder(config)
    if folder is None:
        raise ValueError("no storage roots are configured to hold pictures")
    if request.kind is PictureKind.COLORMAP:
        when = f"{request.date_from}_{request.date_to}-{request.stat}"
    else:
        when = f"{request.day}" + ("-negative" if request.negative else "")
    safe = re.sub(r"[^\w-]+", "-", collection_id).strip("-") or "collection"
    return folder / f"{safe}-{request.kind.value}-{when}.png"


def day_range(first: date, last: date) -> list[date]:
    """The days from ``first`` to ``last``, or :class:`PictureError` naming both when ``last``
    comes before ``first`` or the range is longer than :data:`MAX_DAYS`."""
    count = (last - first).days + 1
    if count < 1:
        raise PictureError(f"the last day ({last}) is before the first day ({first})")
    if count > MAX_DAYS:
        raise PictureError(
            f"{first} to {last} is {count} days: at most {MAX_DAYS} days of pictures are made "
            "in one run"
        )
    return [first + timedelta(days=n) for n in range(count)]


def configured_request(
    config: Config, collection_id: str, request: PictureRequest
) -> PictureRequest:
    """``request`` checked, with what the config knows filled in where it gives none: the slot
    width from the camera's interval schedule, the place from the camera's coordinates."""
    request = request.checked()
    camera_id = collection_id if collection_id in config.cameras else None
    if camera_id is None and collection_id in config.collections:
        camera_id = config.collections[collection_id].camera
    camera = config.cameras.get(camera_id) if camera_id else None
    if camera is None:
        return request
    changes: dict[str, Any] = {}
    if request.slot_width is None:
        intervals = [s.interval_seconds() for s in camera.schedules if s.enabled]
        seconds = [i for i in intervals if i]
        if seconds:
            changes["slot_width"] = min(seconds)  # the finest cadence the camera captures at
    if request.latitude is None and request.longitude is None:
        changes["latitude"], changes["longitude"] = camera.latitude, camera.longitude
    return replace(request, **changes)


def make_and_save(
    collection: Collection,
    request: PictureRequest,
    output: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    thumbnail: bool = False,
    movie: StripMovie | None = None,
) -> dict[str, Any]:
    """Make the picture and save it at ``output`` with its manifest; a summary for a job's
    result. Cancelled (or failed) before the save, nothing is written. ``movie``: a daystrip's
    movie too (stage ``encode``), made after the picture is saved."""
    if movie is not None and request.kind != PictureKind.DAYSTRIP:
        raise PictureError(f"a movie is made of a daystrip, not of a {request.kind}")
    if request.kind == PictureKind.COLORMAP:  # read from the index: no frame decoded
        picture = make_picture(collection, request, progress, cancel)
    else:
        # frames decoded in processes: Pillow's JPEG decoder holds the GIL for much of its work
        with process_pool(request.workers or default_workers()) as pool:
            picture = make_picture(collection, request, progress, cancel, executor=pool)
    if cancel is not None and cancel.is_set():
        raise Cancelled("the picture was cancelled before it was saved")
    safe_report(progress, Progress("save", 0, 1))
    saved = picture.save(output, thumbnail=thumbnail)
    safe_report(progress, Progress("save", 1, 1))
    frames = saved.manifest["frames"]
    made = None
    if movie is not None:
        made = daystrip_movie(picture.image, movie.output, size=movie.size, fps=movie.fps,
                              seconds=movie.seconds, progress=progress, cancel=cancel)  # fmt: skip
    return {
        "movie": None if made is None else str(made),
        "output": str(saved.path),
        "kind": saved.manifest["kind"],
        "width": picture.image.width,
        "height": picture.image.height,
        "frames": frames if isinstance(frames, int) else sum(1 for _, p in frames if p),
        "variants": [str(saved.path.with_name(n)) for n in saved.manifest["variants"]],
    }


def queue_picture(
    jobs: JobRunner,
    collection: Collection,
    collection_id: str,
    request: PictureRequest,
    output: Path,
) -> int:
    """Queue the picture as a ``picture`` job (with a thumbnail for the dashboard's list);
    returns its id. A bad request fails here, before anything is queued."""
    request = request.checked()

    def fn(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return make_and_save(collection, request, output, progress, cancel, thumbnail=True)

    when = request.day or f"{request.date_from} to {request.date_to}"
    params = {"collection": collection_id, "output": str(output), **request.parameters()}
    title = f"Picture {request.kind.value} of {collection_id}, {when}"
    return jobs.submit("picture", title, fn, steps=STEPS, params=params)


def make_days(
    config: Config,
    collection: Collection,
    collection_id: str,
    request: PictureRequest,
    first: date,
    last: date,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    thumbnail: bool = False,
    output_dir: Path | None = None,
) -> dict[str, Any]:
    """A one-day picture of ``request.kind`` for each day from ``first`` to ``last``, each saved at
    :func:`picture_output` (in ``output_dir`` when given) with its manifest. The days are planned
    here (the index); they are drawn here or, with the config's ``jobs.backend`` "celery", a day a
    task on the workers (:mod:`pylapse.pictures.distributed`): the same pixels either way. Days
    without frames are listed in ``empty_days``; :class:`PictureError` when every day is empty."""
    days = day_range(first, last)
    request = configured_request(config, collection_id, replace(request, day=first))
    if request.kind not in ONE_DAY_KINDS:
        raise PictureError(f"pictures by day are one-day kinds, not {request.kind}")
    plans: list[DayPlan] = []
    empty: list[str] = []
    for n, day in enumerate(days):
        safe_report(progress, Progress("select", n, len(days), message=str(day)))
        one = replace(request, day=day)
        try:
            paths, manifest = plan_day(collection, one)
        except PictureError:  # a day the camera took nothing on: the others still come
            empty.append(day.isoformat())
            continue
        output = picture_output(config, collection_id, one, folder=output_dir)
        plans.append((one, paths, manifest, output))
    if not plans:
        raise PictureError(f"{collection_id} has no frames from {first} to {last}")
    safe_report(progress, Progress("select", len(days), len(days)))
    jobs = config.jobs
    if jobs.backend == "celery":
        from pylapse.jobs.celery_app import client_app

        assert jobs.broker_url is not None and jobs.results_url is not None  # the model checks
        app = client_app(jobs.broker_url, jobs.results_url, jobs.visibility_timeout)
        made = draw_days_on_workers(app, jobs.queue, plans, progress, cancel, thumbnail=thumbnail)
    else:
        made = _draw_here(plans, progress, cancel, thumbnail, request.workers)
    safe_report(progress, Progress("save", 1, 1))
    return {"kind": request.kind.value, "pictures": made, "empty_days": empty}


def _draw_here(
    plans: Sequence[DayPlan],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    thumbnail: bool,
    workers: int | None,
) -> list[dict[str, Any]]:
    """The planned days drawn one after the other in this process, saved as each is done."""
    total = sum(len(paths) for _, paths, _, _ in plans)
    done, made = 0, []
    with process_pool(workers or default_workers()) as pool:
        for request, paths, manifest, output in plans:

            def report(p: Progress, before: int = done) -> None:
                if p.stage == "read":
                    safe_report(progress, Progress("read", before + p.done, total, p.rate, p.eta))

            picture = draw_day(request, paths, manifest, report, cancel, executor=pool)
            if cancel is not None and cancel.is_set():
                raise Cancelled("the pictures were cancelled")
            saved = picture.save(output, thumbnail=thumbnail)
            made.append(saved_summary(saved.path, picture.image.size, paths))
            done += len(paths)
    return made


def queue_picture_days(
    jobs: JobRunner,
    config: Config,
    collection: Collection,
    collection_id: str,
    request: PictureRequest,
    first: date,
    last: date,
) -> int:
    """Queue :func:`make_days` as one ``picture`` job (thumbnails for the dashboard's list);
    returns its id. A bad request or range fails here, before anything is queued."""
    day_range(first, last)
    configured_request(config, collection_id, replace(request, day=first))

    def fn(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return make_days(config, collection, collection_id, request, first, last, progress,
                         cancel, thumbnail=True)  # fmt: skip

    params = {"collection": collection_id, **request.parameters(),
              "date_from": first.isoformat(), "date_to": last.isoformat()}  # fmt: skip
    title = f"Pictures {PictureKind(request.kind).value} of {collection_id}, {first} to {last}"
    return jobs.submit("picture", title, fn, steps=STEPS, params=params)
