"""The JSON API under ``/api/`` (OpenAPI docs at ``/api/docs``), for scripts and the pages' images.

Frames and thumbnails are served by frame id, never by a path from the request, and only while
the frame's file resolves inside the storage roots (checked as it is served: :mod:`web.files`).
Camera passwords never leave the server: the camera objects here leave them out and mask
credentials in URLs. State-changing calls need the ``X-CSRF-Token`` header; ``GET /api/session``
returns the token (and sets the session cookie it belongs to).

Every error is ``{"detail": ...}``: a sentence, or for 422 a list of problems each naming its
field; the responses each route can give are declared on it (:func:`errors`), so the OpenAPI
spec says what a client can get.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from pylapse import storage
from pylapse.jobs.record import JobNotFound
from pylapse.sources.base import GrabError
from web import files, security, thumbs
from web.api_models import (
    FILE_FORBIDDEN,
    IMAGE_RESPONSES,
    IMAGE_TYPES,
    CameraOut,
    CaptureOut,
    CollectionOut,
    FrameOut,
    Page,
    SessionInfo,
    TimesOut,
    camera_out,
    collection_key,
    collection_or_404,
    errors,
    frame_or_404,
    frame_out,
    parse_time,
    zone_name_of,
)
from web.deps import RuntimeDep
from web.params import CameraId, CollectionId, FrameId, JobId, Offset

router = APIRouter(prefix="/api", tags=["api"])

SWAGGER = "/static/vendor/swagger-ui-5.35.0"


# FastAPI's own Swagger page starts Swagger UI with an inline script, which the Content-Security-
# Policy refuses; api-docs.js starts it instead.
_DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pyLapse API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{SWAGGER}.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="{SWAGGER}-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI from the vendored copy (dashboards run on isolated LANs: no CDN)."""
    return HTMLResponse(_DOCS_PAGE)


@router.get("/session", response_model=SessionInfo)
def session_info(request: Request) -> SessionInfo:
    """The CSRF token for this session (send it as ``X-CSRF-Token`` with POST requests)."""
    guard = security.guard(request)
    return SessionInfo(
        csrf_token=security.csrf_token(request),
        authenticated=security.is_authenticated(request),
        login_required=guard.login_required(security.client_host(request), request.headers),
    )


@router.get("/cameras", response_model=list[CameraOut])
def cameras(runtime: RuntimeDep) -> list[CameraOut]:
    return [camera_out(runtime, cid) for cid in runtime.config.cameras]


@router.get("/cameras/{camera_id}", response_model=CameraOut, responses=errors(404))
def camera(camera_id: CameraId, runtime: RuntimeDep) -> CameraOut:
    return camera_out(runtime, camera_id)


@router.post(
    "/cameras/{camera_id}/grab", response_model=CaptureOut, responses=errors(403, 404, 502)
)
def grab(camera_id: CameraId, runtime: RuntimeDep) -> CaptureOut:
    """Capture one frame now (saved and indexed like a scheduled one)."""
    camera_out(runtime, camera_id)
    try:
        result = runtime.grab_now(camera_id)
    except GrabError as exc:
        raise HTTPException(502, str(exc)) from None
    return CaptureOut(
        camera_id=camera_id,
        frame_id=result.frame_id,
        name=result.path.name,
        time=result.time,
        size=result.size,
        width=result.width,
        height=result.height,
    )


@router.get("/collections", response_model=list[CollectionOut])
def collections(runtime: RuntimeDep) -> list[CollectionOut]:
    out = []
    for cid, coll in runtime.collections().items():
        key = collection_key(coll, cid)
        first, last = runtime.index.first(key), runtime.index.last(key)
        status = coll.folder_status()
        out.append(
            CollectionOut(
                id=cid,
                name=coll.name,
                path=str(getattr(coll, "collection_dir", "")),
                timezone=zone_name_of(coll, cid, runtime),
                status=status.state,
                problem=status.problem,
                count=runtime.index.count(key),
                first=frame_out(first) if first else None,
                last=frame_out(last) if last else None,
            )
        )
    return out


