"""A camera's retention: its policy, a preview of what a run would move to the trash (counts and
bytes per day), the trash folders waiting for their grace period, and a form that runs it as a
``retention`` job (POST with the CSRF token, like every change).

The preview is its own region (``partials/_retention_preview.html``), loaded after the page:
planning a long archive takes a moment and must not hold the page up. ``?at=`` previews a run at
another instant (an ISO time with its offset); a run always counts ages from now.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from pylapse.config.base import ConfigError
from pylapse.config.models import Config
from pylapse.config.retention import RetentionConfig
from pylapse.retention.run import RetentionBusy
from pylapse.retention.trash import trash_runs
from pylapse.tasks.retention import (
    RetentionError,
    camera_folder,
    camera_retention,
    preview,
    queue_retention,
    restore,
)
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep
from web.routes import _media as m

router = APIRouter(tags=["retention"], include_in_schema=False)

JOB_BASE = "/retention/jobs"

m.add_job_routes(router, JOB_BASE, ("retention",))


def _camera(runtime: Any, camera_id: str) -> Any:
    camera = runtime.config.cameras.get(camera_id)
    if camera is None:
        raise HTTPException(404, f"no camera {camera_id!r}")
    return camera


def page_context(runtime: Any, camera_id: str) -> dict[str, Any]:
    camera = _camera(runtime, camera_id)
    context: dict[str, Any] = {
        "active": "cameras",
        "page_title": f"Retention of {camera.name}",
        "camera_id": camera_id,
        "camera": camera,
        "retention": camera.retention,
        "problem": None,
        "trash": [],
        "retention_jobs": m.active_jobs(runtime, "retention", camera=camera_id),
        "job_base": JOB_BASE,
        "restored": None,
    }
    try:
        context["trash"] = trash_runs(camera_folder(runtime.config, camera_id)[1], camera_id)
        camera_retention(runtime.config, camera_id)
    except RetentionError as exc:
        context["problem"] = str(exc)
    return context


@router.get("/cameras/{camera_id}/retention", response_class=HTMLResponse)
def retention_page(camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    context = page_context(runtime, camera_id)
    return m.render(templates, request, "retention.html", context)


def _at(text: str | None) -> float:
    if not text:
        return time.time()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"at: {text!r} is not a date and time") from None
    if when.tzinfo is None:
        raise HTTPException(422, f"at: {text!r} needs a UTC offset, e.g. {text}+01:00")
    return when.timestamp()


@router.get("/cameras/{camera_id}/retention/preview", response_class=HTMLResponse)
async def retention_preview(
    camera_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    at: str | None = None,
):
    _camera(runtime, camera_id)
    now = _at(at)
    context: dict[str, Any] = {"camera_id": camera_id, "preview": None, "problem": None}
    try:
        setup = camera_retention(runtime.config, camera_id)
        context["preview"] = await run_in_threadpool(preview, runtime.index, setup, now)
    except RetentionError as exc:
        context["problem"] = str(exc)
    return m.render(templates, request, "partials/_retention_preview.html", context)


@router.post("/cameras/{camera_id}/retention", response_class=HTMLResponse)
def run_retention_now(
    camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep
):
    _camera(runtime, camera_id)
    job_id = m.queue(
        runtime,
        lambda jobs: queue_retention(jobs, runtime.config, camera_id, runtime.index),
    )
    page = f"/cameras/{camera_id}/retention"
    return m.started(request, templates, runtime, job_id, JOB_BASE, page)


@router.post("/cameras/{camera_id}/retention/restore", response_class=HTMLResponse)
async def restore_run(
    camera_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep
):
    """Put a run's frames back from the trash (and index them again), then show the page."""
    _camera(runtime, camera_id)
    form = await request.form()
    run_id = str(form.get("run", ""))
    if run_id not in {r.run_id for r in page_context(runtime, camera_id)["trash"]}:
        raise HTTPException(404, f"no run {run_id!r} in the trash of camera {camera_id!r}")
    try:
        done = await run_in_threadpool(restore, runtime.config, camera_id, runtime.index, run_id)
    except (RetentionError, RetentionBusy) as exc:
        raise HTTPException(409, str(exc)) from None
    context = page_context(runtime, camera_id)
    context["restored"] = done
    return m.render(templates, request, "retention.html", context)


def _edit_keep(editor: Any, camera_id: str, change: Any) -> None:
    """Save the camera's ``retention.keep`` as ``change(old list)`` returns it (a camera without
    retention gets a block that keeps these days and is off)."""

    def mutate(config: Config) -> None:
        camera = config.cameras[camera_id]
        fields = camera.retention.model_dump(exclude_unset=True) if camera.retention else {}
        fields["keep"] = change(list(camera.retention.keep if camera.retention else []))
        camera.retention = RetentionConfig.model_validate(fields)

    try:
        editor.apply(mutate)
    except ValidationError as exc:
        messages = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise HTTPException(422, messages) from None
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"Not saved: {exc}") from None


@router.post("/cameras/{camera_id}/retention/keep")
def keep_days(
    camera_id: str, runtime: RuntimeDep, editor: ConfigEditorDep, days: Annotated[str, Form()]
) -> RedirectResponse:
    """Protect a day or a range of days (``YYYY-MM-DD`` or ``YYYY-MM-DD..YYYY-MM-DD``)."""
    _camera(runtime, camera_id)
    wanted = days.strip()
    _edit_keep(editor, camera_id, lambda keep: keep if wanted in keep else [*keep, wanted])
    return RedirectResponse(f"/cameras/{camera_id}/retention", status_code=303)


@router.post("/cameras/{camera_id}/retention/keep/remove")
def unkeep_days(
    camera_id: str, runtime: RuntimeDep, editor: ConfigEditorDep, days: Annotated[str, Form()]
) -> RedirectResponse:
    """Stop protecting an entry of the camera's kept days."""
    _camera(runtime, camera_id)
    _edit_keep(editor, camera_id, lambda keep: [k for k in keep if k != days.strip()])
    return RedirectResponse(f"/cameras/{camera_id}/retention", status_code=303)
