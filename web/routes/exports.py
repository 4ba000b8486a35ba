"""Exports: presets (create, edit, delete, run), a live selection preview and a live overlay
preview on a real frame, runs as jobs with progress and cancel, an optional video render after
the export, and a paginated history.

Presets live in the config (``exports``); output folders must resolve inside the storage roots.
A run selects the frames in the job (so a slow selection over millions of frames never holds up
a request), exports them (``pylapse.export.run_export``: new folder swapped in when complete),
then, when asked, queues a render of the exported folder as its own job on the Videos page.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pylapse import timeutil
from pylapse.config.base import ConfigError
from pylapse.config.presets import ExportPreset
from pylapse.selection.dead_camera import left_out_text
from pylapse.selection.targets import SelectionError
from pylapse.tasks.export import VideoAfter, queue_export
from pylapse.tasks.render import usable_codecs
from web import files
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep
from web.export_form import (
    ANCHORS,
    DAYS,
    PRESET_ID,
    RESERVED,
    check,
    days_of,
    form_values,
    fps_of,
    options_of,
    output_folder,
    preset_from,
    rule_text,
    values_of,
)
from web.routes import _media as m

router = APIRouter(tags=["exports"], include_in_schema=False)

JOB_BASE = "/exports/jobs"
PREVIEW_BOX = 1280  # the overlay preview is rendered at most this wide/high
PREVIEW_MAX = 4096  # pixels a side the preview draws at, at most (see _preview_size)
GAPS_SHOWN = 20

m.add_job_routes(router, JOB_BASE, ("export",))


def list_context(runtime: Any, page: int = 1, per_page: int = 10) -> dict[str, Any]:
    names = {cid: c.name for cid, c in runtime.collections().items()}
    presets = []
    for pid, preset in runtime.config.exports.items():
        try:
            folder: str = str(output_folder(runtime, pid, preset))
        except m.FieldError as exc:
            folder = f"not allowed: {exc}"
        collection = names.get(preset.collection or "", preset.collection)
        presets.append({"id": pid, "preset": preset, "rule": rule_text(preset), "folder": folder,
                        "collection": collection})  # fmt: skip
    context = {"active": "exports", "page_title": "Exports", "presets": presets,
               "export_jobs": m.active_jobs(runtime, "export"), "job_base": JOB_BASE}  # fmt: skip
    context.update(m.history(runtime, "export", page, per_page))
    return context


@router.get("/exports", response_class=HTMLResponse)
def exports(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    return m.render(templates, request, "exports.html", list_context(runtime))


@router.get("/exports/history", response_class=HTMLResponse)
def history_partial(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query()] = 10,
):
    context = m.history(runtime, "export", page, per_page)
    return m.render(templates, request, "partials/_export_history.html", context)


def form_context(
    runtime: Any, preset_id: str | None, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    from pylapse.imaging.fonts import DEFAULT_FONT_NAME, system_fonts

    available, _ = usable_codecs(runtime.config)
    return {
        "active": "exports",
        "page_title": f"Export {preset_id}" if preset_id else "New export",
        "preset_id": preset_id,
        "values": values,
        "errors": errors,
        "collections": {cid: c.name for cid, c in runtime.collections().items()},
        "fonts": [f for f in system_fonts() if f != DEFAULT_FONT_NAME],
        "default_font": DEFAULT_FONT_NAME,
        "anchors": ANCHORS,
        "day_names": DAYS,
        "days_of": days_of,
        "zones": timeutil.all_zones(),
        "codecs": available,
        "export_jobs": m.active_jobs(runtime, "export", preset=preset_id) if preset_id else [],
        "job_base": JOB_BASE,
        "replaces": _replaces(runtime, preset_id),
        "folder": _folder_text(runtime, preset_id),
    }


def _folder_text(runtime: Any, preset_id: str | None) -> str:
    preset = runtime.config.exports.get(preset_id) if preset_id else None
    if preset is None or preset_id is None:
        return ""
    try:
        return str(output_folder(runtime, preset_id, preset))
    except m.FieldError as exc:
        return f"(not allowed: {exc})"


def _replaces(runtime: Any, preset_id: str | None) -> Any:
    """The earlier export a run of the saved preset would replace (None: nothing there)."""
    from pylapse.export.staging import previous_export

    preset = runtime.config.exports.get(preset_id) if preset_id else None
    if preset is None or preset_id is None:
        return None
    try:
        return previous_export(output_folder(runtime, preset_id, preset))
    except m.FieldError:
        return None


@router.get("/exports/new", response_class=HTMLResponse)
def new_preset(
    request: Request, runtime: RuntimeDep, templates: TemplatesDep, collection: str = ""
):
    values = values_of(None)
    if collection:
        m.collection_or_404(runtime, collection)
        values["collection"] = collection
    values["preset_id"] = ""
    context = form_context(runtime, None, values, {})
    return m.render(templates, request, "export_form.html", context)


def _preset_or_404(runtime: Any, preset_id: str) -> ExportPreset:
    preset = runtime.config.exports.get(preset_id)
    if preset is None:
        raise HTTPException(404, f"no export preset {preset_id!r}")
    return preset


@router.post("/exports/new", response_class=HTMLResponse)
async def create_preset(
    request: Request, runtime: RuntimeDep, templates: TemplatesDep, editor: ConfigEditorDep
):
    values = form_values(await request.form())
    preset_id = values["preset_id"]
    args = (request, runtime, templates, editor, preset_id, values, True)
    return await run_in_threadpool(_save, *args)


@router.post("/exports/{preset_id}", response_class=HTMLResponse)
async def save_preset(
    preset_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    editor: ConfigEditorDep,
):
    _preset_or_404(runtime, preset_id)
    values = form_values(await request.form())
    args = (request, runtime, templates, editor, preset_id, values, False)
    return await run_in_threadpool(_save, *args)


def _save(
    request: Request,
    runtime: Any,
    templates: Any,
    editor: Any,
    preset_id: str,
    values: dict,
    new: bool,
) -> Response:
    errors: dict[str, str] = {}
    try:
        if new and (not PRESET_ID.match(preset_id) or preset_id.lower() in RESERVED):
            raise m.FieldError(
                "preset_id",
                f"{preset_id!r} is not a usable name: 1-64 letters, digits, space, '.', "
                "'_' or '-', starting with a letter or digit",
            )
        preset, _folder = check(runtime, preset_id, values)

        def store(config: Any) -> None:
            if new and preset_id in config.exports:
                raise m.FieldError("preset_id", f"an export called {preset_id!r} exists already")
            if not new and preset_id not in config.exports:
                raise m.FieldError("form", f"the export {preset_id!r} was deleted meanwhile")
            config.exports[preset_id] = preset

        editor.apply(store)
    except m.FieldError as exc:
        errors[exc.field] = str(exc)
    except (ConfigError, OSError) as exc:
        errors["form"] = f"Not saved: {exc}"
    if errors:
        context = form_context(runtime, None if new else preset_id, values, errors)
        return m.render(templates, request, "export_form.html", context, status_code=422)
    return RedirectResponse(f"/exports/{preset_id}?saved=1", status_code=303)


@router.get("/exports/preview", response_class=HTMLResponse)
def selection_preview(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """What the form's rules pick right now: count, gaps, first/last, video length at fps."""
    values = form_values(request.query_params)
    context: dict[str, Any] = {"error": "", "summary": None}
    try:
        preset = preset_from(values)
        if not preset.collection:
            raise m.FieldError("collection", "choose a collection to see what the rules pick")
        coll = m.collection_or_404(runtime, preset.collection)
        fps = fps_of(values)
        selection = coll.preset_selection(preset)
        context.update(
            left_out=left_out_text(selection.left_out),
            dropped=_dropped_rows(selection),
            suggested=None if selection.dropped else _suggested(coll, preset),
            summary=selection.summary(fps),
            first=selection.first_time,
            last=selection.last_time,
            gaps=selection.gaps[:GAPS_SHOWN],
            zone=coll.zone,
            fps=fps,
        )
    except (m.FieldError, SelectionError, ValueError) as exc:
        context["error"] = str(exc)
    return m.render(templates, request, "partials/_selection_preview.html", context)


