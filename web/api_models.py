"""The JSON API's shapes (the objects it returns and the errors it declares) and the lookups
that build them, shared by the read routes (:mod:`web.routes.api`) and the control routes
(:mod:`web.routes.api_control`), so neither route module imports the other."""


from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import HTTPException
from pydantic import BaseModel

from pylapse.collection import FolderState
from pylapse.index.timereport import UNKNOWN
from pylapse.redact import mask_url

IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


# -- errors --------------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """An error; ``detail`` says what is wrong, naming the value."""

    detail: str


class FieldProblem(BaseModel):
    """One field of a camera or form that is not accepted."""

    field: str  # dotted, e.g. "schedules.0.minute"
    message: str


class RequestProblem(BaseModel):
    """One parameter or body part the request validation refused (FastAPI's own shape)."""

    type: str
    loc: list[str | int]  # where: ("path", "frame_id"), ("query", "offset"), ("body", ...)
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class InvalidOut(BaseModel):
    """422: a parameter or the body is not accepted; what is wrong, naming the field."""

    detail: str | list[FieldProblem] | list[RequestProblem]


_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (ErrorOut, "the body is not readable JSON (malformed, or nested too deeply)"),
    403: (ErrorOut, "the X-CSRF-Token header is missing or wrong (state-changing calls)"),
    404: (ErrorOut, "no such camera, collection, frame or job"),
    409: (ErrorOut, "not possible in the current state (the message says why)"),
    422: (InvalidOut, "a parameter or the body is not accepted"),
    502: (ErrorOut, "the camera did not deliver a frame"),
    503: (ErrorOut, "the job runner is not available"),
}


def errors(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the error statuses it can answer with (``e403="..."``
    replaces the generic description of 403)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model, text = _ERRORS[code]
        out[code] = {"model": model, "description": described.get(f"e{code}", text)}
    return out


FILE_FORBIDDEN = "the file does not lie inside the storage roots (a link out of them?)"
IMAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {media: {} for media in sorted(set(IMAGE_TYPES.values()))},
        "description": "the image",
    },
    **errors(403, 404, 422, e403=FILE_FORBIDDEN, e404="no such frame, or its file is gone"),
}


class SessionInfo(BaseModel):
    csrf_token: str
    authenticated: bool
    login_required: bool


class HealthOut(BaseModel):
    state: str
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    last_frame_id: int | None


class CameraOut(BaseModel):
    id: str
    name: str
    description: str
    type: str
    enabled: bool
    url: str | None  # credentials masked
    timezone: str | None
    output_dir: str
    schedules: list[dict[str, Any]]
    health: HealthOut


class FrameOut(BaseModel):
    id: int
    collection: str
    name: str
    time: datetime
    utc: float
    offset: int
    size: int | None
    width: int | None
    height: int | None
    luma: float | None
    image_url: str
    thumb_url: str
    # where the wall clock and the offset came from, and how sure ("unknown": indexed before
    # pyLapse recorded it); reason says why a time is inferred, assumed or flagged
    time_source: str
    offset_source: str
    time_status: str
    time_reason: str


class TimesOut(BaseModel):
    """How a collection's frame times were found: frames per status and per source."""

    status: dict[str, int]
    time_source: dict[str, int]
    offset_source: dict[str, int]
    flagged: int  # conflict + implausible: GET .../frames?flagged=true lists them


class CollectionOut(BaseModel):
    id: str
    name: str
    path: str
    timezone: str | None
    status: FolderState  # "missing": the folder is gone or not mounted (see problem)
    problem: str | None  # what is wrong with the folder, naming it; None when status is "ok"
    count: int  # frames in the index (kept while the folder is missing)
    first: FrameOut | None
    last: FrameOut | None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    total: int
    limit: int
    offset: int
    items: list[T]


class CaptureOut(BaseModel):
    camera_id: str
    frame_id: int | None
    name: str
    time: datetime
    size: int
    width: int
    height: int


def camera_out(runtime: Any, camera_id: str) -> CameraOut:
    cam = runtime.config.cameras.get(camera_id)
    if cam is None:
        raise HTTPException(404, f"no camera {camera_id!r}")
    h = runtime.camera_health(camera_id)  # "host silent" when its capture host stopped
    return CameraOut(
        id=camera_id,
        name=cam.name,
        description=cam.description,
        type=cam.type,
        enabled=cam.enabled,
        url=mask_url(cam.url) if cam.url else None,
        timezone=cam.timezone,
        output_dir=cam.output_dir,
        schedules=[s.model_dump(mode="json", exclude_unset=True) for s in cam.schedules],
        health=HealthOut(
            state=str(h.state),
            last_success=h.last_success,
            last_error=h.last_error,
            consecutive_failures=h.consecutive_failures,
            last_frame_id=h.last_frame_id,
        ),
    )


def frame_out(frame: Any) -> FrameOut:
    return FrameOut(
        id=frame.id,
        collection=frame.collection,
        name=frame.path.name,
        time=frame.time,
        utc=frame.utc,
        offset=frame.offset,
        size=frame.size,
        width=frame.width,
        height=frame.height,
        luma=frame.luma,
        image_url=f"/api/frames/{frame.id}/image",
        thumb_url=f"/api/frames/{frame.id}/thumb",
        time_source=frame.time_source or UNKNOWN,
        offset_source=frame.offset_source or UNKNOWN,
        time_status=frame.time_status or UNKNOWN,
        time_reason=frame.time_reason or "",
    )


def collection_or_404(runtime: Any, collection_id: str) -> Any:
    collections = runtime.collections()
    if collection_id not in collections:
        raise HTTPException(404, f"no collection {collection_id!r}")
    return collections[collection_id]


def collection_key(collection: Any, collection_id: str) -> str:
    return getattr(collection, "key", None) or collection_id


def zone_name_of(collection: Any, collection_id: str, runtime: Any) -> str | None:
    config = runtime.config
    if collection_id in config.collections:
        return config.collections[collection_id].timezone
    if collection_id in config.cameras:
        return config.cameras[collection_id].timezone
    return None


def frame_or_404(runtime: Any, frame_id: int) -> Any:
    frame = runtime.index.get(frame_id)
    if frame is None:
        raise HTTPException(404, f"no frame {frame_id}")
    return frame


def parse_time(value: str | None, what: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{what}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise HTTPException(422, f"{what}: {value!r} needs a UTC offset, e.g. +02:00 or Z")
    return parsed
