"""Dashboard: camera cards, scheduler pause/resume, upcoming captures, capture log, disks, jobs,
and a warning for collections whose folder is missing.

Every section is a partial with its own GET endpoint, refreshed on its own (SSE events, see
:mod:`web.live`, plus a slow poll as a fallback), so nothing flickers and one slow section never
holds up another. The camera cards are refreshed together: one request a second for the cards of
the cameras that captured (``/dashboard/cameras?camera=a&camera=b``, out-of-band swaps), not one
per camera. The state-changing endpoints return the partial they changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from pylapse.capture.health import CameraHealth, HealthState, LogEntry, LogKind
from pylapse.capture.leases import Lease
from pylapse.capture.triggers import next_fire_times
from pylapse.config.base import ConfigError
from pylapse.config.cameras import CameraConfig
from pylapse.config.models import Config
from pylapse.jobs.record import JobNotFound, JobRecord
from pylapse.sources.base import GrabError
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep, require_jobs
from web.live import UPCOMING
from web.params import JobId

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter(tags=["dashboard"], include_in_schema=False)

PAGE_SIZES = (10, 25, 50, 100)


@dataclass(frozen=True)
class CameraCard:
    id: str
    config: CameraConfig
    health: CameraHealth
    next_run: datetime | None
    paused: bool
    zone: tzinfo
    host: str | None = None  # the capture host holding the camera's lease (silent: held)


def camera_card(
    runtime: Runtime, camera_id: str, leases: Mapping[str, Lease] | None = None
) -> CameraCard:
    """``leases``: :meth:`Runtime.lease_rows`, read once for many cards."""
    config = runtime.config.cameras.get(camera_id)
    if config is None:
        raise HTTPException(404, f"no camera {camera_id!r}")
    # as the host capturing it recorded it, or "host silent" once that host stopped beating
    health = runtime.camera_health(camera_id, leases)
    if not config.enabled:
        health = _with_state(health, HealthState.DISABLED)
    scheduler = runtime.scheduler
    paused = bool(scheduler and scheduler.is_paused(camera_id))
    next_run = None
    if scheduler is not None and config.enabled and not paused:
        next_run = _next_fire(config)
    return CameraCard(camera_id, config, health, next_run, paused, config.zone(), health.host)


def _next_fire(config: CameraConfig) -> datetime | None:
    """The camera's next capture: the soonest first fire of its enabled schedules (computed per
    camera, so a dashboard of many cameras stays linear in their number)."""
    tz = config.zone()
    fires = []
    for schedule in config.schedules:
        if schedule.enabled:
            fires.extend(next_fire_times(schedule, tz, 1))
    return min(fires, default=None)


def _with_state(health: CameraHealth, state: HealthState) -> CameraHealth:
    return replace(health, state=state)


def cards(runtime: Runtime) -> list[CameraCard]:
    leases = runtime.lease_rows()
    return [camera_card(runtime, camera_id, leases) for camera_id in runtime.config.cameras]


def scheduler_context(runtime: Runtime) -> dict[str, Any]:
    scheduler = runtime.scheduler
    return {
        "scheduler_present": scheduler is not None,
        "scheduler_paused": bool(scheduler and scheduler.paused),
        "paused_cameras": sorted(scheduler.paused_cameras()) if scheduler else [],
    }


def upcoming_context(runtime: Runtime) -> dict[str, Any]:
    runs = runtime.scheduler.next_runs(UPCOMING) if runtime.scheduler else []
    names = {cid: cam.name for cid, cam in runtime.config.cameras.items()}
    return {"upcoming": runs, "camera_names": names}


@dataclass
class LogRow:
    """One row of the capture log as shown: an entry, or the same failure of a camera repeated
    ``count`` times in a row (newest ``entry``, oldest at ``first``), in the camera's zone."""

    entry: LogEntry
    time: datetime  # the entry's time in the camera's zone (its offset shown once)
    first: datetime | None = None
    count: int = 1

    @property
    def info(self) -> bool:
        """A pause, a resume or a note: information, not a capture that failed."""
        return self.entry.kind != LogKind.CAPTURE


