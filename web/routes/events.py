"""Server-sent events at ``/events``: what changed, so pages refresh just the affected partial.

Events (the data is JSON):

* ``job`` and ``job-<id>``: a job's new record (state, step, progress), at most about once a
  second per job and at once on every state change (throttled by the JobRunner);
* ``capture``: a capture attempt finished (new entry in the capture log), with its camera id.

Pages listen with htmx's SSE extension (``hx-trigger="sse:capture"``) and re-fetch their
partial; the events carry no HTML, so a partial is rendered only where someone is looking.
"""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from web.deps import RuntimeDep

router = APIRouter(tags=["events"])

TICK = 0.25  # seconds between looks at the job queue
CAPTURE_EVERY = 4  # ticks between looks at the capture log (1 s)


def _latest_log(runtime: Any) -> tuple[int, str] | None:
    entries = runtime.health.log(limit=1)
    return (entries[0].id, entries[0].camera_id) if entries else None


async def event_stream(
    runtime: Any, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[dict[str, str]]:
    """The events for one browser tab, until it goes away."""
    jobs = runtime.jobs.subscribe() if runtime.jobs is not None else None
    last = await run_in_threadpool(_latest_log, runtime)
    tick = 0
    try:
        while not await disconnected():
            while jobs is not None:
                try:
                    record = jobs.get_nowait()
                except queue.Empty:
                    break
                data = json.dumps(record.to_dict())
                yield {"event": "job", "data": data}
                yield {"event": f"job-{record.id}", "data": data}
            tick += 1
            if tick % CAPTURE_EVERY == 0:
                latest = await run_in_threadpool(_latest_log, runtime)
                if latest is not None and latest != last:
                    last = latest
                    yield {"event": "capture", "data": json.dumps({"camera": latest[1]})}
            await asyncio.sleep(TICK)
    finally:
        if jobs is not None:
            runtime.jobs.unsubscribe(jobs)


@router.get("/events", include_in_schema=False)
async def events(request: Request, runtime: RuntimeDep) -> EventSourceResponse:
    return EventSourceResponse(
        event_stream(runtime, request.is_disconnected),
        ping=15,
        headers={"Cache-Control": "no-store"},
    )
