"""The API's state-changing calls for cameras and capture: create/replace, remove, pause, resume.

A camera is sent as the same JSON object as in ``capture_config.json``. ``password`` is
write-only: leave it out to keep the stored one, send ``null`` to remove it. As in the pages, a
new or changed ``output_dir`` must lie inside a storage root.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response
from pydantic import BaseModel, ValidationError

from pylapse.config import CameraConfig, Config, ConfigError
from web.deps import ConfigEditorDep, RuntimeDep
from web.routes.api import CameraOut, camera_out
from web.routes.cameras import check_output_dir

router = APIRouter(prefix="/api", tags=["api"])


class CaptureState(BaseModel):
    paused: bool
    paused_cameras: list[str]


@router.put("/cameras/{camera_id}", response_model=CameraOut)
def put_camera(
    camera_id: str,
    runtime: RuntimeDep,
    editor: ConfigEditorDep,
    camera: Annotated[dict[str, Any], Body(examples=[{"name": "Porch", "type": "synthetic",
                                                      "output_dir": "timelapse/porch"}])],
) -> CameraOut:  # fmt: skip
    """Create or replace camera ``camera_id`` (same fields as in the config file)."""
    existing = runtime.config.cameras.get(camera_id)
    data = dict(camera)
    if existing is not None and "password" not in data and existing.password:
        data["password"] = existing.password
    try:
        parsed = CameraConfig.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_input=False, include_url=False)
        ]
        raise HTTPException(422, problems) from None
    errors: dict[str, str] = {}
    check_output_dir(runtime.config, parsed, existing, errors)
    if errors:
        raise HTTPException(422, [{"field": k, "message": v} for k, v in errors.items()])

    def mutate(config: Config) -> None:
        config.cameras[camera_id] = parsed

    try:
        editor.apply(mutate)
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"not saved: {exc}") from None
    return camera_out(runtime, camera_id)


@router.delete("/cameras/{camera_id}", status_code=204)
def delete_camera(camera_id: str, runtime: RuntimeDep, editor: ConfigEditorDep) -> Response:
    """Remove the camera from the config (its frames stay on disk and in the index)."""
    if camera_id not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera_id!r}")

    def mutate(config: Config) -> None:
        config.cameras.pop(camera_id, None)

    try:
        editor.apply(mutate)
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"not removed: {exc}") from None
    return Response(status_code=204)


def _capture_state(runtime: Any) -> CaptureState:
    scheduler = runtime.scheduler
    if scheduler is None:
        raise HTTPException(409, "this dashboard runs without a scheduler (--no-capture)")
    return CaptureState(paused=scheduler.paused, paused_cameras=sorted(scheduler.paused_cameras()))


@router.get("/capture", response_model=CaptureState)
def capture_state(runtime: RuntimeDep) -> CaptureState:
    """Whether scheduled capture is paused (all cameras, or which ones)."""
    return _capture_state(runtime)


@router.post("/capture/pause", response_model=CaptureState)
def pause(runtime: RuntimeDep, camera: str | None = None) -> CaptureState:
    """Pause scheduled capture: all of it, or one ``camera``. Survives restarts."""
    _capture_state(runtime)
    if camera is not None and camera not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera!r}")
    runtime.scheduler.pause(camera)
    return _capture_state(runtime)


@router.post("/capture/resume", response_model=CaptureState)
def resume(runtime: RuntimeDep, camera: str | None = None) -> CaptureState:
    """Resume scheduled capture (all of it, or one ``camera``)."""
    _capture_state(runtime)
    if camera is not None and camera not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera!r}")
    runtime.scheduler.resume(camera)
    return _capture_state(runtime)
