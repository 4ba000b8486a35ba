"""Cameras: list, add, edit, remove; live example file name; schedule preview (next five fires);
which capture host captures which camera, and each host's last heartbeat."""

from __future__ import annotations

import base64
import io
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from pylapse import naming, timeutil
from pylapse.capture.triggers import next_fire_times
from pylapse.config.base import ConfigError
from pylapse.config.cameras import CameraConfig, Schedule
from pylapse.config.models import CollectionConfig, Config
from pylapse.redact import mask_secrets, mask_url
from pylapse.sources.base import camera_secrets
from web import camera_form as cf
from web import thumbs
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep, get_config_editor
from web.routes import _removal

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter(tags=["cameras"], include_in_schema=False)

RESERVED_IDS = frozenset(
    {"new", "example-name", "schedule-preview", "schedule-row", "test-source", "hosts"}
)
# A new camera starts as an HTTP snapshot, the kind most IP cameras and phone webcam apps
# offer; the demo camera is for trying pyLapse without hardware.
SOURCE_TYPES = (
    ("http", "HTTP snapshot URL"),
    ("synthetic", "Demo camera (no hardware)"),
    ("mjpeg", "MJPEG stream"),
    ("rtsp", "RTSP stream"),
    ("picamera", "Raspberry Pi camera"),
    ("gphoto2", "DSLR via gphoto2"),
)


def _camera(runtime: Any, camera_id: str) -> CameraConfig:
    camera = runtime.config.cameras.get(camera_id)
    if camera is None:
        raise HTTPException(404, f"no camera {camera_id!r}")
    return camera


def _with_fires(rows: list[cf.ScheduleRow], schedules: dict[str, Schedule], tz: Any) -> None:
    for row in rows:
        schedule = schedules.get(row.id)
        if schedule is not None and not row.error:
            try:
                row.fires = next_fire_times(schedule, tz, 5)
            except (ValueError, OverflowError) as exc:
                row.error = str(exc)


def _form_page(
    request: Request,
    templates: Any,
    *,
    camera_id: str | None,
    values: dict[str, Any],
    rows: list[cf.ScheduleRow],
    errors: dict[str, str] | None = None,
    status: int = 200,
    flash: str = "",
):
    next_index = max((r.index for r in rows), default=-1) + 1
    context = {
        "active": "cameras",
        "page_title": values.get("name") or "New camera",
        "camera_id": camera_id,
        "values": values,
        "rows": rows,
        "blank_row": cf.ScheduleRow(index=next_index, new=True),
        "errors": errors or {},
        "source_types": SOURCE_TYPES,
        "zones": cf.zone_names(),
        "units": cf.UNITS,
        "example": _example(values),
        "flash": flash,
        "flash_kind": "error" if errors else "ok",
    }
    return templates.TemplateResponse(request, "camera_form.html", context, status_code=status)


def _example(values: dict[str, Any]) -> dict[str, str]:
    """The file name a frame taken now would get, or the reason there is none."""
    try:
        tz = timeutil.zone(values.get("timezone") or None)
        name = naming.format_name(
            timeutil.now(tz),
            values.get("filename_format") or naming.DEFAULT_FORMAT,
            prefix=values.get("prefix") or "",
            camera=values.get("name") or "",
            ext=values.get("ext") or "jpg",
        )
    except (ValueError, KeyError, IndexError) as exc:
        return {"name": "", "error": str(exc)}
    return {"name": name, "error": ""}


# -- list ----------------------------------------------------------------------------------------


@router.get("/cameras", response_class=HTMLResponse)
def cameras(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    removed: Annotated[str, Query(max_length=200)] = "",
    kept: Annotated[str, Query(max_length=200)] = "",
):
    context: dict[str, Any] = {"active": "cameras", "page_title": "Cameras"}
    context.update(hosts_context(runtime))  # the camera rows too: their Host and Health cells
    if removed and removed not in runtime.config.cameras:  # say where its frames went
        coll = runtime.config.collections.get(kept) if kept else None
        context["removed"] = {"id": removed, "kept": kept if coll else "",
                              "collection": coll.name if coll else None}  # fmt: skip
    return templates.TemplateResponse(request, "cameras.html", context)


