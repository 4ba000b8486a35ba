"""Progress tells the truth (issue 10, item 6): real export and render jobs, started from their
pages, report a percent that starts at 0, never goes back and ends at 100, with a label whose
counts are the stage's own; a job that failed shows why in its page's history."""

from __future__ import annotations

import html
import queue
import shutil
import threading
from datetime import datetime, timedelta

from media_support import BERLIN, demo_frames, wait_job, write_frames
from test_exports import create

from pylapse.jobs.record import JobRecord


def _drain(updates: queue.Queue[JobRecord], job_id: int) -> list[JobRecord]:
    records = []
    while not updates.empty():
        record = updates.get_nowait()
        if record.id == job_id:
            records.append(record)
    return records


def _check_sequence(records: list[JobRecord], work_stage: str, work_total: int) -> None:
    percents = [r.percent for r in records]
    assert percents[0] == 0 and records[0].state == "queued"
    assert percents == sorted(percents), f"percent went back: {percents}"
    assert percents[-1] == 100 and records[-1].state == "done"
    for r in records:
        assert r.step in r.steps, r
        assert 0 <= r.done <= max(r.total, 0) or r.total == 0, r
        if r.step == "select":
            assert r.total in (0, 1), r  # choosing frames has no frame counts of its own
        else:
            assert r.step == work_stage and r.total == work_total, r
    # the stage that does the work starts near 0 %, not at half of the bar
    first_work = next(r for r in records if r.step == work_stage)
    assert first_work.done == 0 and first_work.percent <= 5, first_work


def test_a_real_export_job_reports_honest_progress(post, runtime) -> None:
    demo_frames(runtime, count=12, step=timedelta(minutes=5))
    assert create(post, drawtimestamp="on").status_code == 303
    updates = runtime.jobs.subscribe(maxsize=10_000)
    try:
        response = post("/exports/quarter/run", headers={"HX-Request": "true"})
        job = wait_job(runtime, response.context["job"].id)
    finally:
        runtime.jobs.unsubscribe(updates)
    assert job.state == "done", job.error
    assert job.steps == ("select", "process")
    _check_sequence(_drain(updates, job.id), "process", 12)


def test_a_real_render_job_reports_honest_progress(post, runtime) -> None:
    folder = runtime.config.root_paths[0] / "exports" / "demo" / "day"
    paths = write_frames(folder, datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN), 10,
                         timedelta(minutes=1))  # fmt: skip
    for n, path in enumerate(paths, 1):
        shutil.move(path, folder / f"{n:06d}.jpg")
    updates = runtime.jobs.subscribe(maxsize=10_000)
    try:
        form = {"source": "export", "export_dir": str(folder), "codec": "h264", "timing": "fps",
                "fps": "5", "name": "clip", "pattern": "*.jpg"}  # fmt: skip
        assert post("/videos", form).status_code == 303
        job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    finally:
        runtime.jobs.unsubscribe(updates)
    assert job.state == "done", job.error
    assert job.steps == ("select", "encode")
    _check_sequence(_drain(updates, job.id), "encode", 10)


def _history_row(html: str, job_id: int) -> str:
    start = html.index(f'<td class="mono small">{job_id}</td>')
    return html[start : html.index("</tr>", start)]


def test_a_failed_export_shows_its_reason_in_the_history(client, post, runtime) -> None:
    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    folder.mkdir(parents=True, exist_ok=True)  # the demo camera's folder, with no frames yet
    assert create(post).status_code == 303
    response = post("/exports/quarter/run", headers={"HX-Request": "true"})
    job = wait_job(runtime, response.context["job"].id)
    assert job.state == "failed" and "the selection has no frames" in (job.error or "")
    row = _history_row(client.get("/exports/history").text, job.id)
    assert job.error.split(": ", 1)[1] in html.unescape(row)  # the reason, not only "failed"


def test_a_failed_render_shows_its_reason_in_the_history(client, post, runtime) -> None:
    folder = runtime.config.root_paths[0] / "exports" / "demo" / "empty"
    folder.mkdir(parents=True)  # no frame matches: the job fails when it lists them
    form = {"source": "export", "export_dir": str(folder), "codec": "h264", "timing": "fps",
            "fps": "5", "name": "nothing", "pattern": "*.jpg"}  # fmt: skip
    assert post("/videos", form).status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "failed" and job.error and ": " in job.error
    row = _history_row(client.get("/videos/history").text, job.id)
    assert job.error.split(": ", 1)[1] in html.unescape(row)  # the reason, not only "failed"


def test_an_interrupted_or_cancelled_job_says_so_in_the_history(client, runtime) -> None:
    release = threading.Event()
    job_id = runtime.jobs.submit("render", "Render slow", lambda p, c: release.wait(10) and {},
                                 steps=("select", "encode"), params={})  # fmt: skip
    runtime.jobs.cancel(job_id)
    release.set()
    job = wait_job(runtime, job_id)
    assert job.state == "cancelled" and job.error
    row = _history_row(client.get("/videos/history").text, job_id)
    assert job.error in html.unescape(row)
