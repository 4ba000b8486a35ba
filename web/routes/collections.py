"""Collections: the list, a page per collection (totals, a month calendar of per-day counts, the
thumbnails of a chosen day with paging), creating a collection over a folder, rescanning it and
removing it.

Everything a page shows comes from the index's per-day counts and indexed time-range queries, so
a collection of millions of frames costs the same as one of a thousand: nothing here lists a
folder. The one count over all frames, how their times were found (frames per time status and
source, issue 14), is a card of its own loaded after the page; ``?flagged=1`` lists only the
frames whose time is flagged (conflict, implausible) with the reason. Scans run as jobs
(``kind="scan"``) with a live card, and so does scoring the frames that have no quality scores or
sky metrics yet (``kind="metrics"``, the "Score frames" button: :mod:`pylapse.tasks.metrics`);
the summary says how many frames are scored.

A collection whose folder is gone (deleted, renamed, a disk not mounted) is shown as missing,
naming the folder, instead of counts and thumbnails that cannot be served; its index rows stay
and the pages work again when the folder is back. Removing a collection forgets it (config and
index); its files are deleted only when asked for, after a preview of their number and size,
by a job (``kind="delete"``).
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pylapse import timeutil
from pylapse.config.base import ConfigError
from pylapse.config.models import CollectionConfig, Config
from pylapse.imaging import quality
from pylapse.tasks.metrics import backend_options, fill_metrics, region_for
from pylapse.tasks.removal import RemovalRefused
from web import player
from web.collection_calendar import calendar_context, year_context
from web.collection_frames import (
    DAY_PAGE_SIZES,
    day_context,
    day_of,
    flagged_context,
    frame_of,
    last_day,
)
from web.collection_removal import removed_message, render_removal_page
from web.collection_summary import OLDER_COUNTED, summary
from web.deps import ConfigEditorDep, RuntimeDep, TemplatesDep
from web.params import MAX_ID
from web.routes import _media as m
from web.routes import _removal

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

router = APIRouter(tags=["collections"], include_in_schema=False)

JOB_BASE = "/collections/jobs"
DATE_SOURCES = (
    ("auto", "File name, then EXIF, then file time"),
    ("filename", "File name only"),
    ("exif", "EXIF DateTimeOriginal only"),
    ("mtime", "File modification time"),
)

m.add_job_routes(router, JOB_BASE, ("scan", "delete", "metrics"))


# -- pages ---------------------------------------------------------------------------------------


def _list_context(runtime: Runtime) -> dict[str, Any]:
    rows = [summary(runtime, cid, coll) for cid, coll in runtime.collections().items()]
    return {"active": "collections", "page_title": "Collections", "collections": rows,
            "date_sources": DATE_SOURCES, "zones": timeutil.all_zones(),
            "roots": runtime.config.root_paths,
            "delete_jobs": m.active_jobs(runtime, "delete"), "job_base": JOB_BASE}  # fmt: skip


@router.get("/collections", response_class=HTMLResponse)
def collections(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    removed: Annotated[str, Query(max_length=200)] = "",
    files: Annotated[str, Query()] = "",
    job: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
):
    """The list; after a removal (``removed``, ``files``, ``job``) it says what became of it."""
    context = _list_context(runtime)
    context.update(values={"date_source": "auto"}, errors={})
    if removed:
        context["flash"] = removed_message(removed, files)
    if job is not None and runtime.jobs is not None:
        with contextlib.suppress(HTTPException):
            record = m.job_or_404(runtime, job, ("delete",))
            if all(j.id != record.id for j in context["delete_jobs"]):
                context["delete_jobs"] = [record, *context["delete_jobs"]]
    return m.render(templates, request, "collections.html", context)


@router.post("/collections", response_class=HTMLResponse)
def create_collection(
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    editor: ConfigEditorDep,
    name: Annotated[str, Form()] = "",
    path: Annotated[str, Form()] = "",
    timezone: Annotated[str, Form()] = "",
    date_source: Annotated[str, Form()] = "auto",
    filename_pattern: Annotated[str, Form()] = "",
):
    """Declare a collection over a folder inside the storage roots and start indexing it."""
    values = {"name": name, "path": path, "timezone": timezone, "date_source": date_source,
              "filename_pattern": filename_pattern}  # fmt: skip
    errors: dict[str, str] = {}
    created: list[str] = []

    def add(config: Config) -> None:
        if not name.strip():
            raise m.FieldError("name", "give the collection a name")
        if not path.strip():
            raise m.FieldError("path", "give the folder that holds the frames")
        folder = m.confine(config, path.strip(), "path")
        if not folder.is_dir():
            raise m.FieldError("path", f"{path!r} is not a folder inside the storage roots")
        coll_id = m.slug(name, {*config.collections, *config.cameras}, "collection")
        config.collections[coll_id] = CollectionConfig(
            name=name.strip(),
            path=str(folder),
            timezone=timezone.strip() or None,
            date_source=date_source,
            filename_pattern=filename_pattern.strip() or None,
        )
        created.append(coll_id)

    try:
        editor.apply(add)
    except m.FieldError as exc:
        errors[exc.field] = str(exc)
    except (ValueError, ConfigError) as exc:  # pydantic's ValidationError is a ValueError
        errors[_field_of(exc, values)] = _message(exc)
    if errors:
        context = _list_context(runtime)
        context.update(values=values, errors=errors)
        return m.render(templates, request, "collections.html", context, status_code=422)
    m.start_scan(runtime, created[0])
    return RedirectResponse(f"/collections/{created[0]}", status_code=303)


def _field_of(exc: Exception, values: dict[str, Any]) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        for e in errors():
            if e.get("loc") and str(e["loc"][0]) in values:
                return str(e["loc"][0])
    return "form"


def _message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in errors())
    return str(exc)


@router.get("/collections/{collection_id}", response_class=HTMLResponse)
def collection_page(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    month: Annotated[str | None, Query()] = None,
    day: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query()] = DAY_PAGE_SIZES[1],
    flagged: Annotated[bool, Query()] = False,
    view: Annotated[str, Query(pattern="^(month|year)$")] = "month",
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
):
    coll = m.collection_or_404(runtime, collection_id)
    info = summary(runtime, collection_id, coll)
    if flagged:
        return m.render(templates, request, "collection.html", {
            "active": "collections", "page_title": f"{coll.name}: flagged times", "c": info,
            "presets": sorted(coll.presets), "job_base": JOB_BASE,
            "scan_jobs": _jobs(runtime, collection_id),
            **flagged_context(runtime, collection_id, coll, page),
        })  # fmt: skip
    chosen = (
        day_of(day) if day else (info.last.time.astimezone(coll.zone).date() if info.last else None)
    )
    context: dict[str, Any] = {
        "active": "collections",
        "page_title": coll.name,
        "c": info,
        "presets": sorted(coll.presets),
        "scan_jobs": _jobs(runtime, collection_id),
        "job_base": JOB_BASE,
    }
    if not info.missing:
        if view == "year":
            context.update(year_context(runtime, collection_id, coll, year))
        else:
            context.update(calendar_context(runtime, collection_id, coll, month, chosen))
    context.update(day_context(runtime, collection_id, coll, chosen, page, per_page))
    return m.render(templates, request, "collection.html", context)


@router.get("/collections/{collection_id}/times", response_class=HTMLResponse)
def times_partial(
    collection_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep
):
    """How the collection's frame times were found: frames per status and per source."""
    from pylapse.index.timereport import TimeCounts

    coll = m.collection_or_404(runtime, collection_id)
    counts = TimeCounts.of(runtime.index.time_counts(coll.key))
    context = {"collection_id": collection_id, "times": counts}
    return m.render(templates, request, "partials/_frame_times.html", context)


