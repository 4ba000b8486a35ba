"""Mosaics: a form that makes a multi-camera grid or a sunset mosaic video as a ``mosaic`` job
(live progress and cancel), and the mosaics made, each with a player.

Mosaics made here go to ``mosaics/`` in the first storage root (see
:func:`pylapse.tasks.mosaic.mosaic_output`). A video is served by file name only: the name must
be one the folder's manifests list, and the file is opened inside the storage roots as it is
sent. Photomosaics are pictures and are listed on the Pictures page, which links here.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from pylapse import storage
from pylapse.imaging.decode import open_image
from pylapse.mosaic.compose import parse_band
from pylapse.mosaic.sunset import parse_offset
from pylapse.tasks.mosaic import (
    list_mosaics,
    mosaic_output,
    mosaics_folder,
    queue_grid,
    queue_sunset,
)
from pylapse.tasks.photomosaic import queue_photo, tile_cache_folder
from pylapse.tasks.picture import pictures_folder
from pylapse.video.command import parse_size
from web import files
from web.deps import RuntimeDep, TemplatesDep
from web.routes import _media as m

router = APIRouter(tags=["mosaics"], include_in_schema=False)

JOB_BASE = "/mosaics/jobs"
KINDS = (
    ("grid", "Cameras side by side, time-synchronised"),
    ("sunset", "A grid of days around each day's sunset"),
)
LAYOUTS = (("grid", "Grid"), ("strip", "One large plus a strip"), ("pip", "Picture in picture"))
LISTED = 30
MAX_TARGET = 40 * 1024 * 1024  # bytes of an uploaded target image
TARGET_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif"}
MEDIA = {".mp4": "video/mp4", ".mkv": "video/x-matroska", ".webm": "video/webm",
         ".gif": "image/gif"}  # fmt: skip

m.add_job_routes(router, JOB_BASE, ("mosaic",))


def _day(values: dict[str, str], name: str, what: str) -> date:
    text = values.get(name, "").strip()
    if not text:
        raise m.FieldError(name, f"choose the {what}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise m.FieldError(name, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _number(values: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    text = values.get(name, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        raise m.FieldError(name, f"{text!r} is not a number") from None
    if not low <= value <= high:
        raise m.FieldError(name, f"{value:g} must be between {low:g} and {high:g}")
    return value


def _parsed(values: dict[str, str], name: str, parse: Any, default: Any = None) -> Any:
    text = values.get(name, "").strip()
    if not text:
        return default
    try:
        return parse(text)
    except ValueError as exc:
        raise m.FieldError(name, str(exc)) from None


def plan_mosaic(runtime: Any, values: dict[str, str], chosen: list[str]) -> tuple[str, Any]:
    """Check the form: ``(kind, start)`` where ``start(jobs)`` queues the job, or a FieldError."""
    kind = values.get("kind", "")
    if kind not in dict(KINDS):
        raise m.FieldError("kind", f"choose a kind of mosaic ({', '.join(dict(KINDS))})")
    known = runtime.collections()
    missing = [c for c in chosen if c not in known]
    if not chosen or missing:
        what = f"no collection {missing[0]!r}" if missing else "none chosen"
        raise m.FieldError("collections", f"choose the collections ({what})")
    if kind == "sunset" and len(chosen) != 1:
        raise m.FieldError("collections", "a sunset mosaic is made of one collection")
    first, last = _day(values, "date_from", "first day"), _day(values, "date_to", "last day")
    if last < first:
        raise m.FieldError("date_to", f"{last} is before the first day {first}")
    options: dict[str, Any] = {
        "size": _parsed(values, "size", parse_size, (1920, 1080)),
        "render": {"fps": _number(values, "fps", 24, 1, 120)},
        "labels": values.get("labels") == "on",
    }
    try:
        output = mosaic_output(runtime.config, kind, chosen, first, last)
    except ValueError as exc:
        raise m.FieldError("form", str(exc)) from None
    collections = [known[c] for c in chosen]
    if kind == "grid":
        layout = values.get("layout", "grid")
        if layout not in dict(LAYOUTS):
            raise m.FieldError("layout", f"choose a layout ({', '.join(dict(LAYOUTS))})")
        options.update(layout=layout, missing=values.get("missing") or "dim")
        return kind, lambda jobs: queue_grid(jobs, collections, first, last, output, **options)
    if len(collections) == 1 and collections[0].latitude is None:
        raise m.FieldError("collections", f"{chosen[0]} has no latitude and longitude")
    options.update(
        event=values.get("event") or "sunset",
        start=_parsed(values, "start", parse_offset, timedelta(minutes=-60)),
        end=_parsed(values, "end", parse_offset, timedelta(minutes=30)),
        band=_parsed(values, "band", parse_band),
        missing=values.get("missing") if values.get("missing") in ("repeat", "dark") else "repeat",
    )
    return kind, lambda jobs: queue_sunset(jobs, collections[0], first, last, output, **options)


def made(runtime: Any) -> list[tuple[Any, dict[str, Any]]]:
    return list_mosaics(mosaics_folder(runtime.config))[:LISTED]


def page_context(runtime: Any, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "active": "pictures",
        "page_title": "Mosaics",
        "values": values,
        "errors": errors,
        "kinds": KINDS,
        "layouts": LAYOUTS,
        "collections": {cid: c.name for cid, c in runtime.collections().items()},
        "chosen": values.get("collections", "").split(","),
        "mosaic_jobs": m.active_jobs(runtime, "mosaic"),
        "job_base": JOB_BASE,
        "mosaics": made(runtime),
        "no_folder": mosaics_folder(runtime.config) is None,
        "photo_errors": {},
    }


@router.get("/mosaics", response_class=HTMLResponse)
def mosaics(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    values = {"kind": "grid", "layout": "grid", "fps": "24", "size": "1920x1080",
              "start": "-60m", "end": "30m", "labels": "on"}  # fmt: skip
    values.update(request.query_params)
    return m.render(templates, request, "mosaics.html", page_context(runtime, values, {}))


@router.post("/mosaics", response_class=HTMLResponse)
async def start_mosaic(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    form = await request.form()
    chosen = [v for v in form.getlist("collections") if isinstance(v, str) and v]
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "collections"}
    values.pop("csrf_token", None)
    values["collections"] = ",".join(chosen)
    try:
        _, start = await run_in_threadpool(plan_mosaic, runtime, values, chosen)
    except m.FieldError as exc:
        context = page_context(runtime, values, {exc.field: str(exc)})
        if not m.is_htmx(request):
            return m.render(templates, request, "mosaics.html", context, status_code=422)
        response = m.render(
            templates, request, "partials/_mosaic_form.html", context, status_code=422
        )
        response.headers["HX-Retarget"] = "#mosaic-form"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    job_id = m.queue(runtime, start)
    return m.started(request, templates, runtime, job_id, JOB_BASE, "/mosaics")


@router.get("/mosaics/list", response_class=HTMLResponse)
def mosaic_list(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return m.render(templates, request, "partials/_mosaic_list.html", {"mosaics": made(runtime)})


@router.get("/mosaics/file/{name}")
def mosaic_file(name: str, runtime: RuntimeDep, download: bool = False) -> files.OpenFileResponse:
    """A listed mosaic video by file name, opened inside the roots."""
    listed = {video.name: video for video, _ in list_mosaics(mosaics_folder(runtime.config))}
    if name not in listed:
        raise HTTPException(404, f"no mosaic {name!r} in the mosaics folder")
    path = listed[name]
    handle = files.open_or_http_error(path, runtime.config.root_paths, f"mosaic {name}")
    return files.OpenFileResponse(
        handle,
        path,
        media_type=MEDIA.get(path.suffix.lower(), "application/octet-stream"),
        filename=path.name if download else None,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "private, no-cache"},  # the same name is made again
    )


def _saved_target(runtime: Any, data: bytes) -> Path:
    """The uploaded image kept in ``<data>/mosaic-targets/`` under its content's hash (the
    manifest names it, so the photomosaic can be made again), or a FieldError."""
    if not data:
        raise m.FieldError("target", "choose an image to rebuild")
    if len(data) > MAX_TARGET:
        raise m.FieldError("target", f"the image is larger than {MAX_TARGET // 2**20} MB")
    try:
        with open_image(io.BytesIO(data)) as image:
            fmt, size = image.format, image.size
            image.load()
    except (OSError, ValueError, SyntaxError):  # what Pillow raises on what is not an image
        raise m.FieldError("target", "the file is not an image Pillow can read") from None
    if fmt not in TARGET_FORMATS or min(size) < 2:
        raise m.FieldError("target", f"a {fmt} image is not accepted (JPEG, PNG, WebP, TIFF)")
    folder = Path(runtime.config.data_path) / "mosaic-targets"
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}{TARGET_FORMATS[str(fmt)]}"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        storage.atomic_write(path, data)
    return path


def plan_photo(runtime: Any, values: dict[str, str], data: bytes) -> Any:
    """Check the photomosaic form: ``start(jobs)`` that queues the job, or a FieldError."""
    cid = values.get("collection", "")
    collection = runtime.collections().get(cid)
    if collection is None:
        raise m.FieldError("collection", f"choose a collection (no collection {cid!r})")
    tile = int(_number(values, "tile", 20, 4, 512))
    repeat_text = values.get("repeat", "").strip()
    repeat = int(_number(values, "repeat", 1, 1, 1_000_000)) if repeat_text else None
    opacity = _number(values, "opacity", 0, 0, 1)
    folder = pictures_folder(runtime.config)
    if folder is None:
        raise m.FieldError("form", "no storage roots are configured to hold pictures")
    target = _saved_target(runtime, data)
    stem = m.slug(cid, set(), "collection")
    output = folder / f"photomosaic-{stem}-{target.stem[:8]}-{tile}.png"
    cache = tile_cache_folder(runtime.config.data_path)
    options = {"tile": tile, "repeat": repeat, "opacity": opacity}
    return lambda jobs: queue_photo(jobs, collection, target, output, cache, **options)


@router.post("/mosaics/photo", response_class=HTMLResponse)
async def start_photo(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    values.pop("csrf_token", None)
    upload = form.get("target")
    data = b""
    if upload is not None and not isinstance(upload, str):
        data = await upload.read(MAX_TARGET + 1)
    try:
        start = await run_in_threadpool(plan_photo, runtime, values, data)
    except m.FieldError as exc:
        context = {**page_context(runtime, values, {}), "photo_errors": {exc.field: str(exc)}}
        return m.render(templates, request, "mosaics.html", context, status_code=422)
    job_id = m.queue(runtime, start)
    return m.started(request, templates, runtime, job_id, JOB_BASE, "/mosaics")
