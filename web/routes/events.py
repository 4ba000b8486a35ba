"""Server-sent events at ``/events``: what changed, so pages refresh just the affected partial.

Events (the data is JSON):

* ``job`` and ``job-<id>``: a job's new record (state, step, progress), at most about once a
  second per job and at once on every state change (throttled by the JobRunner);
* ``capture`` and ``capture-<camera>``: a capture attempt finished (a new capture-log entry),
  with its camera id (``<camera>`` is the id made safe for HTML, see ``domid``).

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
from web.templating import domid

router = APIRouter(tags=["events"])

TICK = 0.25  # seconds between looks at the job queue
CAPTURE_EVERY = 4  # ticks between looks at the capture log (1 s)


def _latest_log_id(runtime: Any) -> int:
    entries = runtime.health.log(limit=1)
    return entries[0].id if entries else 0


def _new_captures(runtime: Any, after: int) -> tuple[int, list[str]]:
    """(newest log id, ids of the cameras with log entries after ``after``, oldest first)."""
    entries = [e for e in runtime.health.log(limit=200) if e.id > after]
    if not entries:
        return after, []
    cameras = list(dict.fromkeys(e.camera_id for e in reversed(entries)))
    return max(e.id for e in entries), cameras


async def event_stream(
    runtime: Any, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[dict[str, str]]:
    """The events for one browser tab, until it goes away."""
    jobs = runtime.jobs.subscribe() if runtime.jobs is not None else None
    last = await run_in_threadpool(_latest_log_id, runtime)
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
                last, cameras = await run_in_threadpool(_new_captures, runtime, last)
                for camera_id in cameras:
                    data = json.dumps({"camera": camera_id})
                    yield {"event": "capture", "data": data}
                    yield {"event": f"capture-{domid(camera_id)}", "data": data}
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
