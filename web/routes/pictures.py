"""Pictures: made pictures listed with thumbnails, and a form that makes one (daystrip, keogram,
time slice, night or day stack, colour map) as a ``picture`` job with live progress and cancel;
a one-day kind with an "Until" day makes a picture per day, as one job.

Pictures made here go to ``pictures/`` in the first storage root (see
:func:`pylapse.tasks.picture.picture_output`). A picture is served by its file name only: the
name must be one the folder's manifests list, and the file is opened inside the storage roots
as it is sent, so no request names a path to read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from pylapse.pictures.kinds import PictureError, PictureKind
from pylapse.pictures.manifest import list_pictures, thumbnail_path
from pylapse.pictures.request import PictureRequest
from pylapse.tasks.picture import (
    configured_request,
    day_range,
    picture_output,
    pictures_folder,
    queue_picture,
    queue_picture_days,
)
from web import files
from web.deps import RuntimeDep, TemplatesDep
from web.routes import _media as m

if TYPE_CHECKING:
    from pylapse.jobs.runner import JobRunner

router = APIRouter(tags=["pictures"], include_in_schema=False)
T = TypeVar("T")

JOB_BASE = "/pictures/jobs"
KINDS = (
    ("daystrip", "Daystrip: one row per slot of the day"),
    ("keogram", "Keogram: one column per slot of the day"),
    ("timeslice", "Time slice: the day swept left to right"),
    ("nightstack", "Night light stack: brightest of the night"),
    ("daystack", "Day dark stack: darkest of the day"),
    ("colormap", "Colour map: one row per day, from sky colours"),
)
LISTED = 60  # pictures shown on the page, newest first

m.add_job_routes(router, JOB_BASE, ("picture",))


def _field(values: dict[str, str], name: str, parse: Callable[[str], T], what: str) -> T | None:
    """Form field ``name`` parsed (None when empty), or a FieldError saying it is not ``what``."""
    text = values.get(name, "").strip()
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        raise m.FieldError(name, f"{text!r} is not {what}") from None


def _pixel(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _day(values: dict[str, str], name: str) -> date | None:
    return _field(values, name, date.fromisoformat, "a date (YYYY-MM-DD)")


def plan_picture(runtime: Any, values: dict[str, str]) -> Callable[[JobRunner], int]:
    """Check the form: what queues its job (one picture, or with ``day_to`` a one-day picture
    per day from ``date``), or a FieldError."""
    kinds = dict(KINDS)
    kind = values.get("kind", "")
    if kind not in kinds:
        raise m.FieldError("kind", f"choose a kind of picture ({', '.join(kinds)})")
    cid = values.get("collection", "")
    collection = runtime.collections().get(cid)
    if collection is None:
        raise m.FieldError("collection", f"choose a collection (no collection {cid!r})")
    if kind == PictureKind.COLORMAP:
        if _day(values, "date_from") is None:
            raise m.FieldError("date_from", "a colour map needs its first day")
        if _day(values, "date_to") is None:
            raise m.FieldError("date_to", "a colour map needs its last day")
        if _day(values, "day_to") is not None:
            raise m.FieldError("day_to", "Until is for one-day kinds (a colour map: From, To)")
    elif _day(values, "date") is None:
        raise m.FieldError("date", "choose the day")
    try:
        request = PictureRequest(
            PictureKind(kind), day=_day(values, "date"), date_from=_day(values, "date_from"),
            date_to=_day(values, "date_to"),
            row=_field(values, "row", _pixel, "a pixel row (0 or more)"),
            column=_field(values, "column", _pixel, "a pixel column (0 or more)"),
            scale=_field(values, "scale", int, "1, 2, 4 or 8") or 1,
            slot_width=_field(values, "slot_width", float, "a number of seconds"),
            negative=values.get("negative") == "on",
            stat=values.get("stat", "mean") or "mean",
        )  # fmt: skip
        request = configured_request(runtime.config, cid, request)
        output = picture_output(runtime.config, cid, request)
    except (PictureError, ValueError) as exc:  # ValueError: no storage root for the output
        raise m.FieldError("form", str(exc)) from None
    last = _day(values, "day_to")
    if last is None:
        return lambda jobs: queue_picture(jobs, collection, cid, request, output)
    first = request.day
    assert first is not None  # a one-day kind's date, checked above
    try:
        day_range(first, last)
    except PictureError as exc:
        raise m.FieldError("day_to", str(exc)) from None
    return lambda jobs: queue_picture_days(
        jobs, runtime.config, collection, cid, request, first, last
    )


def made(runtime: Any) -> list[Any]:
    folder = pictures_folder(runtime.config)
    return list_pictures(folder)[:LISTED] if folder is not None else []


def page_context(runtime: Any, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "active": "pictures",
        "page_title": "Pictures",
        "values": values,
        "errors": errors,
        "kinds": KINDS,
        "collections": {cid: c.name for cid, c in runtime.collections().items()},
        "picture_jobs": m.active_jobs(runtime, "picture"),
        "job_base": JOB_BASE,
        "pictures": made(runtime),
        "no_folder": pictures_folder(runtime.config) is None,
    }


@router.get("/pictures", response_class=HTMLResponse)
def pictures(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    values = {"kind": "daystrip", "scale": "1", "stat": "mean"}
    values.update(request.query_params)
    return m.render(templates, request, "pictures.html", page_context(runtime, values, {}))


@router.post("/pictures", response_class=HTMLResponse)
async def start_picture(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    values.pop("csrf_token", None)
    try:
        start = await run_in_threadpool(plan_picture, runtime, values)
    except m.FieldError as exc:
        context = page_context(runtime, values, {exc.field: str(exc)})
        if not m.is_htmx(request):
            return m.render(templates, request, "pictures.html", context, status_code=422)
        response = m.render(
            templates, request, "partials/_picture_form.html", context, status_code=422
        )
        # the form targets the job list when a job starts; its errors replace the form itself
        response.headers["HX-Retarget"] = "#picture-form"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    job_id = m.queue(runtime, start)
    return m.started(request, templates, runtime, job_id, JOB_BASE, "/pictures")


@router.get("/pictures/list", response_class=HTMLResponse)
def picture_list(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    context = {"pictures": made(runtime)}
    return m.render(templates, request, "partials/_picture_list.html", context)


@router.get("/pictures/file/{name}")
def picture_file(
    name: str, runtime: RuntimeDep, thumb: bool = False, download: bool = False
) -> files.OpenFileResponse:
    """A listed picture (``?thumb=1``: its thumbnail) by file name, opened inside the roots."""
    folder = pictures_folder(runtime.config)
    listed = {p.path.name: p.path for p in list_pictures(folder)} if folder is not None else {}
    if name not in listed:
        raise HTTPException(404, f"no picture {name!r} in the pictures folder")
    path = thumbnail_path(listed[name]) if thumb else listed[name]
    handle = files.open_or_http_error(path, runtime.config.root_paths, f"picture {name}")
    media = "image/jpeg" if thumb else _media_type(path)
    return files.OpenFileResponse(
        handle,
        path,
        media_type=media,
        filename=path.name if download else None,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "private, no-cache"},  # the same name is made again
    )


def _media_type(path: Path) -> str:
    return {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".tif": "image/tiff", ".tiff": "image/tiff",
            ".webp": "image/webp"}.get(path.suffix.lower(), "application/octet-stream")  # fmt: skip