def log_rows(entries: list[LogEntry], zones: dict[str, tzinfo]) -> list[LogRow]:
    """``entries`` (newest first) as rows: a failure whose camera's next older entry is the
    same failure joins that camera's row (other cameras' rows in between do not break it)."""
    rows: list[LogRow] = []
    open_rows: dict[str, LogRow | None] = {}  # per camera: its row that an older entry could join
    for e in entries:
        zone = zones.get(e.camera_id)
        when = e.time.astimezone(zone) if zone is not None else e.time
        row = open_rows.get(e.camera_id)
        repeat = not e.ok and e.kind == LogKind.CAPTURE
        if repeat and row is not None and row.entry.message == e.message:
            row.count += 1
            row.first = when
            continue
        row = LogRow(e, when)
        rows.append(row)
        open_rows[e.camera_id] = row if repeat else None
    return rows


def log_context(
    runtime: Runtime, page: int = 1, per_page: int = 25, camera: str | None = None
) -> dict[str, Any]:
    per_page = per_page if per_page in PAGE_SIZES else 25
    total = runtime.health.log_count(camera=camera)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    entries = runtime.health.log(limit=per_page, offset=(page - 1) * per_page, camera=camera)
    names = {cid: cam.name for cid, cam in runtime.config.cameras.items()}
    zones = {cid: cam.zone() for cid, cam in runtime.config.cameras.items()}
    return {
        "log_entries": entries,
        "log_rows": log_rows(entries, zones),
        "log_page": page,
        "log_pages": pages,
        "log_per_page": per_page,
        "log_total": total,
        "log_camera": camera or "",
        "page_sizes": PAGE_SIZES,
        "camera_names": names,
    }


def disk_context(runtime: Runtime) -> dict[str, Any]:
    try:
        volumes = runtime.volume_usage()
    except OSError as exc:
        log.warning("disk usage unavailable: %s", exc)
        volumes = []
    return {"volumes": volumes}


@dataclass(frozen=True)
class MissingCollection:
    id: str
    name: str
    problem: str | None


def missing_collections(runtime: Runtime) -> list[MissingCollection]:
    """Collections whose folder is gone or not mounted (a ``stat`` each), so the dashboard says
    so before anyone opens a collection and finds no frames."""
    found = []
    for cid, coll in runtime.collections().items():
        status = coll.folder_status()
        if status.missing:
            found.append(MissingCollection(cid, coll.name, status.problem))
    return found


def jobs_context(runtime: Runtime) -> dict[str, Any]:
    jobs: list[JobRecord] = runtime.jobs.active() if runtime.jobs else []
    return {"active_jobs": jobs}


def _render(
    templates: Jinja2Templates, request: Request, name: str, context: dict[str, Any], **kw: Any
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, **kw)


# -- page ----------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    context: dict[str, Any] = {"active": "dashboard", "page_title": "Dashboard"}
    context["cards"] = cards(runtime)
    context.update(scheduler_context(runtime))
    context.update(upcoming_context(runtime))
    context.update(log_context(runtime))
    context.update(disk_context(runtime))
    context.update(jobs_context(runtime))
    context["missing_collections"] = missing_collections(runtime)
    return _render(templates, request, "dashboard.html", context)


# -- partials ------------------------------------------------------------------------------------


@router.get("/dashboard/cameras", response_class=HTMLResponse)
def camera_statuses(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    camera: Annotated[list[str] | None, Query()] = None,
):
    """The status of the cameras named (all when none is), each swapped into its card by id
    (``hx-swap-oob``): one request refreshes every card that changed. Cameras no longer
    configured are left out."""
    configured = runtime.config.cameras
    ids = [c for c in dict.fromkeys(camera) if c in configured] if camera else list(configured)
    leases = runtime.lease_rows()
    context = {"cards": [camera_card(runtime, camera_id, leases) for camera_id in ids]}
    return _render(templates, request, "partials/_camera_statuses.html", context)