# what the preview calls each filter
_FILTER_WORDS = {
    "min_luma": "dark",
    "max_luma": "washed out",
    "min_contrast": "blank",
    "max_clip_high": "overexposed",
    "min_sharpness": "blurry",
    "drop_frozen": "frozen runs",
    "drop_duplicates": "duplicates",
}


def _dropped_rows(selection: Any) -> dict[str, Any] | None:
    """``{"total", "of", "rows": [(words, count)]}`` of what the active filters removed."""
    if not selection.dropped:
        return None
    total = sum(selection.dropped.values())
    return {
        "total": total,
        "of": selection.counts.considered + total,
        "rows": [(_FILTER_WORDS.get(k, k), n) for k, n in selection.dropped.items()],
    }


def _suggested(coll: Any, preset: ExportPreset) -> dict[str, Any] | None:
    """With every filter off, what the suggested thresholds would drop (a preview only)."""
    from pylapse.selection.quality_filter import SUGGESTED

    rows = _dropped_rows(coll.preset_selection(preset.model_copy(update=SUGGESTED)))
    if rows is not None:
        rows["settings"] = SUGGESTED
    return rows


def _preview_frame(runtime: Any, preset: ExportPreset) -> Any:
    coll = m.collection_or_404(runtime, preset.collection or "")
    frame = runtime.index.last(coll.key)
    if frame is None:
        raise m.FieldError("frames", "this collection has no frames to preview on yet")
    return frame


