"""Photomosaics as use cases shared by the dashboard, the CLI and the API: an image rebuilt from
a collection's own frames (a picture with its manifest, listed on the Pictures page), or every
frame of a date range rebuilt so (a video through :func:`pylapse.tasks.mosaic.encode_composed`),
run directly (``pylapse mosaic photo``) or as a ``mosaic`` job.

The tiles come from a codebook of at most :data:`CODEBOOK` frames spread over the collection,
whose vectors are cached in the data folder (:func:`tile_cache_folder`) and refreshed for frames
added or changed since; the matching itself is :mod:`pylapse.mosaic.photo`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse.mosaic.photo import photomosaic
from pylapse.mosaic.sequence import COMPOSE, JPEG_QUALITY
from pylapse.mosaic.tilecache import DEFAULT_SIDE, refresh_vectors
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle, safe_report
from pylapse.tasks.mosaic import CHUNK, encode_composed, job_params
from pylapse.video.command import RenderOptions

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "CODEBOOK",
    "PHOTO_STEPS",
    "codebook_frames",
    "photo_picture",
    "photo_video",
    "queue_photo",
    "tile_cache_folder",
]


#: frames a photomosaic picks its tiles from at most (spread evenly over the collection): the
#: vectors, the cache and the lookup stay bounded however many millions of frames there are
CODEBOOK = 100_000


def codebook_frames(collection: Collection, limit: int = CODEBOOK) -> list[Any]:
    """About ``limit`` of ``collection``'s frames, spread over it: those whose index id is a
    multiple of k (ids grow with the scan, so the pick is even, and it stays the same when
    frames are added: the tile cache keeps its vectors). Read in batches; memory holds only the
    kept ones."""
    if limit < 1:
        raise ValueError(f"codebook: {limit} must be at least 1 frame")
    selection = collection.select()
    step = max(1, -(-len(selection) // limit))
    return [f for f in selection.iter_frames() if f.id % step == 0]


def tile_cache_folder(data_path: str | os.PathLike[str]) -> Path:
    """Where photomosaic tile vectors are cached: ``mosaic-tiles`` in the data folder."""
    return Path(data_path) / "mosaic-tiles"


def photo_picture(
    collection: Collection,
    target: str | os.PathLike[str],
    output: str | os.PathLike[str],
    cache: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    tile: int = 20,
    repeat: int | None = None,
    opacity: float = 0.0,
    side: int = DEFAULT_SIDE,
    workers: int | None = None,
    thumbnail: bool = False,
    codebook: int = CODEBOOK,
) -> dict[str, Any]:
    """The image ``target`` rebuilt from ``collection``'s frames, saved at ``output`` (a picture
    with its manifest, so the Pictures page lists it). The tile vectors come from the cache in
    ``cache`` (see :func:`tile_cache_folder`), refreshed for frames added or changed since."""
    from pylapse.imaging.decode import open_image
    from pylapse.pictures.manifest import image_format, save_picture

    image_format(output)  # a bad extension fails before minutes of work
    with open_image(target) as opened:
        picture = opened.convert("RGB")
    safe_report(progress, Progress("select", 0, 1))
    frames = codebook_frames(collection, codebook)
    safe_report(progress, Progress("select", 1, 1, message=f"{len(frames)} frames"))
    vectors = refresh_vectors(frames, cache, collection.key, side=side, progress=progress,
                              cancel=cancel, workers=workers)  # fmt: skip
    made = photomosaic(picture, vectors, tile, repeat=repeat, opacity=opacity,
                       progress=progress, cancel=cancel, workers=workers)  # fmt: skip
    if cancel is not None and cancel.is_set():
        raise Cancelled("the photomosaic was cancelled before it was saved")
    safe_report(progress, Progress("save", 0, 1))
    used = sorted(set(made.choices.tolist()))
    manifest = {"kind": "photomosaic", "collection": collection.key, "target": str(target),
                "parameters": {"tile": tile, "repeat": repeat, "opacity": opacity, "side": side},
                "grid": list(made.grid), "codebook": len(vectors),
                "frames": [str(vectors.paths[i]) for i in used]}  # fmt: skip
    saved = save_picture(made.image, output, manifest, thumbnail=thumbnail)
    safe_report(progress, Progress("save", 1, 1))
    return {"output": str(saved.path), "width": made.image.width, "height": made.image.height,
            "tiles": made.grid[0] * made.grid[1], "frames": len(used),
            "codebook": len(vectors)}  # fmt: skip


def photo_video(
    collection: Collection,
    date_from: date | datetime | str | None,
    date_to: date | datetime | str | None,
    output: str | os.PathLike[str],
    cache: str | os.PathLike[str],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    size: tuple[int, int] = (1280, 720),
    tile: int = 20,
    repeat: int | None = None,
    opacity: float = 0.0,
    side: int = DEFAULT_SIDE,
    render: RenderOptions | Mapping[str, Any] | None = None,
    workers: int | None = None,
    codebook: int = CODEBOOK,
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """The video mosaic: every frame of ``collection`` from ``date_from`` to ``date_to``
    rebuilt from the collection's own frames (each fitted into ``size`` first), encoded by the
    video runner (a ``.gif`` output makes a GIF, for short results). Tiles are decoded once for
    the whole video."""
    from pylapse.imaging.decode import open_image

    safe_report(progress, Progress("select", 0, 1))
    targets = [str(f.path) for f in collection.select(date_from=date_from,
                                                      date_to=date_to).iter_frames()]  # fmt: skip
    if not targets:
        raise ValueError(f"{collection.key} has no frames from {date_from} to {date_to}")
    every = codebook_frames(collection, codebook)
    safe_report(progress, Progress("select", 1, 1, message=f"{len(targets)} frames"))
    vectors = refresh_vectors(every, cache, collection.key, side=side, progress=progress,
                              cancel=cancel, workers=workers)  # fmt: skip
    held: dict[int, Any] = {}
    report = Throttle(progress)

    def write(folder: Path, first: int, stop: int) -> list[Path]:
        out = []
        for k in range(first, stop):
            path = targets[k]
            if cancel is not None and cancel.is_set():
                raise Cancelled("the mosaic was cancelled")
            with open_image(path) as opened:
                opened.draft("RGB", size)
                frame = opened.convert("RGB")
            frame.thumbnail(size)
            made = photomosaic(frame, vectors, tile, repeat=repeat, opacity=opacity,
                               cancel=cancel, workers=workers, held=held)  # fmt: skip
            name = folder / f"mosaic-{k:07d}.jpg"
            made.image.save(name, "JPEG", quality=JPEG_QUALITY)
            out.append(name)
            report(Progress(COMPOSE, k + 1, len(targets)))
        return out

    def section() -> dict[str, Any]:
        return {"kind": "photo-video", "collection": collection.key, "from": str(date_from),
                "to": str(date_to), "codebook": len(vectors), "tiles_used": len(held),
                "parameters": {"tile": tile, "repeat": repeat, "opacity": opacity,
                               "side": side, "size": list(size)}}  # fmt: skip

    return encode_composed(write, len(targets), output, render, progress, cancel, section, chunk)


#: a photomosaic job's steps: vectors for new frames, matching, decoding the chosen tiles
PHOTO_STEPS = {"select": 1, "vectors": 8, "match": 2, "tiles": 6, "save": 1}


def queue_photo(
    jobs: JobRunner,
    collection: Collection,
    target: str | os.PathLike[str],
    output: str | os.PathLike[str],
    cache: str | os.PathLike[str],
    **options: Any,
) -> int:
    """:func:`photo_picture` as a ``mosaic`` job (with a thumbnail for the Pictures page)."""
    params = {"kind": "photo", "collection": collection.key, "target": str(target),
              "output": str(output), **job_params(options)}  # fmt: skip

    def make(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return photo_picture(collection, target, output, cache, progress, cancel,
                             thumbnail=True, **options)  # fmt: skip

    title = f"Photomosaic of {Path(target).name} from {collection.key}"
    return jobs.submit("mosaic", title, make, steps=PHOTO_STEPS, params=params)