# -- capture hosts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HostRow:
    host: str
    pid: int
    heartbeat: datetime
    alive: bool  # heard from within a lease's length
    here: bool  # this dashboard's own scheduler
    cameras: list[str]
    duty: bool  # holds the site duty: runs the scheduled renders


def hosts_context(runtime: Runtime) -> dict[str, Any]:
    """Each capture host with its last heartbeat and cameras, each camera's host, and the
    camera list's rows (``cameras``: their health as their host recorded it, ``host silent``
    once that host stopped beating), which the card's poll redraws out of band."""
    now = time.time()
    store = runtime.leases
    leases = runtime.lease_rows()
    live = {cid: lease for cid, lease in leases.items() if lease.live(now)}
    items = [
        {"id": cid, "config": cam, "health": runtime.camera_health(cid, leases)}
        for cid, cam in runtime.config.cameras.items()
    ]
    duty = store.duty(now)  # not a camera's: said on its holder's row
    keeper = runtime.scheduler.leases if runtime.scheduler is not None else None
    rows = [
        HostRow(
            host=beat.host,
            pid=beat.pid,
            heartbeat=datetime.fromtimestamp(beat.heartbeat_at, UTC),
            alive=now - beat.heartbeat_at <= runtime.config.capture.lease_seconds,
            here=keeper is not None and beat.holder == keeper.holder.id,
            cameras=sorted(cid for cid, lease in live.items() if lease.holder == beat.holder),
            duty=duty is not None and duty.holder == beat.holder,
        )
        for beat in store.hosts()
    ]
    return {
        "capture_hosts": rows,
        "camera_hosts": {cid: x.host for cid, x in live.items()},
        "cameras": items,
    }


