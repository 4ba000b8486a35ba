"""SSE: the stream tells pages when a job changed and when a capture happened, at most once a
second per region and only for regions that changed."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter

import httpx
import pytest

from pylapse import timeutil
from pylapse.progress import Progress
from web.routes import events as events_module
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
    assert captures[0] == {"cameras": ["demo"]}
    assert json.loads(next(e["data"] for e in events if e["event"] == "capture-demo")) == {
        "camera": "demo"
    }


def test_the_stream_ends_when_the_browser_goes_away(client, runtime) -> None:
    async def run() -> int:
        async def gone() -> bool:
            return True

        return len([e async for e in event_stream(runtime, gone)])

    assert asyncio.run(run()) == 0
    assert runtime.jobs._subscribers == []  # unsubscribed


CAMERAS = [f"cam{n:02d}" for n in range(20)]


def _captures_in(second: int) -> list[str]:
    """The simulation: all 20 cameras capture (each twice: a retry) in one second, 3 of them in
    the next, none in the third, and so on."""
    return [CAMERAS * 2, CAMERAS[:3], []][second % 3]


def test_twenty_cameras_at_one_second_make_one_event_per_changed_region_a_second(
    runtime, monkeypatch
) -> None:
    """20 cameras capturing every second, fed into the capture log as the scheduler does, and
    one stream read the way a tab reads it. The stream's own tick stands in for the clock (it
    sleeps TICK between ticks, PERIOD ticks make a second; the loop asks ``disconnected`` once a
    tick), so what is counted is exact, not a race with a timer."""
    monkeypatch.setattr(events_module, "TICK", 0)  # the name the stream sleeps on
    period = events_module.PERIOD
    seconds = 9
    ticks = 0
    captured: dict[int, list[str]] = {}  # second -> cameras whose entries were written

    async def disconnected() -> bool:
        nonlocal ticks
        ticks += 1
        if ticks % period == 1 and ticks // period < seconds:  # early in each second
            second = ticks // period
            captured[second] = _captures_in(second)
            for camera in captured[second]:
                runtime.health.record_failure(camera, timeutil.now(), "simulated capture")
        return ticks > period * (seconds + 1)

    sent: list[tuple[int, str, dict]] = []

    async def read() -> None:
        async for event in event_stream(runtime, disconnected):
            sent.append(((ticks - 1) // period, event["event"], json.loads(event["data"])))

    asyncio.run(read())
    per_second: dict[int, list[str]] = {}
    for second, name, _ in sent:
        per_second.setdefault(second, []).append(name)
    for second, names in per_second.items():
        # at most one event per region a second
        assert len(names) == len(set(names)), (second, names)
    # each capture event names exactly the cameras that captured since the one before
    capture_events = [(second, data["cameras"]) for second, name, data in sent if name == "capture"]
    assert [sorted(cams) for _, cams in capture_events] == [
        sorted(set(cams)) for _, cams in sorted(captured.items()) if cams
    ]
    # and only regions that changed: a camera's own event only when it captured; none in a
    # second without captures
    per_camera = [name for _, name, _ in sent if name.startswith("capture-")]
    assert len(per_camera) == sum(len(set(c)) for c in captured.values())
    quiet = [s for s, cams in captured.items() if not cams]
    assert quiet and all(
        not [n for n in per_second.get(s, []) if n.startswith("capture")] for s in quiet
    )
    # in a busy second: 1 event for the log and the cards + 1 per camera, never one per capture
    busiest = max(len(names) for names in per_second.values())
    assert busiest <= 1 + len(CAMERAS) + 1  # + "upcoming" if the schedule moved on


def test_job_events_are_coalesced_per_job_and_second(runtime, monkeypatch) -> None:
    monkeypatch.setattr(events_module, "TICK", 0.001)  # short, but lets the job threads run
    period = events_module.PERIOD
    ticks = 0
    gate = threading.Event()

    def work(progress, cancel):  # type: ignore[no-untyped-def]
        for n in range(200):
            progress(Progress("process", n, 200))
        gate.wait(10)
        return {}

    runtime.jobs.start()
    jobs = []
    done_at: list[int] = []
    give_up = time.monotonic() + 60  # only if the jobs never finish (the test then fails)

    async def disconnected() -> bool:
        nonlocal ticks
        ticks += 1
        if ticks == 2:
            jobs.extend(runtime.jobs.submit("export", f"job {n}", work) for n in range(3))
        if ticks == 6 * period:
            gate.set()
        if (
            not done_at
            and ticks > 6 * period
            and all(runtime.jobs.get(j).state == "done" for j in jobs)
        ):
            done_at.append(ticks)
        # two periods more: the final states are read from the queue and let out
        finished = bool(done_at) and ticks > done_at[0] + 2 * period
        return finished or time.monotonic() > give_up

    sent: list[tuple[int, str, dict]] = []

    async def read() -> None:
        async for event in event_stream(runtime, disconnected):
            sent.append((ticks, event["event"], json.loads(event["data"])))

    asyncio.run(read())
    for name in {"job", *(f"job-{j}" for j in jobs)}:
        times = [t for t, n, _ in sent if n == name]
        assert times, name
        assert all(b - a >= period for a, b in itertools.pairwise(times)), (name, times)
    # the last event of each job carries its final state
    for job_id in jobs:
        last = [data for _, n, data in sent if n == f"job-{job_id}"][-1]
        assert last["state"] == "done", last


@pytest.mark.slow
@pytest.mark.network
def test_a_real_tab_of_twenty_cameras_at_one_second_gets_one_event_per_region_a_second(
    tmp_path, free_port
) -> None:
    """The same over a socket: ``web_ui.py`` with 20 demo cameras capturing every second and
    one SSE client reading ``/events`` the way a browser does, counting per event name."""
    from tests.browser.helpers import serve, write_many_cameras

    watch = 8.0
    names: Counter[str] = Counter()
    cameras_named = 0
    with serve(write_many_cameras(tmp_path), free_port) as url:
        with httpx.stream("GET", url + "/events", timeout=30) as stream:
            started = time.monotonic()
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: ") and name:
                    names[name] += 1
                    if name == "capture":
                        data = json.loads(line[len("data: ") :])
                        cameras_named += len(data.get("cameras") or [data.get("camera")])
                if time.monotonic() - started > watch:
                    break
        elapsed = time.monotonic() - started
    print(
        f"\n20 cameras at 1 s, one SSE client, {elapsed:.1f} s: {sum(names.values()) / elapsed:.1f}"
        f" events/s, 'capture' {names['capture'] / elapsed:.1f}/s naming"
        f" {cameras_named / max(1, names['capture']):.1f} cameras each"
    )
    assert names["capture"] and cameras_named > names["capture"]  # coalesced, several at once
    # at most one event per region a second (+1 for each end of the window)
    assert all(count <= elapsed + 2 for count in names.values()), names
    # before: one "capture" event per camera that captured, ~20 a second
