"""Helpers shared by the collections, exports and videos pages (not a router itself).

The job card follows the contact-app pattern: ``partials/_media_job.html`` is one root element
with ``hx-target="this"``; while the job runs it carries the SSE/poll trigger and re-fetches
itself from ``<base>/<id>``, once it has finished it carries none, so updates stop by
themselves. Start (POST), status (GET) and cancel (POST) all return that same partial.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pylapse import storage, timeutil
from pylapse.jobs.record import JobNotFound, JobQueueFull, JobRecord, StepsSpec
from pylapse.progress import Progress
from web.deps import RuntimeDep, TemplatesDep
from web.params import JobId

if TYPE_CHECKING:
    from pylapse.jobs.runner import JobRunner

PAGE_SIZES = (10, 25, 50, 100)
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")
_SLUG = re.compile(r"[^a-z0-9]+")


class FieldError(ValueError):
    """A form value that is not accepted; ``field`` names the input it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def render(templates: Any, request: Request, name: str, context: dict[str, Any], **kw: Any):
    return templates.TemplateResponse(request, name, context, **kw)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


# -- paths ---------------------------------------------------------------------------------------


def confine(config: Any, raw: str | Path, field: str) -> Path:
    """``raw`` resolved inside the storage roots, or a :class:`FieldError` naming ``field``."""
    try:
        return storage.confine(raw, config.root_paths)
    except storage.PathNotAllowed as exc:
        raise FieldError(field, str(exc)) from None


def file_stem(value: str, field: str) -> str:
    value = value.strip()
    if not _STEM.match(value) or ".." in value:
        raise FieldError(
            field,
            f"{value!r} is not a plain file name: letters, digits, space, '.', '_' and '-' only, "
            "starting with a letter or digit",
        )
    return value


def slug(text: str, taken: set[str], fallback: str = "item") -> str:
    """A short id made from ``text`` that is not in ``taken``."""
    base = _SLUG.sub("-", text.lower()).strip("-")[:40] or fallback
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


# -- collections ---------------------------------------------------------------------------------


def collection_or_404(runtime: Any, collection_id: str) -> Any:
    collections = runtime.collections()
    if collection_id not in collections:
        raise HTTPException(404, f"no collection {collection_id!r}")
    return collections[collection_id]


def start_scan(runtime: Any, collection_id: str) -> int:
    """Index a collection's folder as a job (``kind="scan"``); returns the job id."""
    coll = collection_or_404(runtime, collection_id)
    index = runtime.index

    def scan(progress: Any, cancel: threading.Event) -> dict[str, Any]:
        progress(Progress("scan", 0, 0, message=f"listing {coll.collection_dir}"))
        result = index.scan(
            coll.key, coll.collection_dir, coll.timeline, progress=progress, cancel=cancel,
            **coll.scan_options(),
        )
        return {"added": result.added, "changed": result.changed, "deleted": result.deleted,
                "skipped": result.skipped, "total": result.total,
                # the card lists problems: links left out of the index come first
                "problems": [t for t in [result.outside_message] if t] + result.problems[:5],
                "links_outside": result.links_outside,
                # a changed zone re-reads the frames whose offset came from it (issue 14)
                "zone_change": result.zone_change, "reresolved": result.reresolved,
                "reresolved_examples": list(result.reresolved_examples),
                "outside_paths": list(result.outside_paths)}  # fmt: skip

    title = f"Index {coll.name}"
    return submit(runtime, "scan", title, scan, ("scan",), {"collection": collection_id})


def zone_name(collection: Any) -> str:
    zone = collection.zone
    return getattr(zone, "key", None) or str(zone)


