"""The API's state-changing calls for cameras, collections and capture: create/replace and
remove a camera, remove a collection, pause and resume capture.

A camera is sent as the same JSON object as in ``capture_config.json``. ``password`` is
write-only: leave it out to keep the stored one, send ``null`` to remove it. As in the pages, a
new or changed ``output_dir`` must lie inside a storage root. A removed camera's frames stay, as
a collection with the camera's id (or the collection that named the camera).

Removing a collection forgets it (config and index); its frame files are deleted only with
``delete_files=true`` and ``expect_files`` set to the number ``GET .../removal?delete_files=true``
previewed, by a job (``delete_job``) that deletes only inside the collection's folder.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Response
from pydantic import BaseModel, ValidationError

from pylapse.config.base import ConfigError
from pylapse.config.cameras import CameraConfig
from pylapse.config.file import check_depth
from pylapse.config.models import Config
from pylapse.tasks.removal import RemovalRefused
from web.api_models import CameraOut, camera_out, collection_or_404, errors
from web.camera_form import check_output_dir
from web.deps import ConfigEditorDep, RuntimeDep
from web.params import CameraId, CollectionId
from web.routes import _removal

router = APIRouter(prefix="/api", tags=["api"])

_NO_SCHEDULER = "this dashboard runs without a scheduler (--no-capture)"
_NOT_CONFIRMED = (
    "a parameter is not accepted, or expect_files is missing or is not the number of files "
    "the preview counted"
)


class CaptureState(BaseModel):
    paused: bool
    paused_cameras: list[str]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``#/$defs/...`` reference replaced by its definition."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def _camera_schema() -> dict[str, Any]:
    """The JSON schema of a camera as the config file holds it, self-contained (the body is
    parsed by hand below, for ``password``'s keep-when-left-out rule and named problems)."""
    schema = CameraConfig.model_json_schema()
    inlined: dict[str, Any] = _inline(schema, schema.pop("$defs", {}))
    return inlined


@router.put(
    "/cameras/{camera_id}",
    response_model=CameraOut,
    responses=errors(400, 403, 409, 422, e409="not saved: the config file could not be written"),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _camera_schema()}},
        }
    },
)
def put_camera(
    camera_id: CameraId,
    runtime: RuntimeDep,
    editor: ConfigEditorDep,
    camera: Annotated[dict[str, Any], Body(examples=[{"name": "Porch", "type": "synthetic",
                                                      "output_dir": "timelapse/porch"}])],
) -> CameraOut:  # fmt: skip
    """Create or replace camera ``camera_id`` (same fields as in the config file)."""
    try:
        check_depth(camera, "the camera")  # copying and saving it would recurse that deep
    except ValueError as exc:
        raise HTTPException(422, [{"field": "body", "message": str(exc)}]) from None
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


@router.delete("/cameras/{camera_id}", status_code=204, responses=errors(403, 404, 409))
def delete_camera(camera_id: CameraId, runtime: RuntimeDep, editor: ConfigEditorDep) -> Response:
    """Remove the camera from the config; its frames stay on disk, in the index and in a
    collection (the camera's id, or the collection that named the camera)."""
    if camera_id not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera_id!r}")
    try:
        _removal.remove_camera(runtime, editor, camera_id)
    except (ConfigError, OSError) as exc:
        raise HTTPException(409, f"not removed: {exc}") from None
    return Response(status_code=204)


class FilesPreviewOut(BaseModel):
    folder: str
    files: int
    bytes: int
    estimated: bool  # part of ``bytes`` extrapolated from ``sampled`` files
    sampled: int
    problem: str | None  # why the files cannot be deleted now


class RemovalOut(BaseModel):
    collection: str
    presets: list[str]  # export presets removed only with remove_presets=true
    blockers: list[str]  # why it cannot be removed now; empty when it can
    files: FilesPreviewOut | None  # with delete_files=true


class RemovedOut(BaseModel):
    collection: str
    presets_removed: list[str]
    frames_forgotten: int | None  # None: the delete job forgets them when done
    delete_job: int | None
    problem: str | None  # delete_files was asked for but no job could start: the files stay