@router.get("/collections/{collection_id}/summary", response_class=HTMLResponse)
def summary_partial(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    polling: Annotated[bool, Query()] = False,
):
    coll = m.collection_or_404(runtime, collection_id)
    c = summary(runtime, collection_id, coll)
    response = m.render(templates, request, "partials/_collection_summary.html", {"c": c})
    if polling and not c.busy:
        # the page polled because it was drawn mid-job and may have missed the job's event: the
        # calendar, the frame times and the day's grid, drawn mid-job too, refresh with it
        response.headers["HX-Trigger"] = "collection-settled"
    return response


@router.get("/collections/{collection_id}/calendar", response_class=HTMLResponse)
def calendar_partial(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    month: Annotated[str | None, Query()] = None,
    day: Annotated[str | None, Query()] = None,
    view: Annotated[str, Query(pattern="^(month|year)$")] = "month",
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
):
    """The month calendar (``view=month``) or the year of small months (``view=year``)."""
    coll = m.collection_or_404(runtime, collection_id)
    if view == "year":
        context = year_context(runtime, collection_id, coll, year)
    else:
        chosen = day_of(day) if day else None
        context = calendar_context(runtime, collection_id, coll, month, chosen)
    return m.render(templates, request, "partials/_calendar.html", context)


# -- the day player ------------------------------------------------------------------------------