@router.get(
    "/collections/{collection_id}/frames",
    response_model=Page[FrameOut],
    responses=errors(404, 409, 422, e409="the collection's folder is missing (not mounted?)"),
)
def collection_frames(
    collection_id: CollectionId,
    runtime: RuntimeDep,
    start: Annotated[str | None, Query(description="ISO 8601 with offset")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with offset (exclusive)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
    flagged: Annotated[
        bool, Query(description="only frames whose time is flagged (conflict, implausible)")
    ] = False,
) -> Page[FrameOut]:
    coll = collection_or_404(runtime, collection_id)
    status = coll.folder_status()
    if status.missing:  # its frames cannot be served: say so once, not with 404 per image
        raise HTTPException(409, f"collection {collection_id!r}: {status.problem}")
    key = collection_key(coll, collection_id)
    lo, hi = parse_time(start, "start"), parse_time(end, "end")
    if flagged:
        frames = runtime.index.flagged(key, lo, hi, limit=limit, offset=offset)
        total = runtime.index.count_flagged(key, lo, hi)
    else:
        frames = runtime.index.frames(key, lo, hi, limit=limit, offset=offset)
        total = runtime.index.count(key, lo, hi)
    return Page[FrameOut](
        total=total, limit=limit, offset=offset, items=[frame_out(f) for f in frames]
    )


@router.get(
    "/collections/{collection_id}/times", response_model=TimesOut, responses=errors(404)
)
def collection_times(collection_id: CollectionId, runtime: RuntimeDep) -> TimesOut:
    """Frames per time status, per wall-clock source and per offset source."""
    from pylapse.index.timereport import TimeCounts

    coll = collection_or_404(runtime, collection_id)
    counts = TimeCounts.of(runtime.index.time_counts(collection_key(coll, collection_id)))
    return TimesOut(**counts.as_json(), flagged=counts.flagged)


@router.get("/frames/{frame_id}", response_model=FrameOut, responses=errors(404, 422))
def frame(frame_id: FrameId, runtime: RuntimeDep) -> FrameOut:
    return frame_out(frame_or_404(runtime, frame_id))


@router.get("/frames/{frame_id}/image", response_class=FileResponse, responses=IMAGE_RESPONSES)
def frame_image(frame_id: FrameId, runtime: RuntimeDep) -> FileResponse:
    """The frame's file as stored (found through the index by id), only while it resolves
    inside the storage roots."""
    found = frame_or_404(runtime, frame_id)
    roots = files.frame_roots(runtime, found)
    handle = files.open_or_http_error(found.path, roots, f"frame {frame_id}")
    media = IMAGE_TYPES.get(found.path.suffix.lower(), "application/octet-stream")
    return files.OpenFileResponse(
        handle, found.path, media_type=media, headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get("/frames/{frame_id}/thumb", response_class=FileResponse, responses=IMAGE_RESPONSES)
def frame_thumb(
    frame_id: FrameId,
    runtime: RuntimeDep,
    size: Annotated[
        Literal["thumb", "preview"],
        Query(
            description='"thumb": 400 px wide (grids, day pages); "preview": 960 px wide '
            "(the day player)",
            examples=["thumb"],
        ),
    ] = "thumb",
) -> FileResponse:
    """A small JPEG of the frame (``size``: 400 or 960 px wide, the height in proportion, never
    enlarged), made once (ahead of time after capture and scans, else on this request) and
    cached in the data folder; served only while the frame's file resolves inside the storage
    roots."""
    found = frame_or_404(runtime, frame_id)
    cache = runtime.data_path / "thumbs"
    try:
        path = thumbs.thumbnail(cache, found, roots=files.frame_roots(runtime, found), size=size)
    except storage.PathNotAllowed:
        raise HTTPException(403, f"frame {frame_id}: {FILE_FORBIDDEN}; not served") from None
    except thumbs.ThumbnailError as exc:
        raise HTTPException(404, str(exc)) from None
    handle = files.open_or_http_error(path, [cache], f"the thumbnail of frame {frame_id}")
    return files.OpenFileResponse(
        handle, path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=604800"}
    )


@router.get("/jobs", response_model=Page[dict[str, Any]], responses=errors(422, 503))
def jobs(
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    offset: Offset = 0,
    kind: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[dict[str, Any]]:
    runner = _runner(runtime)
    items = [j.to_dict() for j in runner.list(limit, offset, kind=kind)]
    return Page[dict[str, Any]](
        total=runner.count(kind=kind), limit=limit, offset=offset, items=items
    )


@router.get("/jobs/{job_id}", responses=errors(404, 422, 503))
def job(job_id: JobId, runtime: RuntimeDep) -> dict[str, Any]:
    try:
        return _runner(runtime).get(job_id).to_dict()
    except JobNotFound:
        raise HTTPException(404, f"no job {job_id}") from None


@router.post(
    "/jobs/{job_id}/cancel",
    responses=errors(403, 404, 409, 422, 503, e409="the job has already finished"),
)
def cancel_job(job_id: JobId, runtime: RuntimeDep) -> dict[str, Any]:
    runner = _runner(runtime)
    try:
        record = runner.get(job_id)
    except JobNotFound:
        raise HTTPException(404, f"no job {job_id}") from None
    if record.state.finished:
        raise HTTPException(409, f"job {job_id} has already finished ({record.state})")
    runner.cancel(job_id)
    return runner.get(job_id).to_dict()


def _runner(runtime: Any) -> Any:
    if runtime.jobs is None:
        raise HTTPException(503, "the job runner is not available")
    return runtime.jobs