@router.get("/cameras/hosts", response_class=HTMLResponse)
def capture_hosts(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """The Capture hosts card, and the Cameras page's Host and Health cells out of band: the
    card's poll keeps the camera list as current as itself."""
    context = {**hosts_context(runtime), "oob": True}
    return templates.TemplateResponse(request, "partials/_capture_hosts.html", context)


# -- live helpers (htmx) -------------------------------------------------------------------------


@router.get("/cameras/example-name", response_class=HTMLResponse)
def example_name(
    request: Request,
    templates: TemplatesDep,
    filename_format: str = "",
    prefix: str = "",
    ext: str = "jpg",
    timezone: str = "",
    name: str = "",
):
    values = {"filename_format": filename_format, "prefix": prefix, "ext": ext,
              "timezone": timezone, "name": name}  # fmt: skip
    context = {"example": _example(values)}
    return templates.TemplateResponse(request, "partials/_example_name.html", context)


@router.get("/cameras/schedule-preview", response_class=HTMLResponse)
def schedule_preview(
    request: Request,
    templates: TemplatesDep,
    index: Annotated[int, Query(ge=0, lt=1000)],
    timezone: str = "",
    latitude: str = "",
    longitude: str = "",
):
    """The next five fire times of the schedule row ``index`` as it is typed right now (inside
    its sun window at the camera's latitude/longitude as typed, when it has one)."""
    row = cf.row_from_form(request.query_params, index)
    try:
        tz = timeutil.zone(timezone or None)
        schedule = cf.schedule_from_row(row, None) if not cf.row_is_blank(row) else None
        if schedule is not None and schedule.sun_window:
            if not (latitude.strip() and longitude.strip()):
                raise ValueError("a sun window needs the camera's latitude and longitude")
            schedule._place = (float(latitude), float(longitude))
        row.fires = next_fire_times(schedule, tz, 5) if schedule else []
    except (cf.FormError, ValueError) as exc:
        row.error = str(exc)
    context = {"row": row, "zone_name": timezone or timeutil.local_zone_name()}
    return templates.TemplateResponse(request, "partials/_schedule_fires.html", context)


@router.get("/cameras/schedule-row", response_class=HTMLResponse)
def schedule_row(
    request: Request, templates: TemplatesDep, index: Annotated[int, Query(ge=0, lt=1000)]
):
    row = cf.ScheduleRow(index=index, new=True)
    context = {"row": row, "units": cf.UNITS, "errors": {}}
    return templates.TemplateResponse(request, "partials/_schedule_row.html", context)


# -- create --------------------------------------------------------------------------------------


@router.get("/cameras/new", response_class=HTMLResponse)
def new_camera(request: Request, templates: TemplatesDep):
    values = cf.form_values(None)
    values.update(type="http", timezone=timeutil.local_zone_name())
    return _form_page(request, templates, camera_id=None, values=values, rows=[])


@router.post("/cameras/new", response_class=HTMLResponse)
async def create_camera(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    form: dict[str, Any] = dict(await request.form())
    camera_id = cf.slug(cf.text_value(form, "camera_id") or cf.text_value(form, "name"))
    if camera_id in RESERVED_IDS:  # these are pages of their own under /cameras/
        camera_id += "-camera"
    if not cf.text_value(form, "output_dir") and runtime.config.storage_roots:
        form["output_dir"] = f"{runtime.config.storage_roots[0].rstrip('/')}/{camera_id}"
    camera, errors, rows = cf.camera_from_form(form, None)
    if camera_id in runtime.config.cameras:
        errors["camera_id"] = f"a camera with id {camera_id!r} exists; choose another id"
    elif camera_id in runtime.config.collections:  # e.g. the frames of a removed camera
        errors["camera_id"] = (
            f"collection {camera_id!r} has this id (the frames of a removed camera, or a "
            "folder); choose another id"
        )
    return await _save(request, runtime, templates, None, camera_id, camera, errors, rows, form)


@router.post("/cameras/test-source", response_class=HTMLResponse)
async def test_source(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """Grab one frame with the settings as typed (nothing is saved) and show it, or why not."""
    form: dict[str, Any] = dict(await request.form())
    existing = runtime.config.cameras.get(cf.text_value(form, "existing_id"))
    form.setdefault("output_dir", "")
    if not cf.text_value(form, "output_dir"):
        form["output_dir"] = "test"  # required by the model, unused by a test grab
    camera, errors, _rows = cf.camera_from_form(form, existing)
    context: dict[str, Any] = {"test": {"ok": False, "errors": errors}}
    if camera is not None:
        context["test"] = await run_in_threadpool(_try_grab, runtime.config, camera)
    return templates.TemplateResponse(request, "partials/_source_test.html", context)


def _try_grab(config: Any, camera: CameraConfig) -> dict[str, Any]:
    from pylapse.capture.camera import Camera

    started = time.monotonic()
    cam = Camera.from_config("test", camera, config)
    try:
        grab = cam.grab()
        thumb = thumbs.make_thumbnail(io.BytesIO(grab.data))
    except Exception as exc:  # whatever the source raised, the user needs the reason
        message = str(exc)
        if camera.url:
            message = message.replace(camera.url, mask_url(camera.url))
        return {"ok": False, "error": mask_secrets(message, *camera_secrets(camera)), "errors": {}}
    finally:
        cam.close()
    info = grab.info
    return {
        "ok": True,
        "image": "data:image/jpeg;base64," + base64.b64encode(thumb).decode("ascii"),
        "size": len(grab.data),
        "width": info.width if info else None,
        "height": info.height if info else None,
        "seconds": time.monotonic() - started,
        "errors": {},
    }


# -- edit ----------------------------------------------------------------------------------------


@router.get("/cameras/{camera_id}", response_class=HTMLResponse)
def edit_camera(camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    camera = _camera(runtime, camera_id)
    rows = [cf.row_from_schedule(i, s) for i, s in enumerate(camera.schedules)]
    _with_fires(rows, {s.id: s for s in camera.schedules}, camera.zone())
    saved = "Saved." if request.query_params.get("saved") else ""
    return _form_page(
        request, templates, camera_id=camera_id, values=cf.form_values(camera), rows=rows,
        flash=saved,
    )  # fmt: skip


@router.post("/cameras/{camera_id}", response_class=HTMLResponse)
async def update_camera(
    camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep
):
    existing = _camera(runtime, camera_id)
    form = await request.form()
    camera, errors, rows = cf.camera_from_form(form, existing)
    return await _save(request, runtime, templates, existing, camera_id, camera, errors, rows, form)


async def _save(
    request: Request,
    runtime: Any,
    templates: Any,
    existing: CameraConfig | None,
    camera_id: str,
    camera: CameraConfig | None,
    errors: dict[str, str],
    rows: list[cf.ScheduleRow],
    form: Any,
):
    if camera is not None and not errors:
        cf.check_output_dir(runtime.config, camera, existing, errors)
    if camera is not None and not errors:

        def mutate(config: Config) -> None:
            if existing is None and camera_id in config.cameras:
                raise ConfigError(f"a camera with id {camera_id!r} was just added elsewhere")
            config.cameras[camera_id] = camera

        editor = await get_config_editor(request)  # bound to the page's config token
        try:
            await run_in_threadpool(editor.apply, mutate)
        except (ConfigError, OSError) as exc:
            errors["form"] = f"Not saved: {exc}"
        else:
            return RedirectResponse(f"/cameras/{camera_id}?saved=1", status_code=303)
    values = cf.form_values(existing)
    for name in (*cf.TEXT_FIELDS, *cf.CHOICE_FIELDS, *cf.INT_FIELDS, *cf.FLOAT_FIELDS):
        values[name] = cf.text_value(form, name)
    for name in cf.BOOL_FIELDS:
        values[name] = bool(cf.text_value(form, name))
    values["camera_id"] = cf.text_value(form, "camera_id")
    values["url"] = mask_url(values["url"])  # a password typed into the URL is not echoed
    return _form_page(
        request, templates, camera_id=camera_id if existing else None, values=values, rows=rows,
        errors=errors, status=422, flash="Not saved: see the marked fields.",
    )  # fmt: skip


# -- remove, collection --------------------------------------------------------------------------


@router.post("/cameras/{camera_id}/delete")
def delete_camera(camera_id: str, runtime: RuntimeDep, editor: ConfigEditorDep) -> RedirectResponse:
    """Remove the camera from the config; its frames stay on disk, in the index and in a
    collection of their own (browsable and exportable; see :mod:`pylapse.tasks.removal`)."""
    _camera(runtime, camera_id)
    try:
        kept = _removal.remove_camera(runtime, editor, camera_id)
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"Not removed: {exc}") from None
    query = {"removed": camera_id, "kept": kept.collection or ""}
    return RedirectResponse(f"/cameras?{urlencode(query)}", status_code=303)


@router.post("/cameras/{camera_id}/collection")
def collection_from_camera(
    camera_id: str,
    runtime: RuntimeDep,
    editor: ConfigEditorDep,
    name: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Declare a collection over this camera's frames (or open the one that exists)."""
    camera = _camera(runtime, camera_id)
    for coll_id, coll in runtime.config.collections.items():
        if coll.camera == camera_id:
            return RedirectResponse(f"/collections/{coll_id}", status_code=303)
    created: list[str] = []

    def mutate(config: Config) -> None:
        coll_id = camera_id
        while coll_id in config.collections:
            coll_id += "-frames"
        config.collections[coll_id] = CollectionConfig(
            name=name.strip() or camera.name,
            path=camera.output_dir,
            timezone=camera.timezone,
            camera=camera_id,
        )
        created.append(coll_id)

    try:
        editor.apply(mutate)
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"Not created: {exc}") from None
    return RedirectResponse(f"/collections/{created[0]}", status_code=303)