@router.get("/exports/overlay", response_class=HTMLResponse)
def overlay_partial(request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """The overlay preview box: the image URL for the current form values, or what is wrong."""
    values = form_values(request.query_params)
    context: dict[str, Any] = {"error": "", "src": ""}
    try:
        preset = preset_from(values)
        if not preset.collection:
            raise m.FieldError("collection", "choose a collection to preview on one of its frames")
        options_of(preset, runtime.config)
        frame = _preview_frame(runtime, preset)
        query = {k: v for k, v in request.query_params.items() if k != "csrf_token"}
        context.update(src="/exports/overlay.jpg?" + urlencode(query), frame=frame)
    except m.FieldError as exc:
        context["error"] = str(exc)
        context["waiting"] = exc.field == "frames"  # look again until a first frame arrives
    return m.render(templates, request, "partials/_overlay_preview.html", context)


@router.get("/exports/overlay.jpg")
def overlay_image(request: Request, runtime: RuntimeDep) -> Response:
    """The collection's latest frame processed exactly as the form says, as a JPEG."""
    values = form_values(request.query_params)
    try:
        preset = preset_from(values)
        options = options_of(preset, runtime.config)
        frame = _preview_frame(runtime, preset)
        data = _render_preview(frame, options, files.frame_roots(runtime, frame))
    except m.FieldError as exc:
        raise HTTPException(422, str(exc)) from None
    except ValueError as exc:  # a font or watermark that fails only when drawn
        raise HTTPException(422, f"the overlay cannot be drawn: {exc}") from None
    return m.no_store(Response(data, media_type="image/jpeg"))


def _preview_size(resize: Any) -> Any:
    """``resize``, scaled down (aspect kept) when it asks for more than :data:`PREVIEW_MAX`
    pixels a side: the preview is shown at most :data:`PREVIEW_BOX` wide, and drawing a 16K
    frame for it would take seconds and gigabytes. Overlays are sized relative to the frame,
    so it looks the same (offsets given in pixels move a little)."""
    if resize is None:
        return None
    largest = max(resize.width or 0, resize.height or 0)
    if largest <= PREVIEW_MAX:
        return resize
    scale = PREVIEW_MAX / largest
    width = max(1, round(resize.width * scale)) if resize.width else None
    height = max(1, round(resize.height * scale)) if resize.height else None
    return replace(resize, width=width, height=height)


def _render_preview(frame: Any, options: Any, roots: list[Path]) -> bytes:
    from pylapse.imaging import process

    resize = _preview_size(options.resize_spec()) or process.Resize(
        PREVIEW_BOX, PREVIEW_BOX, process.ResizeMode.FIT
    )
    with files.open_or_http_error(frame.path, roots, f"frame {frame.id}") as handle:
        data = handle.read()  # one frame; decoded from memory, read from the checked file
    try:
        image = process.open_frame(data, resize)
    except process.ImageError as exc:
        raise m.FieldError("collection", f"{frame.path.name}: {exc}") from None
    try:
        try:
            image = process.resize_image(image, resize)
        except MemoryError:
            raise m.FieldError(
                "width", f"{resize.width}×{resize.height} pixels is too large to preview here"
            ) from None
        stamp, mark = options.timestamp_overlay(), options.watermark()
        if stamp is not None:
            stamp.apply(image, frame.time)
        if mark is not None:
            mark.apply(image)
        image.thumbnail((PREVIEW_BOX, PREVIEW_BOX))
        out = io.BytesIO()
        process.encode(image, out, "jpg", quality=min(options.quality, 90))
    finally:
        image.close()
    return out.getvalue()


@router.get("/exports/{preset_id}", response_class=HTMLResponse)
def edit_preset(
    preset_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    saved: bool = False,
):
    values = values_of(_preset_or_404(runtime, preset_id))
    values.update(preset_id=preset_id, fps="24", codec="h264", make_video="")
    context = form_context(runtime, preset_id, values, {})
    if saved:
        context["flash"] = "Saved."
    return m.render(templates, request, "export_form.html", context)


def _drop_preset(config: Any, preset_id: str) -> None:
    config.exports.pop(preset_id, None)


@router.post("/exports/{preset_id}/delete")
def delete_preset(preset_id: str, runtime: RuntimeDep, editor: ConfigEditorDep) -> RedirectResponse:
    """Remove the preset from the config; files it exported stay where they are."""
    _preset_or_404(runtime, preset_id)
    try:
        editor.apply(lambda config: _drop_preset(config, preset_id))
    except ConfigError as exc:
        raise HTTPException(409, f"Not deleted: {exc}") from None
    return RedirectResponse("/exports", status_code=303)


@router.post("/exports/{preset_id}/run", response_class=HTMLResponse)
async def run_preset(
    preset_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep
):
    """Run the saved preset as a job; ``make_video`` queues a render of the result after it.

    When the folder holds an earlier export, the form must say ``replace`` (the page shows what
    would be replaced); otherwise nothing runs (409)."""
    preset = _preset_or_404(runtime, preset_id)
    form = await request.form()
    previous = _replaces(runtime, preset_id)
    if previous is not None and form.get("replace") not in ("on", "1", "true"):
        raise HTTPException(
            409,
            f"not started: this run would replace the {previous.describe()}; tick "
            "'Replace the earlier export' to run it",
        )
    try:
        folder = output_folder(runtime, preset_id, preset)
        video = _video_request(runtime, form) if form.get("make_video") in ("on", "1") else None
        if not preset.collection:
            raise m.FieldError("collection", "this preset has no collection; edit it first")
        coll = m.collection_or_404(runtime, preset.collection)
        options = options_of(preset, runtime.config)
    except m.FieldError as exc:
        raise HTTPException(422, f"{exc.field}: {exc}") from None
    replaces = previous.count if previous else 0
    job_id = export_job(runtime, preset_id, preset, coll, folder, options, video, replaces)
    return m.started(request, templates, runtime, job_id, JOB_BASE, "/exports")


def _video_request(runtime: Any, form: Any) -> VideoAfter:
    values = {"codec": str(form.get("codec") or "h264"), "fps": str(form.get("fps") or "24")}
    available, error = usable_codecs(runtime.config)
    if error or values["codec"] not in {c.name for c in available}:
        raise m.FieldError("codec", error or f"codec {values['codec']!r} is not available")
    return VideoAfter(values["codec"], fps_of(values))


def export_job(
    runtime: Any,
    preset_id: str,
    preset: ExportPreset,
    coll: Any,
    folder: Path,
    options: Any,
    video: VideoAfter | None,
    replaces: int = 0,
) -> int:
    """Queue the preset's export (and its video after it): see :func:`queue_export`."""
    return m.queue(
        runtime,
        lambda jobs: queue_export(
            jobs, runtime.config, coll, preset_id, preset, folder, options,
            video=video, replaces=replaces,
        ),
    )
