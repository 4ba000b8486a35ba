"""The API's exports and renders: list the saved export presets, run one as a job (with a
video after it when asked), and render a video from an export folder, a preset's output or a
collection. Each answers ``202`` with the job's id; follow it with ``GET /api/jobs/{id}`` and
stop it with ``POST /api/jobs/{id}/cancel`` (the dashboard's job cards read the same jobs).

The checks are the dashboard's: a run that would replace an earlier export needs
``replace: true``, folders must lie inside the storage roots, a codec must be one this ffmpeg
has. Jobs are queued through the library's use cases (:mod:`pylapse.tasks`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel, Field

from pylapse.export.staging import previous_export
from pylapse.selection.targets import SelectionError
from pylapse.tasks.export import VideoAfter, queue_export, video_output
from pylapse.tasks.render import queue_render, stabilise_unavailable, usable_codecs
from pylapse.video.framelist import folder_frames
from web.api_models import errors
from web.deps import RuntimeDep
from web.export_form import options_of, output_folder, rule_text
from web.routes import _media as m

router = APIRouter(prefix="/api", tags=["api"])

_QUEUE = {
    "e409": "not started: an earlier export would be replaced (send replace: true), or this "
    "pyLapse runs without a job runner",
    "e503": "the job queue is full; try again when a job has finished",
}


class PresetOut(BaseModel):
    id: str
    collection: str | None
    rule: str  # the cron slots it selects, in words
    output_dir: str | None  # None when the folder is not allowed (see problem)
    problem: str | None
    previous_files: int  # files of an earlier export a run would replace (needs replace: true)


class VideoIn(BaseModel):
    codec: str = Field("h264", max_length=40, examples=["h264"])
    fps: float = Field(24.0, ge=0.1, le=240)


class ExportRunIn(BaseModel):
    replace: bool = False  # allow the run to replace an earlier export in the preset's folder
    video: VideoIn | None = None  # render the exported frames to a video afterwards


class RenderIn(BaseModel):
    """What to render: exactly one of ``preset`` (its output folder), ``export_dir`` (a folder
    inside the storage roots) or ``collection`` (its frames, optionally between two dates)."""

    preset: str | None = Field(None, max_length=200)
    export_dir: str | None = Field(None, max_length=4096)
    pattern: str = Field("*.jpg", max_length=200, description="file names in the folder")
    collection: str | None = Field(None, max_length=200)
    date_from: date | None = None
    date_to: date | None = None
    codec: str = Field("h264", max_length=40)
    fps: float = Field(24.0, ge=0.1, le=240)
    speed: Literal["draft", "final"] | None = Field(
        None, description="draft: fast, a bit softer; final: slower, sharper (codec default: none)"
    )
    name: str | None = Field(None, max_length=100, description="the video's file name stem")
    if_exists: Literal["rename", "replace"] = "rename"
    deflicker: bool = Field(False, description="even out frame-to-frame brightness")
    deflicker_window: int = Field(13, ge=3, le=1001, description="frames in deflicker's fit")
    deflicker_strength: float = Field(1.0, ge=0, le=1, description="0-1 of the way to even")
    stabilise: bool = Field(
        False, description="two vidstab passes; 422 when this ffmpeg lacks vidstab (doctor)"
    )
    keep_dead_frames: bool = Field(
        False,
        description="a collection's render keeps a dead camera's frames (frozen runs, blank "
        "pictures, far darker than the day before), which it leaves out otherwise",
    )


class JobStarted(BaseModel):
    job_id: int
    kind: str
    url: str  # follow it here; POST {url}/cancel stops it


def _preset_or_404(runtime: Any, preset_id: str) -> Any:
    preset = runtime.config.exports.get(preset_id)
    if preset is None:
        raise HTTPException(404, f"no export preset {preset_id!r}")
    return preset


def _started(runtime: Any, job_id: int) -> JobStarted:
    job = m.runner(runtime).get(job_id)
    return JobStarted(job_id=job_id, kind=job.kind, url=f"/api/jobs/{job_id}")


def _unprocessable(exc: m.FieldError) -> HTTPException:
    return HTTPException(422, [{"field": exc.field, "message": str(exc)}])


def _codec(runtime: Any, name: str) -> str:
    available, error = usable_codecs(runtime.config)
    if error:
        raise m.FieldError("codec", error)
    names = [c.name for c in available]
    if name not in names:
        raise m.FieldError("codec", f"codec {name!r} is not available; this ffmpeg has "
                                    f"{', '.join(names)}")  # fmt: skip
    return name


@router.get("/exports", response_model=list[PresetOut])
def presets(runtime: RuntimeDep) -> list[PresetOut]:
    """The saved export presets, with where each writes and what a run would replace."""
    out = []
    for preset_id, preset in sorted(runtime.config.exports.items()):
        folder: Path | None = None
        problem = None
        try:
            folder = output_folder(runtime, preset_id, preset)
        except m.FieldError as exc:
            problem = str(exc)
        previous = previous_export(folder) if folder is not None else None
        out.append(PresetOut(
            id=preset_id, collection=preset.collection or None, rule=rule_text(preset),
            output_dir=None if folder is None else str(folder), problem=problem,
            previous_files=previous.count if previous else 0,
        ))  # fmt: skip
    return out


@router.post(
    "/exports/{preset_id}/run",
    status_code=202,
    response_model=JobStarted,
    responses=errors(400, 403, 404, 409, 422, 503, **_QUEUE),
)
def run_export(
    preset_id: str, runtime: RuntimeDep, body: Annotated[ExportRunIn | None, Body()] = None
) -> JobStarted:
    """Run the saved preset as an ``export`` job (and a ``render`` job after it with
    ``video``); the export's result names the render job as ``video_job``."""
    preset = _preset_or_404(runtime, preset_id)
    request = body or ExportRunIn()
    try:
        folder = output_folder(runtime, preset_id, preset)
        if not preset.collection:
            raise m.FieldError("collection", "this preset has no collection; edit it first")
        coll = m.collection_or_404(runtime, preset.collection)
        options = options_of(preset, runtime.config)
        video = None
        if request.video is not None:
            video = VideoAfter(_codec(runtime, request.video.codec), request.video.fps)
    except m.FieldError as exc:
        raise _unprocessable(exc) from None
    previous = previous_export(folder)
    if previous is not None and not request.replace:
        what = previous.describe()
        raise HTTPException(409, f"not started: this run would replace the {what}; "
                                 "send replace: true to run it")  # fmt: skip
    replaces = previous.count if previous else 0
    job_id = m.queue(runtime, lambda jobs: queue_export(
        jobs, runtime.config, coll, preset_id, preset, folder, options,
        video=video, replaces=replaces,
    ))  # fmt: skip
    return _started(runtime, job_id)


