"""Pictures as use cases shared by the dashboard, the CLI and the API: a picture made from a
collection and saved with its manifest, run directly (``pylapse picture``) or as a ``picture``
job with staged progress (select -> read -> save) and cancel.

The picture is made in memory and only then written, each file through a temporary name, so a
failed or cancelled run never harms an earlier picture at the same path.
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse.export.pool import process_pool
from pylapse.pictures.frames import default_workers
from pylapse.pictures.kinds import PictureError, PictureKind
from pylapse.pictures.make import make_picture
from pylapse.pictures.movie import StripMovie, daystrip_movie
from pylapse.pictures.request import PictureRequest
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "STEPS",
    "configured_request",
    "make_and_save",
    "picture_output",
    "pictures_folder",
    "queue_picture",
]

#: the job's steps, weighted by what each costs: reading frames is the picture's work
STEPS = {"select": 1, "read": 18, "save": 1}


def pictures_folder(config: Config) -> Path | None:
    """Where the dashboard's pictures go: ``pictures`` in the first storage root (None when
    there is no storage root)."""
    return config.root_paths[0] / "pictures" if config.root_paths else None


def picture_output(config: Config, collection_id: str, request: PictureRequest) -> Path:
    """The dashboard's path for a picture: ``<collection>-<kind>-<date(s)>.png`` in the
    pictures folder (the same picture made again replaces it); ``ValueError`` without a storage
    root."""
    folder = pictures_folder(config)
    if folder is None:
        raise ValueError("no storage roots are configured to hold pictures")
    if request.kind is PictureKind.COLORMAP:
        when = f"{request.date_from}_{request.date_to}-{request.stat}"
    else:
        when = f"{request.day}" + ("-negative" if request.negative else "")
    safe = re.sub(r"[^\w-]+", "-", collection_id).strip("-") or "collection"
    return folder / f"{safe}-{request.kind.value}-{when}.png"


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