@router.get(
    "/collections/{collection_id}/removal", response_model=RemovalOut, responses=errors(404, 422)
)
def collection_removal(
    collection_id: CollectionId, runtime: RuntimeDep, delete_files: bool = False
) -> RemovalOut:
    """What removing the collection would do; with ``delete_files`` the number and size of
    the frame files deleting would delete."""
    coll = collection_or_404(runtime, collection_id)
    p = _removal.plan(runtime, collection_id, coll, delete_files)
    files = None
    if p.preview is not None:
        v = p.preview
        files = FilesPreviewOut(
            folder=str(v.folder), files=v.files, bytes=v.bytes, estimated=v.estimated,
            sampled=v.sampled, problem=v.problem,
        )  # fmt: skip
    return RemovalOut(collection=collection_id, presets=p.presets, blockers=p.blockers,
                      files=files)  # fmt: skip


@router.delete(
    "/collections/{collection_id}",
    response_model=RemovedOut,
    responses=errors(403, 404, 409, 422, e422=_NOT_CONFIRMED),
)
def delete_collection(
    collection_id: CollectionId,
    runtime: RuntimeDep,
    editor: ConfigEditorDep,
    delete_files: bool = False,
    remove_presets: bool = False,
    expect_files: int | None = None,
) -> RemovedOut:
    """Remove the collection from the config and the index; its files stay unless
    ``delete_files`` (then ``expect_files`` must be the previewed number of files)."""
    coll = collection_or_404(runtime, collection_id)
    p = _removal.plan(runtime, collection_id, coll, delete_files)
    refused = _removal.refusal(runtime, p, remove_presets=remove_presets,
                               delete_files=delete_files, expect_files=expect_files)  # fmt: skip
    if refused is not None:  # a missing or stale expect_files is the request's to fix
        raise HTTPException(422 if refused.confirm else 409, refused.message)
    try:
        done = _removal.perform(
            runtime, editor, collection_id, coll, remove_presets=remove_presets,
            delete_files=delete_files,
        )  # fmt: skip
    except (RemovalRefused, ConfigError, OSError) as exc:
        raise HTTPException(409, _removal.removal_error(exc)) from None
    return RemovedOut(collection=collection_id, presets_removed=done.presets,
                      frames_forgotten=done.forgotten, delete_job=done.job_id,
                      problem=done.problem)  # fmt: skip


def _capture_state(runtime: Any) -> CaptureState:
    scheduler = runtime.scheduler
    if scheduler is None:
        raise HTTPException(409, _NO_SCHEDULER)
    return CaptureState(paused=scheduler.paused, paused_cameras=sorted(scheduler.paused_cameras()))


@router.get("/capture", response_model=CaptureState, responses=errors(409, e409=_NO_SCHEDULER))
def capture_state(runtime: RuntimeDep) -> CaptureState:
    """Whether scheduled capture is paused (all cameras, or which ones)."""
    return _capture_state(runtime)


@router.post(
    "/capture/pause",
    response_model=CaptureState,
    responses=errors(403, 404, 409, 422, e404="no such camera", e409=_NO_SCHEDULER),
)
def pause(runtime: RuntimeDep, camera: str | None = None) -> CaptureState:
    """Pause scheduled capture: all of it, or one ``camera``. Survives restarts."""
    _capture_state(runtime)
    if camera is not None and camera not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera!r}")
    assert runtime.scheduler is not None  # _capture_state answered 409 otherwise
    runtime.scheduler.pause(camera)
    return _capture_state(runtime)


@router.post(
    "/capture/resume",
    response_model=CaptureState,
    responses=errors(403, 404, 409, 422, e404="no such camera", e409=_NO_SCHEDULER),
)
def resume(runtime: RuntimeDep, camera: str | None = None) -> CaptureState:
    """Resume scheduled capture (all of it, or one ``camera``)."""
    _capture_state(runtime)
    if camera is not None and camera not in runtime.config.cameras:
        raise HTTPException(404, f"no camera {camera!r}")
    assert runtime.scheduler is not None  # _capture_state answered 409 otherwise
    runtime.scheduler.resume(camera)
    return _capture_state(runtime)