@router.get("/collections/{collection_id}/play", response_class=HTMLResponse)
def player_page(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    day: Annotated[str | None, Query()] = None,
    t: Annotated[str | None, Query(max_length=8, pattern=r"^\d{1,2}(:\d{2}){0,2}$")] = None,
    frame: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    fps: Annotated[int, Query(ge=1, le=60)] = 10,
):
    """The day player: a day's frames played in place with a timeline to scrub. ``day`` and
    ``t`` (local wall clock, ``HH:MM:SS``) or ``frame`` (an id) say where it starts; without
    them, the last frame's day from its start."""
    coll = m.collection_or_404(runtime, collection_id)
    info = summary(runtime, collection_id, coll)
    if frame is not None:
        found = frame_of(runtime, coll, frame)
        local = found.time.astimezone(coll.zone)
        chosen: date | None = local.date()
        t = local.strftime("%H:%M:%S")
    else:
        chosen = day_of(day) if day else last_day(runtime, coll)
    context = {
        "active": "collections",
        "page_title": f"{coll.name}: {chosen.isoformat() if chosen else 'no frames'}",
        "c": info,
        "day": chosen,
        "start_time": t or "",
        "fps": fps,
        "speeds": (1, 2, 5, 10, 15, 20, 25, 30, 60),
    }
    return m.render(templates, request, "player.html", context)


@router.get("/collections/{collection_id}/frames.json")
def day_frames_json(
    collection_id: str,
    runtime: RuntimeDep,
    day: Annotated[str, Query()],
) -> dict[str, Any]:
    """A day's frames for the player as parallel arrays (``ids``, ``t`` UTC seconds, ``offset``
    the camera zone's UTC offset at each frame, ``luma``, ``bytes``, ``width``, ``height``),
    ``flags`` (frame index -> time status and reason, for flagged times), ``gaps``, ``night``
    and ``twilight`` spans (UTC seconds), and the previous/next days that have frames."""
    coll = m.collection_or_404(runtime, collection_id)
    status = coll.folder_status()
    if status.missing:
        raise HTTPException(409, f"collection {collection_id!r}: {status.problem}")
    found = player.day_frames(runtime, collection_id, coll, day_of(day), m.zone_name(coll))
    return found.as_json()


@router.get("/collections/{collection_id}/day", response_class=HTMLResponse)
def day_partial(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    day: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query()] = DAY_PAGE_SIZES[1],
):
    """The thumbnails of one day (default: the last frame's), a page at a time."""
    coll = m.collection_or_404(runtime, collection_id)
    chosen = day_of(day) if day else last_day(runtime, coll)
    context = day_context(runtime, collection_id, coll, chosen, page, per_page)
    return m.render(templates, request, "partials/_day_grid.html", context)