# -- paging --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    per_page: int
    total: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def pager(total: int, page: int, per_page: int, sizes: tuple[int, ...] = PAGE_SIZES) -> Pager:
    if per_page not in sizes:
        raise HTTPException(422, f"per_page must be one of {', '.join(map(str, sizes))}")
    pages = max(1, -(-total // per_page))
    return Pager(min(max(1, page), pages), pages, per_page, total)


# -- jobs ----------------------------------------------------------------------------------------


def job_or_404(runtime: Any, job_id: int, kinds: tuple[str, ...]) -> JobRecord:
    if runtime.jobs is None:
        raise HTTPException(404, "jobs are not available")
    try:
        job = runtime.jobs.get(job_id)
    except JobNotFound:
        raise HTTPException(404, f"no job {job_id}") from None
    if job.kind not in kinds:
        raise HTTPException(404, f"job {job_id} is not a {' or '.join(kinds)} job")
    return job


def runner(runtime: Any) -> JobRunner:
    """The runtime's job runner; 409 when this pyLapse runs without one."""
    if runtime.jobs is None:
        raise HTTPException(409, "this pyLapse runs without a job runner")
    jobs: JobRunner = runtime.jobs
    return jobs


def queue(runtime: Any, start: Callable[[JobRunner], int]) -> int:
    """``start(runner)`` queues a job (a use case of :mod:`pylapse.tasks`, or :func:`submit`);
    409 when there is no runner, 503 when its queue is full, 422 for options it refuses."""
    jobs = runner(runtime)
    try:
        return start(jobs)
    except JobQueueFull:
        raise HTTPException(
            503, "the job queue is full; try again when a job has finished"
        ) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def submit(runtime: Any, kind: str, title: str, fn: Any, steps: StepsSpec, params: dict) -> int:
    """Queue a job with the steps it reports, in order (weighted by cost: see ``JobSteps``)."""
    return queue(runtime, lambda jobs: jobs.submit(kind, title, fn, steps=steps, params=params))


def job_response(
    request: Request, templates: Any, job: JobRecord, base: str, **extra: Any
) -> HTMLResponse:
    context = {"job": job, "job_base": base, **extra}
    response = render(templates, request, "partials/_media_job.html", context)
    if not job.active:
        # the page's summaries refresh once when a job they depend on has finished
        response.headers["HX-Trigger"] = f"{job.kind}-finished"
    return response


def started(request: Request, templates: Any, runtime: Any, job_id: int, base: str, page: str):
    """The answer to a form that started a job: its card for htmx, the page otherwise."""
    if is_htmx(request):
        job = runtime.jobs.get(job_id)
        return render(
            templates, request, "partials/_media_job.html", {"job": job, "job_base": base}
        )
    return RedirectResponse(page, status_code=303)


def add_job_routes(
    router: APIRouter,
    base: str,
    kinds: tuple[str, ...],
    extra: Callable[[Any, JobRecord], dict[str, Any]] | None = None,
) -> None:
    """``GET <base>/<id>`` (the card) and ``POST <base>/<id>/cancel`` for jobs of ``kinds``;
    ``extra(runtime, job)`` adds to the card's context (e.g. whether a video's file is there)."""

    def respond(request: Request, templates: Any, runtime: Any, job: JobRecord) -> HTMLResponse:
        more = extra(runtime, job) if extra is not None else {}
        return job_response(request, templates, job, base, **more)

    def card(job_id: JobId, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
        return respond(request, templates, runtime, job_or_404(runtime, job_id, kinds))

    def cancel(job_id: JobId, request: Request, runtime: RuntimeDep, templates: TemplatesDep):
        job_or_404(runtime, job_id, kinds)
        jobs = runner(runtime)
        jobs.cancel(job_id)
        return respond(request, templates, runtime, jobs.get(job_id))

    router.add_api_route(f"{base}/{{job_id}}", card, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(
        f"{base}/{{job_id}}/cancel", cancel, methods=["POST"], response_class=HTMLResponse
    )


def active_jobs(runtime: Any, kind: str, **params: Any) -> list[JobRecord]:
    if runtime.jobs is None:
        return []
    return [
        j
        for j in runtime.jobs.active()
        if j.kind == kind and all(j.params.get(k) == v for k, v in params.items())
    ]


def history(runtime: Any, kind: str, page: int, per_page: int) -> dict[str, Any]:
    if runtime.jobs is None:
        return {"jobs": [], "pager": pager(0, 1, per_page)}
    p = pager(runtime.jobs.count(kind=kind), page, per_page)
    return {"jobs": runtime.jobs.list(p.per_page, p.offset, kind=kind), "pager": p}


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def now_stamp(zone: Any = None) -> str:
    """A file-name-safe local time, e.g. ``2026-02-09_14-30-05``."""
    return timeutil.now(zone).strftime("%Y-%m-%d_%H-%M-%S")
