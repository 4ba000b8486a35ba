"""CaptureExecutor: runs get their scheduled fire time, a blocked run never starves the others,
and shutdown does not wait for a run that hangs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pylapse.capture.runpool import CaptureExecutor, fire_time, request_starting


def test_blocked_run_never_starves_others_and_fire_times_are_exact():
    executor = CaptureExecutor()
    sched = BackgroundScheduler(executors={"default": executor}, timezone=UTC)
    release = threading.Event()
    seen: list[datetime] = []

    def hang() -> None:
        request_starting()
        release.wait(30)

    def tick() -> None:
        request_starting()
        seen.append(fire_time())

    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    sched.add_job(hang, "date", run_date=start, id="hang")
    sched.add_job(tick, IntervalTrigger(seconds=0.25, start_date=start), id="tick")
    sched.start()
    try:
        deadline = time.monotonic() + 10
        while len(seen) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sched.shutdown(wait=False)
    assert len(seen) >= 5
    # each run knows the slot it stands for, not the moment it happened to start
    assert [t - seen[0] for t in seen[:5]] == [timedelta(seconds=0.25 * i) for i in range(5)]
    assert executor.workers >= 2  # the hanging run kept one worker; others did the ticks
    assert executor.join(0.2) == 1  # still hanging: reported, not waited for
    release.set()
    assert executor.join(5) == 0
    assert fire_time() is None  # outside a run
