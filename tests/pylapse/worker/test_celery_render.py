"""Renders whose day segments are encoded by real ``pylapse worker`` processes (Celery) against
the real Redis and RabbitMQ on 127.0.0.1, joined by stream copy in the process that queued them:
the same decoded frames as a render in process, one job whose progress adds up the days, a worker
killed mid-day whose day another worker encodes again, and cancel leaving no ffmpeg running and
no partial file.

The workers and the services come from the export tests' fixtures (Redis database 13, a queue
name per test).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from pylapse.config.models import Config
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.progress import Cancelled
from pylapse.tasks.render import queue_render
from pylapse.video.command import RenderOptions
from pylapse.video.distributed import encode_on_workers
from pylapse.video.manifest import read_manifest
from pylapse.video.render import render_frames
from pylapse.video.segments import render_segmented
from tests.pylapse.video.test_segments import BERLIN, Shot, shoot
from tests.pylapse.worker.test_celery_export import (
    Worker,
    _client,
    _config,
    _received,
    _succeeded,
    amqp_url,
    redis_url,
    workers,
)

__all__ = ["amqp_url", "redis_url", "workers"]  # the fixtures, shared with the export tests

pytestmark = [pytest.mark.slow, pytest.mark.network]

DRAFT = RenderOptions(fps=10, speed="draft")


def _frame_hashes(video: Path) -> list[str]:
    """The MD5 of each decoded frame, in order (ffmpeg's framemd5 muxer)."""
    from pylapse.ffmpeg import find_ffmpeg

    out = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(video), "-map", "0:v", "-f",
         "framemd5", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line[:1].isdigit()]


def _three_days(folder: Path) -> list[Shot]:
    days = [datetime(2026, 3, 27 + n) for n in range(3)]  # Berlin's DST change on the 29th
    return [s for d in days for s in shoot(folder / f"{d:%d}", d, 6 + d.day % 3)]