@router.post("/collections/{collection_id}/rescan", response_class=HTMLResponse)
def rescan(collection_id: str, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
    """Bring the index up to date with the folder (incremental: unchanged folders are skipped)."""
    m.collection_or_404(runtime, collection_id)
    running = m.active_jobs(runtime, "scan", collection=collection_id)
    job_id = running[0].id if running else m.start_scan(runtime, collection_id)
    return m.started(request, templates, runtime, job_id, JOB_BASE, f"/collections/{collection_id}")


def _jobs(runtime: Runtime, collection_id: str) -> list[Any]:
    """The collection's running scan and scoring jobs, for their live cards."""
    return [
        *m.active_jobs(runtime, "scan", collection=collection_id),
        *m.active_jobs(runtime, "metrics", collection=collection_id),
    ]


def start_metrics(runtime: Runtime, collection_id: str, rescore_old: bool = False) -> int:
    """Score the collection's frames that lack quality scores or sky metrics, as a job
    (``kind="metrics"``); returns its id. Resumable: a cancelled run keeps what it wrote.
    ``rescore_old``: also those an older method scored (``pylapse metrics --rescore-old``)."""
    coll = m.collection_or_404(runtime, collection_id)
    index, key = runtime.index, coll.key
    region = region_for(runtime.config, collection_id)
    backend = backend_options(runtime.config)  # on Celery workers when the config says so

    def score(progress: Any, cancel: Any) -> dict[str, Any]:
        result = fill_metrics(
            index, key, progress, cancel, region=region, rescore_old=rescore_old, **backend
        )
        older = index.count_old_scores(key, quality.VERSION, OLDER_COUNTED)
        return {"scored": result.scored, "linked": result.linked, "failed": result.failed,
                "seconds": round(result.seconds, 1), "left": index.count_unscored(key),
                "older": older, "older_more": older >= OLDER_COUNTED,
                "total": index.count(key)}  # fmt: skip

    return m.submit(
        runtime, "metrics", f"Score {coll.name}", score, ("metrics",),
        {"collection": collection_id},
    )  # fmt: skip


@router.post("/collections/{collection_id}/metrics", response_class=HTMLResponse)
def score_frames(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    rescore_old: Annotated[bool, Form()] = False,
):
    """Start scoring the frames not scored yet, and with ``rescore_old`` those an older method
    scored (or show the run already going)."""
    m.collection_or_404(runtime, collection_id)
    running = m.active_jobs(runtime, "metrics", collection=collection_id)
    job_id = running[0].id if running else start_metrics(runtime, collection_id, rescore_old)
    return m.started(request, templates, runtime, job_id, JOB_BASE, f"/collections/{collection_id}")


# -- removing ------------------------------------------------------------------------------------


@router.get("/collections/{collection_id}/remove", response_class=HTMLResponse)
def removal_page(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    delete_files: Annotated[bool, Query()] = False,
):
    """What removing the collection does; with ``delete_files`` the number and size of the
    frame files that deleting them would delete, and the form that confirms it."""
    coll = m.collection_or_404(runtime, collection_id)
    return render_removal_page(request, runtime, templates, collection_id, coll, delete_files)


@router.post("/collections/{collection_id}/remove", response_class=HTMLResponse)
def remove(
    collection_id: str,
    request: Request,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    editor: ConfigEditorDep,
    files: Annotated[str, Form()] = "keep",
    remove_presets: Annotated[str, Form()] = "",
    expect_files: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
):
    """Remove the collection: from the config and the index (``files=keep``, the default), or
    also delete its frame files (``files=delete``, with ``confirm`` and the previewed count)."""
    coll = m.collection_or_404(runtime, collection_id)
    if files not in ("keep", "delete"):
        raise HTTPException(422, f"files must be 'keep' or 'delete', not {files!r}")
    delete = files == "delete"
    with_presets = remove_presets in ("on", "1", "true", "yes")
    values = {"remove_presets": with_presets, "confirm": bool(confirm)}
    plan = _removal.plan(runtime, collection_id, coll, delete)
    expected = int(expect_files) if expect_files.strip().isdigit() else None
    refused = _removal.refusal(
        runtime, plan, remove_presets=with_presets, delete_files=delete, expect_files=expected
    )
    error = refused.message if refused is not None else None
    if error is None and delete and not confirm:
        assert plan.preview is not None
        error = f"tick the box to confirm that the {plan.preview.files:,} files are deleted"
    if error is None:
        try:
            done = _removal.perform(runtime, editor, collection_id, coll,
                                    remove_presets=with_presets, delete_files=delete)  # fmt: skip
        except (RemovalRefused, ConfigError, OSError) as exc:
            error = _removal.removal_error(exc)
    if error is not None:
        return render_removal_page(
            request, runtime, templates, collection_id, coll, delete,
            plan=plan, error=error, values=values, status_code=422,
        )  # fmt: skip
    outcome = "deleting" if done.job_id else ("not-deleted" if delete else "kept")
    query = {"removed": coll.name, "files": outcome}
    if done.job_id:
        query["job"] = str(done.job_id)
    return RedirectResponse(f"/collections?{urlencode(query)}", status_code=303)
