"""SSE: the stream tells pages when a job changed and when a capture happened."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest

from pylapse.progress import Progress
from web.routes.events import event_stream


async def _collect(runtime, act, want: set[str], timeout: float = 15.0) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    stop = asyncio.Event()

    async def disconnected() -> bool:
        return stop.is_set()

    async def read() -> None:
        async for event in event_stream(runtime, disconnected):
            events.append(event)
            if want <= {e["event"] for e in events}:
                stop.set()

    reader = asyncio.create_task(read())
    await asyncio.sleep(0.3)  # the stream has subscribed
    await asyncio.to_thread(act)
    try:
        await asyncio.wait_for(reader, timeout)
    except TimeoutError:
        stop.set()
        await reader
    return events


def test_job_updates_are_pushed(client, runtime) -> None:
    gate = threading.Event()
    ids = []

    def act() -> None:
        def work(progress, cancel):
            progress(Progress("process", 1, 2))
            gate.wait(5)
            return {}

        ids.append(runtime.jobs.submit("export", "pushed", work))
        gate.set()
        runtime.jobs.wait(ids[0], 10)

    events = asyncio.run(_collect(runtime, act, {"job"}))
    job_events = [json.loads(e["data"]) for e in events if e["event"] == "job"]
    assert job_events and job_events[0]["id"] == ids[0] and job_events[0]["title"] == "pushed"
    assert any(e["event"] == f"job-{ids[0]}" for e in events)


@pytest.mark.slow
def test_captures_are_pushed(client, runtime) -> None:
    def two() -> None:
        runtime.grab_now("demo")
        runtime.grab_now("demo")

    events = asyncio.run(_collect(runtime, two, {"capture", "capture-demo"}))
    captures = [json.loads(e["data"]) for e in events if e["event"] == "capture"]
    assert captures[0] == {"camera": "demo"}
    assert any(e["event"] == "capture-demo" for e in events)


def test_the_stream_ends_when_the_browser_goes_away(client, runtime) -> None:
    async def run() -> int:
        async def gone() -> bool:
            return True

        return len([e async for e in event_stream(runtime, gone)])

    assert asyncio.run(run()) == 0
    assert runtime.jobs._subscribers == []  # unsubscribed