@router.get("/dashboard/cameras/{camera_id}", response_class=HTMLResponse)
def camera_status(camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    card = camera_card(runtime, camera_id)
    return _render(templates, request, "partials/_camera_status.html", {"card": card})


@router.get("/dashboard/scheduler", response_class=HTMLResponse)
def scheduler_partial(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return _render(templates, request, "partials/_scheduler.html", scheduler_context(runtime))


@router.get("/dashboard/upcoming", response_class=HTMLResponse)
def upcoming_partial(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return _render(templates, request, "partials/_upcoming.html", upcoming_context(runtime))


@router.get("/dashboard/log", response_class=HTMLResponse)
def log_partial(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query()] = 25,
    camera: Annotated[str | None, Query()] = None,
):
    if per_page not in PAGE_SIZES:
        raise HTTPException(422, f"per_page must be one of {', '.join(map(str, PAGE_SIZES))}")
    if camera and camera not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera!r}")
    context = log_context(runtime, page, per_page, camera or None)
    return _render(templates, request, "partials/_capture_log.html", context)


@router.get("/dashboard/disk", response_class=HTMLResponse)
def disk_partial(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return _render(templates, request, "partials/_disk.html", disk_context(runtime))


@router.get("/dashboard/jobs", response_class=HTMLResponse)
def jobs_partial(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return _render(templates, request, "partials/_jobs.html", jobs_context(runtime))


# -- actions -------------------------------------------------------------------------------------


@router.post("/dashboard/scheduler/{action}", response_class=HTMLResponse)
def scheduler_action(action: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    if runtime.scheduler is None:
        raise HTTPException(409, "this dashboard runs without a scheduler")
    if action == "pause":
        runtime.scheduler.pause()
    elif action == "resume":
        runtime.scheduler.resume()
    else:
        raise HTTPException(404, "action must be 'pause' or 'resume'")
    response = _render(templates, request, "partials/_scheduler.html", scheduler_context(runtime))
    response.headers["HX-Trigger"] = "capture"  # cards and upcoming list show the new state
    return response


@router.post("/cameras/{camera_id}/grab", response_class=HTMLResponse)
def grab_now(camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    camera_card(runtime, camera_id)  # 404 for an unknown camera
    message, kind = "", "ok"
    try:
        result = runtime.grab_now(camera_id)
        message = f"Saved {result.path.name} ({result.width}×{result.height})"
    except GrabError as exc:
        message, kind = f"Grab failed: {exc}", "error"
    card = camera_card(runtime, camera_id)
    context = {"card": card, "card_message": message, "card_message_kind": kind}
    return _render(templates, request, "partials/_camera_status.html", context)


@router.post("/cameras/{camera_id}/enabled", response_class=HTMLResponse)
def set_enabled(
    camera_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    editor: ConfigEditorDep,
    enabled: Annotated[str, Form()] = "",
):
    camera_card(runtime, camera_id)
    on = enabled in ("1", "on", "true", "yes")

    def mutate(config: Config) -> None:
        if camera_id in config.cameras:
            config.cameras[camera_id].enabled = on

    message, kind = "", "ok"
    try:
        editor.apply(mutate)
    except (ConfigError, OSError) as exc:
        message, kind = f"Not saved: {exc}", "error"
    card = camera_card(runtime, camera_id)
    context = {"card": card, "card_message": message, "card_message_kind": kind}
    return _render(templates, request, "partials/_camera_status.html", context)


@router.get("/cameras/{camera_id}/preview.mjpg")
def preview(camera_id: str, runtime: RuntimeDep) -> StreamingResponse:
    """Live view as ``multipart/x-mixed-replace``; one upstream connection shared by viewers."""
    if camera_id not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera_id!r}")
    frames = runtime.camera(camera_id).preview_stream()

    def body():
        try:
            for jpeg in frames:
                yield (
                    b"--frame\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    return StreamingResponse(
        body(),
        media_type="multipart/x-mixed-replace; boundary=frame",
        headers={"Cache-Control": "no-store"},
    )


# -- jobs (shared by the exports and videos pages) -----------------------------------------------


def job_or_404(runtime: Runtime, job_id: int) -> JobRecord:
    jobs = require_jobs(runtime)
    try:
        return jobs.get(job_id)
    except JobNotFound:
        raise HTTPException(404, f"no job {job_id}") from None


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_partial(job_id: JobId, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """One job as ``partials/_job.html``: progress while it runs, the outcome when it is done."""
    job = job_or_404(runtime, job_id)
    return _render(templates, request, "partials/_job.html", {"job": job})


@router.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
def job_cancel(job_id: JobId, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    job_or_404(runtime, job_id)
    jobs = require_jobs(runtime)
    jobs.cancel(job_id)
    job = jobs.get(job_id)
    return _render(templates, request, "partials/_job.html", {"job": job})