def _noisy_day(folder: Path, day: datetime, count: int) -> list[Shot]:
    """``count`` large noisy frames (slow to encode: a task runs long enough to be caught)."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    for i in range(count):
        when = day.replace(hour=6, minute=i % 60, second=i // 60, tzinfo=BERLIN)
        path = folder / f"cam-{when:%Y-%m-%dT%H-%M-%S}.jpg"
        Image.frombytes("RGB", (640, 360), os.urandom(640 * 360 * 3)).save(path, quality=85)
        offset = int(when.utcoffset().total_seconds())  # type: ignore[union-attr]
        shots.append(Shot(path, when.timestamp(), offset))
    return shots


def _celery_config(tmp_path: Path, broker: str, results: str, queue: str) -> Config:
    jobs = {"backend": "celery", "broker_url": broker, "result_backend": results, "queue": queue}
    return Config.model_validate({"data_dir": str(tmp_path / "data"),
                                  "storage_roots": [str(tmp_path)], "jobs": jobs})  # fmt: skip


def _render_on_two_workers(tmp_path: Path, broker: str, results: str, workers) -> None:
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    jobs = {"backend": "celery", "broker_url": broker, "result_backend": results, "queue": queue}
    config_file = _config(tmp_path, jobs)
    workers.append(Worker(config_file, queue, tmp_path / "w1.log", pool="solo", concurrency=1))
    workers.append(Worker(config_file, queue, tmp_path / "w2.log", pool="prefork", concurrency=1))
    shots = _three_days(tmp_path / "frames")
    here = render_segmented(shots, tmp_path / "here.mp4", DRAFT, tmp_path / "cache-here")
    whole = render_frames(shots, tmp_path / "whole.mp4", DRAFT)

    config = _celery_config(tmp_path, broker, results, queue)
    out = tmp_path / "videos" / "three-days.mp4"
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    records = runner.subscribe()
    try:
        job_id = queue_render(runner, config, title="Render three days", frames=lambda: shots,
                              output=out, options={"fps": 10, "speed": "draft"}, params={},
                              roots=[tmp_path])  # fmt: skip
        job = runner.wait(job_id, timeout=120)
    finally:
        runner.shutdown()
    assert job.state is JobState.DONE, job.error
    summary = job.result
    assert summary is not None and job.percent == 100.0
    assert summary["frames"] == whole.frames == len(shots)
    assert summary["segments_encoded"] == ["2026-03-27", "2026-03-28", "2026-03-29"]
    # the frames the in-process render decodes to, in the same order
    assert _frame_hashes(out) == _frame_hashes(here.result.output)
    assert len(_frame_hashes(out)) == len(shots)
    seen = []
    while not records.empty():
        seen.append(records.get_nowait())
    assert {r.id for r in seen} == {job_id}  # one job, however many tasks
    encode = [(r.done, r.total) for r in seen if r.step == "encode"]
    assert {t for _, t in encode} == {len(shots)}  # the frames of all three days
    assert [d for d, _ in encode] == sorted(d for d, _ in encode)
    logs = workers[0].text() + workers[1].text()
    assert logs.count("pylapse.video.segment[") >= 3 and logs.count("succeeded") == 3
    # the render's own segments folder is gone, and nothing was left beside the video
    assert not any((tmp_path / "data").rglob("*.mp4"))
    assert sorted(p.name for p in out.parent.iterdir()) == ["three-days.mp4",
                                                            "three-days.mp4.json"]  # fmt: skip


def test_a_render_on_two_workers_on_redis_decodes_to_the_in_process_frames(
    tmp_path, redis_url, workers
):
    _render_on_two_workers(tmp_path, redis_url, redis_url, workers)


def test_a_render_on_two_workers_on_rabbitmq_decodes_to_the_in_process_frames(
    tmp_path, redis_url, amqp_url, workers
):
    _render_on_two_workers(tmp_path, amqp_url, redis_url, workers)


def _ffmpegs_under(folder: Path) -> list[tuple[int, str]]:
    """Pids of running processes whose command line names ``folder`` (our renders' ffmpegs)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        cmdline = b" ".join(argv)
        if b"ffmpeg" in Path(argv[0].decode()).name.encode() and str(folder).encode() in cmdline \
                and state != "Z":  # fmt: skip
            found.append((int(proc.name), cmdline.decode(errors="replace")[:300]))
    return found


def _slow_days(tmp_path: Path, days: int, per_day: int) -> list[Shot]:
    return [s for n in range(days)
            for s in _noisy_day(tmp_path / "frames" / str(n), datetime(2026, 5, 1 + n), per_day)]


def _encoding(tmp_path: Path, cache: Path, count: int, thread: threading.Thread,
              worker: Worker) -> None:  # fmt: skip
    """Wait until ``count`` days are being encoded: their ffmpegs run, their temp files are
    there."""
    deadline = time.monotonic() + 90
    while len(_ffmpegs_under(tmp_path)) < count or len(list(cache.rglob("*.tmp"))) < count:
        assert time.monotonic() < deadline and thread.is_alive(), worker.text()
        time.sleep(0.02)


def test_cancel_stops_every_ffmpeg_and_leaves_no_partial_file(tmp_path, redis_url, workers):
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    worker = Worker(config, queue, tmp_path / "w.log", pool="prefork", concurrency=2)
    workers.append(worker)
    shots = _slow_days(tmp_path, 4, 24)
    cache, out = tmp_path / "cache", tmp_path / "videos" / "cancelled.mp4"
    cancel = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        encode = encode_on_workers(_client(redis_url, redis_url), queue)
        try:
            render_segmented(shots, out, DRAFT, cache, None, cancel, encode=encode)
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    _encoding(tmp_path, cache, 2, thread, worker)  # both pool processes
    cancel.set()
    thread.join(30)
    assert isinstance(outcome.get("error"), Cancelled), outcome
    deadline = time.monotonic() + 30
    while running := _ffmpegs_under(tmp_path):
        assert time.monotonic() < deadline, f"ffmpeg kept encoding after the cancel: {running}"
        time.sleep(0.2)
    time.sleep(0.5)  # a terminated pool process removes its temp file before it ends
    assert not out.exists()
    left = [p.name for p in cache.rglob("*") if p.is_file()]
    assert not [n for n in left if n.endswith(".tmp")], left
    # what is there is whole: a segment with its manifest (none of the four days finished)
    assert all(n.endswith(".json") or f"{n}.json" in left for n in left), left
    log = worker.text()
    assert "terminat" in log.lower() or "revoked" in log.lower(), log


def test_a_worker_killed_mid_day_leaves_its_day_to_another(tmp_path, redis_url, workers):
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    jobs = {"backend": "celery", "broker_url": redis_url, "queue": queue, "visibility_timeout": 3}
    config = _config(tmp_path, jobs)
    first = Worker(config, queue, tmp_path / "w1.log", pool="solo", concurrency=1)
    workers.append(first)
    shots = _slow_days(tmp_path, 3, 12)
    outcome: dict[str, object] = {}
    cache, out = tmp_path / "cache", tmp_path / "videos" / "killed.mp4"

    def run() -> None:
        encode = encode_on_workers(_client(redis_url, redis_url, 3), queue)
        try:
            outcome["made"] = render_segmented(shots, out, DRAFT, cache, encode=encode)
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    _encoding(tmp_path, cache, 1, thread, first)
    first.kill()  # mid-day: its ffmpeg dies with it, its task is neither acknowledged nor done
    assert not _ffmpegs_under(tmp_path)
    lost = _received(first.text(), "pylapse.video.segment") - _succeeded(
        first.text(), "pylapse.video.segment"
    )
    second = Worker(config, queue, tmp_path / "w2.log", pool="solo", concurrency=1)
    workers.append(second)
    thread.join(120)
    assert not thread.is_alive(), "the render did not finish after the second worker started"
    assert "error" not in outcome, outcome.get("error")
    assert lost and lost <= _received(second.text(), "pylapse.video.segment")
    here = render_segmented(shots, tmp_path / "here.mp4", DRAFT, tmp_path / "cache-here")
    assert _frame_hashes(out) == _frame_hashes(here.result.output)
    assert len(_frame_hashes(out)) == len(shots)
    assert not [p for p in cache.rglob("*.tmp")]  # the dead worker's temp file was swept
    # each day's frame list (ffmpeg's concat list, hashed in its segment's manifest) is the one
    # the in-process render listed
    lists = {}
    for folder in (cache, tmp_path / "cache-here"):
        lists[folder.name] = {m.relative_to(folder).as_posix(): read_manifest(m.with_suffix(""))
                              ["frame_list_hash"] for m in folder.rglob("*.mp4.json")}  # fmt: skip
    assert len(lists["cache"]) == 3 and lists["cache"] == lists["cache-here"]

