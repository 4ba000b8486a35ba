"""Videos: a render form (an export folder or a collection selection -> ffmpeg), renders as jobs
with live progress and cancel, playback in the browser, download, delete, paginated history.

A video is known by the id of the render job that made it: its file is found through the job's
stored result and checked against the storage roots again before it is served or deleted, so no
request ever names a path to read; it is opened inside the roots as it is sent
(:mod:`web.files`). The response answers HTTP Range requests (seeking in the ``<video>``
element).

A render never replaces a video silently: it takes a free name (``clip-2.mp4``) unless the form
asks to replace. A history entry is only ever played, downloaded or deleted as the file it
made: the job's result holds the file's size, modification time and render time (from its
manifest), and a file at that path that no longer matches them (replaced by a later render, or
changed) is reported as replaced, never served as this entry's video
(:class:`pylapse.tasks.render_files.VideoFile`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from pylapse import storage
from pylapse.tasks.mosaic import list_mosaics, mosaics_folder
from pylapse.tasks.render import queue_render, stabilise_unavailable, usable_codecs
from pylapse.tasks.render_files import VideoFile, file_notes, replaced_by, video_state
from pylapse.video.codecs import SPEEDS, Speed
from pylapse.video.manifest import manifest_path, read_manifest
from web import files
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep
from web.params import JobId
from web.render_form import OTHER_SIZES, export_folders, plan_render, videos_folder
from web.routes import _media as m

log = logging.getLogger(__name__)
router = APIRouter(tags=["videos"], include_in_schema=False)

JOB_BASE = "/videos/jobs"
SIZES = (("", "Same as the frames"), ("3840x2160", "3840×2160 (4K)"),
         ("1920x1080", "1920×1080 (Full HD)"), ("1280x720", "1280×720 (HD)"),
         ("854x480", "854×480"), ("640x360", "640×360"))  # fmt: skip
MEDIA_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
               ".mkv": "video/x-matroska", ".webm": "video/webm", ".gif": "image/gif",
               ".avi": "video/x-msvideo"}  # fmt: skip
SPEED_SEARCH = 100  # newest renders looked through for each speed's last measured frames/s
MOSAICS_LISTED = 10  # newest mosaic videos shown on the Videos page (more on the mosaics page)


def _card_extra(runtime: Any, job: Any) -> dict[str, Any]:
    return {"file_state": video_state(runtime.config.root_paths, job)[0].value}


m.add_job_routes(router, JOB_BASE, ("render",), _card_extra)


def _form_values(request_values: Any) -> dict[str, str]:
    return {k: v for k, v in request_values.items() if isinstance(v, str) and k != "csrf_token"}


@dataclass(frozen=True)
class SpeedChoice:
    """A render speed as the form offers it, with the frames/s its last render here reached."""

    speed: Speed
    frames_per_s: float | None  # None: no finished render at this speed yet
    size: str  # the size that render had, e.g. "1920×1080"


def speed_choices(runtime: Any) -> list[SpeedChoice]:
    """Each speed with the rate of its newest finished render on this machine (frames over the
    render's whole time, as the user waited for it): measured where the user's own frames
    were encoded, at no cost to the page beyond one history query."""
    found: dict[str, tuple[float, str]] = {}
    jobs = runtime.jobs.list(SPEED_SEARCH, kind="render") if runtime.jobs is not None else []
    for job in jobs:  # newest first
        speed, result = job.params.get("speed"), job.result or {}
        frames, elapsed = result.get("frames"), result.get("elapsed")
        if job.state != "done" or speed not in SPEEDS or speed in found:
            continue
        if isinstance(frames, int) and isinstance(elapsed, int | float) and elapsed > 0:
            size = f"{result.get('width')}×{result.get('height')}"
            found[speed] = (frames / elapsed, size)
    return [
        SpeedChoice(s, found[s.name][0] if s.name in found else None,
                    found[s.name][1] if s.name in found else "")
        for s in SPEEDS.values()
    ]  # fmt: skip


def page_context(runtime: Any, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    available, ffmpeg_error = usable_codecs(runtime.config)
    collections = {cid: c.name for cid, c in runtime.collections().items()}
    try:
        default_dir = str(videos_folder(runtime.config))
    except m.FieldError:
        default_dir = ""
    context = {
        "active": "videos",
        "page_title": "Videos",
        "values": values,
        "errors": errors,
        "codecs": available,
        "ffmpeg_error": ffmpeg_error,
        "sizes": SIZES,
        "speeds": speed_choices(runtime),
        "other_sizes": OTHER_SIZES,
        "stabilise_why_not": stabilise_unavailable(runtime.config) if not ffmpeg_error else None,
        "collections": collections,
        "export_dirs": [str(p) for p in export_folders(runtime)],
        "default_dir": default_dir,
        "render_jobs": m.active_jobs(runtime, "render"),
        "job_base": JOB_BASE,
        "schedules": schedule_rows(runtime.config),
        # mosaic videos (issue 19) are jobs of their own kind with a manifest beside the video:
        # listed here as the mosaics page lists them, not in the render history
        "mosaics": list_mosaics(mosaics_folder(runtime.config))[:MOSAICS_LISTED],
    }
    context.update(history_context(runtime, 1, 10))
    return context


def schedule_rows(config: Any, now: datetime | None = None) -> list[dict[str, Any]]:
    """The render schedules as the Videos page lists them, each with its next run (local)."""
    from pylapse.tasks.render_schedule import next_fire, schedule_zone

    rows = []
    for sid, schedule in config.render_schedules.items():
        row: dict[str, Any] = {"id": sid, "schedule": schedule, "next": None, "problem": ""}
        try:
            zone = schedule_zone(config, schedule)
            row["next"] = next_fire(schedule, (now or datetime.now(UTC)).astimezone(zone), zone)
        except ValueError as exc:  # a zone or rule that stopped resolving
            row["problem"] = str(exc)
        rows.append(row)
    return rows


def history_context(runtime: Any, page: int, per_page: int) -> dict[str, Any]:
    context = m.history(runtime, "render", page, per_page)
    context["files"] = file_notes(runtime.config.root_paths, context["jobs"])
    return context


# -- pages ---------------------------------------------------------------------------------------


@router.get("/videos", response_class=HTMLResponse)
def videos(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    values = {"codec": "h264", "timing": "fps", "fps": "24"}
    values.update(_form_values(request.query_params))
    context = page_context(runtime, values, {})
    if "source" not in values:  # with no export folder yet, a collection is the likely source
        values["source"] = "export" if context["export_dirs"] else "collection"
    return m.render(templates, request, "videos.html", context)


@router.post("/videos", response_class=HTMLResponse)
async def start_render(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    values = _form_values(await request.form())
    try:
        plan = await run_in_threadpool(plan_render, runtime, values)
    except m.FieldError as exc:
        context = page_context(runtime, values, {exc.field: str(exc)})
        if m.is_htmx(request):
            return m.render(
                templates, request, "partials/_render_form.html", context, status_code=422
            )
        return m.render(templates, request, "videos.html", context, status_code=422)
    job_id = m.queue(runtime, lambda jobs: queue_render(jobs, runtime.config, **plan))
    if m.is_htmx(request):
        context = page_context(runtime, values, {})
        context["started_job"] = m.runner(runtime).get(job_id)
        return m.render(templates, request, "partials/_render_form.html", context)
    return RedirectResponse("/videos", status_code=303)


@router.post("/videos/schedules/{schedule_id}/run", response_class=HTMLResponse)
def run_schedule_now(
    schedule_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep
):
    """Run a render schedule now, as the job its timer would queue (its period as of now)."""
    from pylapse.tasks.render_schedule import queue_schedule

    if schedule_id not in runtime.config.render_schedules:
        raise HTTPException(404, f"no render schedule {schedule_id!r}")
    # a collection gone from the config is a SelectionError, a ValueError: 422 with the reason
    job_id = m.queue(
        runtime, lambda jobs: queue_schedule(jobs, runtime.config, runtime.index, schedule_id)
    )
    return m.started(request, templates, runtime, job_id, JOB_BASE, "/videos")


_SCHEDULE_FIELDS = ("collection", "period", "at", "keep", "codec", "fps", "output_dir")


@router.post("/videos/schedules")
async def save_schedule(request: Request, runtime: RuntimeDep, editor: ConfigEditorDep):
    """Add a render schedule, or change one (fields the form does not show, such as ``select``
    or ``preset``, are kept). An error names the field: ``render_schedules.ID.period: ...``."""
    from pydantic import ValidationError

    from pylapse.config.base import ConfigError
    from pylapse.config.render_schedules import RenderScheduleConfig

    values = _form_values(await request.form())
    sid = values.get("id", "").strip()
    if not sid:
        raise HTTPException(422, "render_schedules: give the schedule an id")
    given: dict[str, Any] = {
        k: values[k].strip() for k in _SCHEDULE_FIELDS if values.get(k, "").strip()
    }
    given["enabled"] = values.get("enabled") in ("on", "1", "true")

    def mutate(config: Any) -> None:
        old = config.render_schedules.get(sid)
        fields = {**(old.model_dump(exclude_unset=True) if old else {}), **given}
        config.render_schedules = {**config.render_schedules,
                                   sid: RenderScheduleConfig.model_validate(fields)}  # fmt: skip

    try:
        await run_in_threadpool(editor.apply, mutate)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"] if p != "render_schedules")
        problem = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise HTTPException(422, f"render_schedules.{sid}.{where}: {problem}".rstrip(".:")
                            ) from None  # fmt: skip
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"Not saved: {exc}") from None
    return RedirectResponse("/videos#render-schedules", status_code=303)


@router.post("/videos/schedules/{schedule_id}/remove")
def remove_schedule(schedule_id: str, runtime: RuntimeDep, editor: ConfigEditorDep):
    """Remove a render schedule from the config (its videos stay)."""
    from pylapse.config.base import ConfigError

    if schedule_id not in runtime.config.render_schedules:
        raise HTTPException(404, f"no render schedule {schedule_id!r}")

    def mutate(config: Any) -> None:
        kept = dict(config.render_schedules)
        kept.pop(schedule_id, None)
        config.render_schedules = kept

    try:
        editor.apply(mutate)
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"Not saved: {exc}") from None
    return RedirectResponse("/videos#render-schedules", status_code=303)


@router.get("/videos/history", response_class=HTMLResponse)
def history_partial(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query()] = 10,
):
    context = history_context(runtime, page, per_page)
    return m.render(templates, request, "partials/_video_history.html", context)


def video_file(runtime: Any, job_id: int) -> tuple[Any, Path | None]:
    """The render job and its video file: None unless the file at its path is the video it
    made (see :func:`pylapse.tasks.render_files.video_state`)."""
    job = m.job_or_404(runtime, job_id, ("render",))
    return job, video_state(runtime.config.root_paths, job)[1]


@router.get("/videos/{job_id}", response_class=HTMLResponse)
def video_page(job_id: JobId, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    job = m.job_or_404(runtime, job_id, ("render",))
    state, path = video_state(runtime.config.root_paths, job)
    manifest = read_manifest(path) if path else None
    context = {
        "active": "videos",
        "page_title": f"Video {job_id}",
        "job": job,
        "job_base": JOB_BASE,
        "path": path,
        "file_state": state.value,
        "replaced_by": (
            replaced_by(m.runner(runtime), runtime.config.root_paths, job)
            if state is VideoFile.REPLACED
            else None
        ),
        "media_type": MEDIA_TYPES.get(path.suffix.lower(), "video/mp4") if path else "",
        "manifest": manifest,
    }
    return m.render(templates, request, "video.html", context)


@router.get("/videos/{job_id}/file")
def video_download(job_id: JobId, runtime: RuntimeDep, download: bool = False) -> FileResponse:
    """The video itself (HTTP Range supported); ``?download=1`` saves it instead of playing."""
    _job, path = video_file(runtime, job_id)
    if path is None:
        raise HTTPException(
            404,
            f"video {job_id} has no file (deleted, replaced by a later render, or not rendered)",
        )
    media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    handle = files.open_or_http_error(path, runtime.config.root_paths, f"video {job_id}")
    return files.OpenFileResponse(
        handle,
        path,
        media_type=media,
        filename=path.name if download else None,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/videos/{job_id}/delete")
def delete_video(job_id: JobId, request: Request, runtime: RuntimeDep):
    """Delete the video file and its manifest (the history entry stays, marked deleted).

    Only this render's own file: a file a later render put at the same path is left alone."""
    job, path = video_file(runtime, job_id)
    if job.active:
        raise HTTPException(409, "the render is still running; cancel it first")
    if path is not None:
        path.unlink(missing_ok=True)
        manifest_path(path).unlink(missing_ok=True)
        storage.fsync_dir(path.parent)
    if m.is_htmx(request):
        response = HTMLResponse("", status_code=200)
        response.headers["HX-Redirect"] = "/videos"
        return response
    return RedirectResponse("/videos", status_code=303)
