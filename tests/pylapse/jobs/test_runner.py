"""JobRunner: queue, steps, throttled progress, cancel, failure, history, crash recovery."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from pylapse import db
from pylapse.jobs.record import JobNotFound, JobQueueFull, JobState
from pylapse.jobs.runner import _SCHEMA, JobRunner
from pylapse.progress import Cancelled, Progress

WAIT = 10.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / db.DB_NAME


@pytest.fixture
def runner(db_path: Path):
    jobs = JobRunner(db_path, workers=1, queue_size=4)
    jobs.start()
    yield jobs
    jobs.shutdown()


def test_a_job_runs_its_steps_and_stores_its_result(runner: JobRunner) -> None:
    def work(progress, cancel):
        for stage in ("select", "process", "encode"):
            for i in range(3):
                progress(Progress(stage, i + 1, 3, message=f"{stage} {i + 1}"))
        return {"frames": 3}

    job_id = runner.submit("export", "Export demo", work, params={"preset": "daily"})
    record = runner.wait(job_id, WAIT)
    assert record.state == JobState.DONE
    assert record.result == {"frames": 3}
    assert record.percent == 100.0
    assert record.step == "encode" and record.done == 3 and record.total == 3
    assert record.params == {"preset": "daily"}
    assert record.started is not None and record.finished is not None
    assert record.finished >= record.started >= record.created
    # the stored row says the same after the in-memory one is gone
    assert runner.list(10)[0].state == JobState.DONE
    assert runner.get(job_id).result == {"frames": 3}


def test_percent_weights_each_named_step_equally(runner: JobRunner) -> None:
    gate = threading.Event()
    seen = []

    def work(progress, cancel):
        progress(Progress("process", 5, 10))
        seen.append(runner.get(job_id).percent)
        gate.wait(WAIT)
        return {}

    job_id = runner.submit("export", "halfway", work)
    deadline = time.monotonic() + WAIT
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    runner.wait(job_id, WAIT)
    # step 2 of 3 at 50 %: (1 + 0.5) / 3
    assert seen == [pytest.approx(50.0)]


def test_progress_is_published_at_most_once_a_second_but_state_changes_always(
    runner: JobRunner,
) -> None:
    updates = runner.subscribe()

    def work(progress, cancel):
        for i in range(200):
            progress(Progress("process", i + 1, 200))
        return {}

    job_id = runner.submit("render", "burst", work, steps=("process",))
    runner.wait(job_id, WAIT)
    records = []
    while not updates.empty():
        records.append(updates.get_nowait())
    states = [r.state for r in records if r.id == job_id]
    assert states[0] == JobState.QUEUED
    assert JobState.RUNNING in states
    assert states[-1] == JobState.DONE
    # 200 reports in well under a second: only the first running report gets through
    progress_reports = [r for r in records if r.state == JobState.RUNNING]
    assert 1 <= len(progress_reports) <= 3


def test_cancel_a_running_job(runner: JobRunner) -> None:
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while not cancel.wait(0.01):
            progress(Progress("encode", 1, 100))
        raise Cancelled()

    job_id = runner.submit("render", "long", work)
    assert started.wait(WAIT)
    assert runner.cancel(job_id) is True
    record = runner.wait(job_id, WAIT)
    assert record.state == JobState.CANCELLED
    assert runner.cancel(job_id) is False  # already finished


def test_a_job_that_returns_after_cancel_counts_as_cancelled(runner: JobRunner) -> None:
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        cancel.wait(WAIT)
        return {"partial": True}

    job_id = runner.submit("render", "polite", work)
    assert started.wait(WAIT)
    runner.cancel(job_id)
    assert runner.wait(job_id, WAIT).state == JobState.CANCELLED


def test_cancel_a_queued_job_never_runs_it(runner: JobRunner) -> None:
    gate = threading.Event()
    ran = []
    blocker = runner.submit("render", "blocker", lambda p, c: gate.wait(WAIT) and {})
    queued = runner.submit("render", "queued", lambda p, c: ran.append(1) or {})
    assert runner.get(queued).state == JobState.QUEUED
    assert runner.cancel(queued)
    gate.set()
    runner.wait(blocker, WAIT)
    assert runner.get(queued).state == JobState.CANCELLED
    assert ran == []


def test_a_failing_job_records_the_error(runner: JobRunner) -> None:
    def work(progress, cancel):
        progress(Progress("select", 1, 2))
        raise ValueError("no frames between 2024-01-01 and 2024-01-02")

    job_id = runner.submit("export", "fails", work)
    record = runner.wait(job_id, WAIT)
    assert record.state == JobState.FAILED
    assert record.error == "ValueError: no frames between 2024-01-01 and 2024-01-02"


def test_the_queue_is_bounded(db_path: Path) -> None:
    runner = JobRunner(db_path, workers=1, queue_size=2)
    runner.start()
    gate = threading.Event()
    started = threading.Event()
    try:
        runner.submit("render", "running", lambda p, c: started.set() or (gate.wait(WAIT) and {}))
        assert started.wait(WAIT)  # the worker has taken it off the queue
        runner.submit("render", "waiting 1", lambda p, c: {})
        runner.submit("render", "waiting 2", lambda p, c: {})
        with pytest.raises(JobQueueFull, match="2 jobs are already waiting"):
            runner.submit("render", "one too many", lambda p, c: {})
    finally:
        gate.set()
        runner.shutdown()


def test_workers_run_jobs_in_parallel(db_path: Path) -> None:
    runner = JobRunner(db_path, workers=2, queue_size=4)
    runner.start()
    both = threading.Barrier(2, timeout=WAIT)
    try:
        ids = [runner.submit("export", f"job {i}", lambda p, c: both.wait() and {}) for i in (1, 2)]
        assert [runner.wait(i, WAIT).state for i in ids] == [JobState.DONE, JobState.DONE]
    finally:
        runner.shutdown()


def test_history_pages_newest_first_and_filters_by_kind(runner: JobRunner) -> None:
    ids = []
    for i in range(5):
        kind = "export" if i % 2 == 0 else "render"
        ids.append(runner.submit(kind, f"job {i}", lambda p, c: {}))
        runner.wait(ids[-1], WAIT)
    assert [r.id for r in runner.list(limit=2)] == [ids[4], ids[3]]
    assert [r.id for r in runner.list(limit=2, offset=2)] == [ids[2], ids[1]]
    assert runner.count() == 5
    assert runner.count(kind="render") == 2
    assert [r.title for r in runner.list(10, kind="render")] == ["job 3", "job 1"]
    with pytest.raises(JobNotFound):
        runner.get(999)


def test_jobs_left_running_by_a_crash_are_marked_interrupted(db_path: Path) -> None:
    first = JobRunner(db_path)
    first.start()
    done = first.submit("export", "finished", lambda p, c: {"ok": 1})
    first.wait(done, WAIT)
    first.shutdown()
    # Simulate a crash: rows left 'running' and 'queued' by a process that died.
    conn = db.connect(db_path)
    with conn:
        for state in ("running", "queued"):
            conn.execute(
                "INSERT INTO jobs (kind, title, state, steps, created) VALUES (?, ?, ?, ?, ?)",
                ("render", f"was {state}", state, '["encode"]', time.time()),
            )
    conn.close()

    second = JobRunner(db_path)
    second.start()
    try:
        records = {r.title: r for r in second.list(10)}
        assert records["was running"].state == JobState.INTERRUPTED
        assert "stopped while this job was running" in (records["was running"].error or "")
        assert records["was queued"].state == JobState.INTERRUPTED
        assert records["finished"].state == JobState.DONE
        assert records["finished"].result == {"ok": 1}
    finally:
        second.shutdown()


def test_shutdown_cancels_running_and_queued_jobs(db_path: Path) -> None:
    runner = JobRunner(db_path)
    runner.start()
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        cancel.wait(WAIT)
        raise Cancelled()

    running = runner.submit("render", "running", work)
    queued = runner.submit("render", "queued", lambda p, c: {})
    assert started.wait(WAIT)
    runner.shutdown(timeout=WAIT)
    conn = sqlite3.connect(db_path)
    states = dict(conn.execute("SELECT id, state FROM jobs").fetchall())
    conn.close()
    assert states == {running: "cancelled", queued: "cancelled"}


def test_history_is_pruned_to_max_history_at_start(db_path: Path) -> None:
    runner = JobRunner(db_path, max_history=3)
    runner.start()
    ids = [runner.submit("export", f"{i}", lambda p, c: {}) for i in range(3)]
    for i in ids:
        runner.wait(i, WAIT)
    more = [runner.submit("export", f"{i}", lambda p, c: {}) for i in range(3, 5)]
    for i in more:
        runner.wait(i, WAIT)
    runner.shutdown()
    runner = JobRunner(db_path, max_history=3)
    runner.start()
    try:
        assert [r.title for r in runner.list(10)] == ["4", "3", "2"]
    finally:
        runner.shutdown()


def test_a_late_progress_report_does_not_revive_a_finished_job(runner: JobRunner) -> None:
    saved = {}

    def work(progress, cancel):
        saved["progress"] = progress
        return {}

    job_id = runner.submit("export", "late", work)
    runner.wait(job_id, WAIT)
    saved["progress"](Progress("encode", 1, 2))
    assert runner.get(job_id).state == JobState.DONE
    assert runner.active() == []


def test_to_dict_is_json_ready(runner: JobRunner) -> None:
    import json

    job_id = runner.submit("export", "json", lambda p, c: {"path": Path("/x")})
    record = runner.wait(job_id, WAIT)
    data = json.loads(json.dumps(record.to_dict()))
    assert data["state"] == "done" and data["percent"] == 100.0
    assert data["result"] == {"path": "/x"}  # stored through JSON with str() for paths
    assert runner.get(job_id).to_dict()["result"] == {"path": "/x"}


# -- progress tells the truth (issue 10, item 6) ---------------------------------------------------


def _percents(db_path: Path, steps, reports) -> list[float]:  # type: ignore[no-untyped-def]
    """The percent of every record published while a job makes ``reports``."""
    runner = JobRunner(db_path, publish_interval=0)
    runner.start()
    updates = runner.subscribe(maxsize=1000)

    def work(progress, cancel):
        for report in reports:
            progress(report)
        return {}

    try:
        job_id = runner.submit("export", "reports", work, steps=steps)
        runner.wait(job_id, WAIT)
    finally:
        runner.shutdown()
    seen = []
    while not updates.empty():
        seen.append(updates.get_nowait())
    return [r.percent for r in seen if r.id == job_id]


def test_steps_can_be_weighted_by_their_cost(db_path: Path) -> None:
    reports = [Progress("select", 0, 1), Progress("select", 1, 1), Progress("process", 0, 100),
               Progress("process", 50, 100), Progress("process", 100, 100)]  # fmt: skip
    percents = _percents(db_path, {"select": 1, "process": 19}, reports)
    # queued, running, then each report; the work step starts at 5 %, not at 50 %
    assert percents == pytest.approx([0, 0, 0, 5, 5, 52.5, 100, 100])


def test_a_stage_that_is_not_a_declared_step_never_moves_the_percent(db_path: Path) -> None:
    reports = [Progress("select", 1, 1), Progress("palette", 9, 10), Progress("encode", 1, 2)]
    percents = _percents(db_path, ("select", "encode"), reports)
    assert percents == pytest.approx([0, 0, 50, 50, 75, 100])


def test_the_percent_never_goes_back_when_a_total_grows(db_path: Path) -> None:
    reports = [Progress("scan", 5, 10), Progress("scan", 6, 40), Progress("scan", 30, 40)]
    percents = _percents(db_path, ("scan",), reports)
    assert percents == pytest.approx([0, 0, 50, 50, 75, 100])


def test_steps_must_be_named_once_with_positive_weights(runner: JobRunner) -> None:
    with pytest.raises(ValueError, match="'select' is declared twice"):
        runner.submit("export", "dup", lambda p, c: {}, steps=("select", "select"))
    with pytest.raises(ValueError, match="weight of step 'select' must be a positive number"):
        runner.submit("export", "zero", lambda p, c: {}, steps={"select": 0, "process": 1})


def test_a_failed_job_keeps_the_percent_it_reached(runner: JobRunner) -> None:
    def work(progress, cancel):
        progress(Progress("process", 3, 4))
        raise OSError("disk full")

    job_id = runner.submit("export", "fails late", work, steps=("process",))
    record = runner.wait(job_id, WAIT)
    assert record.state == JobState.FAILED and record.percent == 75
    assert runner.list(1)[0].percent == 75  # as stored


def test_history_from_before_stored_percents_reads_done_as_100(db_path: Path) -> None:
    conn = db.connect(db_path)
    db.migrate(conn, "jobs", _SCHEMA[:1])  # the first version of the table
    with conn:
        conn.execute(
            "INSERT INTO jobs (kind, title, state, steps, created) VALUES (?, ?, ?, ?, ?)",
            ("export", "old", "done", '["select", "process"]', time.time()),
        )
    conn.close()
    runner = JobRunner(db_path)
    runner.start()
    try:
        assert runner.list(1)[0].percent == 100
    finally:
        runner.shutdown()


def test_finish_listeners_hear_every_end_once_and_cannot_harm_jobs(runner: JobRunner) -> None:
    heard: list[tuple[int, JobState, str | None]] = []

    def broken(record) -> None:
        raise RuntimeError("a listener's own bug")

    runner.add_finish_listener(broken)  # first: it must not keep the end from the others
    all_heard = threading.Event()

    def listen(record) -> None:
        heard.append((record.id, record.state, record.error))
        if len(heard) == 4:
            all_heard.set()

    remove = runner.add_finish_listener(listen)
    release = threading.Event()
    ok = runner.submit("render", "ok", lambda p, c: {"output": "v.mp4"})
    bad = runner.submit("export", "bad", lambda p, c: 1 / 0)
    held = runner.submit("render", "held", lambda p, c: release.wait(10) and None)
    waiting = runner.submit("render", "waiting", lambda p, c: None)
    assert runner.cancel(waiting)  # cancelled while queued
    release.set()
    for job in (ok, bad, held):
        runner.wait(job, timeout=10)
    assert runner.get(ok).state is JobState.DONE
    assert all_heard.wait(10)  # listeners are told after waiters wake
    assert sorted(heard) == sorted([
        (ok, JobState.DONE, None),
        (bad, JobState.FAILED, "ZeroDivisionError: division by zero"),
        (held, JobState.DONE, None),
        (waiting, JobState.CANCELLED, "cancelled before it started"),
    ])  # fmt: skip
    remove()
    after = runner.submit("render", "after", lambda p, c: None)
    runner.wait(after, timeout=10)
    runner.wait(runner.submit("render", "later", lambda p, c: None), timeout=10)
    assert len(heard) == 4  # one worker: "after" was told (or not) before "later" ran
