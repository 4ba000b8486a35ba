"""Server-sent events at ``/events``: which live regions changed, so pages re-fetch just those.

The events and when they come are described in :mod:`web.live`: one stream per tab, at most
one event per region a second, only for regions whose content changed (``capture`` with the
cameras that captured, ``capture-<camera>``, ``upcoming``, ``job`` and ``job-<id>``; data JSON;
``<camera>`` is the id made safe for HTML, see ``domid``).

Pages listen with htmx's SSE extension (``hx-trigger="sse:capture"``) and re-fetch their
partial; the events carry no HTML, so a partial is rendered only where someone is looking.
"""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from web import live
from web.deps import RuntimeDep
from web.templating import domid

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

router = APIRouter(tags=["events"])

TICK = 0.25  # seconds between looks at the job queue
PERIOD = 4  # ticks between looks at the capture log and the schedule (1 s); a region's events
# are at least this many ticks apart


async def event_stream(
    runtime: Runtime, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[dict[str, str]]:
    """The events for one browser tab, until it goes away."""
    runner = runtime.jobs
    jobs = runner.subscribe() if runner is not None else None
    last = await run_in_threadpool(live.latest_log_id, runtime)
    upcoming = await run_in_threadpool(live.upcoming_version, runtime)
    changes = live.Coalescer(PERIOD)
    tick = 0
    try:
        while not await disconnected():
            while jobs is not None:
                try:
                    record = jobs.get_nowait()
                except queue.Empty:
                    break
                data = record.to_dict()
                changes.mark("job", data)
                changes.mark(f"job-{record.id}", data)
            tick += 1
            if tick % PERIOD == 0:
                last, cameras = await run_in_threadpool(live.capture_changes, runtime, last)
                changes.mark_cameras(cameras, domid)
                version = await run_in_threadpool(live.upcoming_version, runtime)
                if version != upcoming:
                    upcoming = version
                    changes.mark("upcoming", {})
            for name, data in changes.due(tick):
                yield {"event": name, "data": json.dumps(data)}
            await asyncio.sleep(TICK)
    finally:
        if runner is not None and jobs is not None:
            runner.unsubscribe(jobs)


@router.get("/events", include_in_schema=False)
async def events(request: Request, runtime: RuntimeDep) -> EventSourceResponse:
    return EventSourceResponse(
        event_stream(runtime, request.is_disconnected),
        ping=15,
        headers={"Cache-Control": "no-store"},
    )