def _render_source(runtime: Any, body: RenderIn) -> dict[str, Any]:
    """The frames, title and parameters of a render request (FieldError when not usable)."""
    config = runtime.config
    chosen = [k for k in ("preset", "export_dir", "collection") if getattr(body, k)]
    if len(chosen) != 1:
        raise m.FieldError("body", "give exactly one of preset, export_dir or collection")
    if body.collection:
        coll = m.collection_or_404(runtime, body.collection)
        kw: dict[str, Any] = {"date_from": body.date_from and body.date_from.isoformat(),
                              "date_to": body.date_to and body.date_to.isoformat(),
                              "keep_dead_frames": body.keep_dead_frames}  # fmt: skip
        try:
            coll.select(**kw)  # the rules checked now; the job selects again (frames arrive)
        except (SelectionError, ValueError) as exc:
            raise m.FieldError("date_from", str(exc)) from None
        params: dict[str, Any] = {"source": "collection", "collection": body.collection}
        if body.keep_dead_frames:  # as the Videos form keeps it in the job's params
            params["keep_dead_frames"] = True
        return {"title": f"Render {coll.name}", "frames": lambda: coll.select(**kw),
                "params": params,
                "roots": [*config.root_paths, *coll.roots], "stem": body.collection}  # fmt: skip
    if body.keep_dead_frames:
        raise m.FieldError("keep_dead_frames", "keep_dead_frames is for a collection's frames; "
                           f"the frames of {chosen[0]} are all rendered")  # fmt: skip
    if body.preset:
        folder = output_folder(runtime, body.preset, _preset_or_404(runtime, body.preset))
    else:
        folder = m.confine(config, body.export_dir or "-", "export_dir")
    if not folder.is_dir():
        raise m.FieldError(chosen[0], f"{folder} is not a folder (not exported yet?)")
    if "/" in body.pattern or "\\" in body.pattern:
        raise m.FieldError("pattern", "the pattern matches file names, not paths")
    roots = list(config.root_paths)
    return {"title": f"Render {folder.name}",
            "frames": lambda: folder_frames(folder, body.pattern, None),
            "params": {"source": "export", "export_dir": str(folder)},
            "roots": roots, "stem": body.preset or folder.name}  # fmt: skip


def _looks(runtime: Any, body: RenderIn) -> dict[str, Any]:
    """Deflicker and stabilise as render options; stabilising with an ffmpeg without vidstab
    is a FieldError saying why."""
    looks: dict[str, Any] = {}
    if body.stabilise:
        why_not = stabilise_unavailable(runtime.config)
        if why_not is not None:
            raise m.FieldError("stabilise", f"stabilising is not available: {why_not}")
        looks["stabilise"] = True
    if body.deflicker:
        looks.update(deflicker=True, deflicker_window=body.deflicker_window,
                     deflicker_strength=body.deflicker_strength)  # fmt: skip
    return looks


@router.post(
    "/renders",
    status_code=202,
    response_model=JobStarted,
    responses=errors(400, 403, 404, 409, 422, 503, e409="this pyLapse runs without a job runner",
                     e503=_QUEUE["e503"]),
)  # fmt: skip
def start_render(runtime: RuntimeDep, body: RenderIn) -> JobStarted:
    """Render a video into the videos folder as a ``render`` job (the same encoder as the
    Videos page); the job's result names the video file."""
    try:
        codec = _codec(runtime, body.codec)
        source = _render_source(runtime, body)
        stem = m.file_stem(body.name, "name") if body.name else None
        output = video_output(runtime.config, source["stem"], codec)
        if stem is not None:
            output = output.with_name(stem + output.suffix)
        looks = _looks(runtime, body)
    except m.FieldError as exc:
        raise _unprocessable(exc) from None
    except ValueError as exc:  # no storage root for videos
        raise HTTPException(409, str(exc)) from None
    job_id = m.queue(runtime, lambda jobs: queue_render(
        jobs, runtime.config, title=source["title"], frames=source["frames"], output=output,
        options={"codec": codec, "fps": body.fps, "speed": body.speed, **looks},
        params=source["params"],
        if_exists=body.if_exists, roots=source["roots"],
    ))  # fmt: skip
    return _started(runtime, job_id)
