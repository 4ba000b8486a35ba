"""One-day pictures over a range of days drawn by real ``pylapse worker`` processes (Celery), a
day a task, against the real Redis and RabbitMQ on 127.0.0.1: the same files (pixels and
manifests) as the in-process runner's, one job whose progress adds up the days' slots.

The workers and the services come from the export tests' fixtures (Redis database 13, a queue
name per test).
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pylapse.collection import Collection
from pylapse.config.file import load_config
from pylapse.index.store import FrameIndex
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.pictures.kinds import PictureKind
from pylapse.pictures.request import PictureRequest
from pylapse.tasks.picture import make_days, queue_picture_days
from tests.pylapse.pictures.picture_support import DAY, MISSING, write_day
from tests.pylapse.worker.test_celery_export import Worker, amqp_url, redis_url, workers

__all__ = ["amqp_url", "redis_url", "workers"]  # the fixtures, shared with the export tests

pytestmark = [pytest.mark.slow, pytest.mark.network]

LAST = DAY + timedelta(days=3)  # the fourth day has no frames


def _configs(tmp_path: Path, jobs: dict[str, Any]) -> tuple[Path, Path]:
    """The same camera twice: in process (``plain.json``) and with ``jobs`` (the workers')."""
    for n in range(3):
        write_day(tmp_path / "cam", DAY + timedelta(days=n), MISSING if n == 1 else set())
    base = {
        "data_dir": "data",
        "storage_roots": [str(tmp_path)],
        "cameras": {"cam": {"name": "Cam", "url": "http://127.0.0.1:9/x.jpg", "output_dir": "cam",
                            "timezone": "UTC", "latitude": 60.2, "longitude": 24.9}},
    }  # fmt: skip
    plain, celery = tmp_path / "plain.json", tmp_path / "capture_config.json"
    plain.write_text(json.dumps(base))
    celery.write_text(json.dumps({**base, "jobs": jobs}))
    return plain, celery


def _pictures(folder: Path) -> dict[str, bytes]:
    """The pictures folder's files (pictures, manifests, thumbnails), emptied after reading."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    for name in files:
        (folder / name).unlink()
    return files


def _days_on_workers(tmp_path: Path, broker: str, results: str, workers) -> None:
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    jobs = {"backend": "celery", "broker_url": broker, "result_backend": results, "queue": queue}
    plain, celery = _configs(tmp_path, jobs)
    workers.append(Worker(celery, queue, tmp_path / "w1.log", pool="solo", concurrency=1))
    workers.append(Worker(celery, queue, tmp_path / "w2.log", pool="prefork", concurrency=1))
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    try:
        coll = Collection.from_config(load_config(plain), "cam", index)
        coll.refresh()
        folder = tmp_path / "pictures"
        for kind in (PictureKind.DAYSTRIP, PictureKind.DAYSTACK):
            request = PictureRequest(kind, slot_width=600, scale=2)
            here = make_days(load_config(plain), coll, "cam", request, DAY, LAST)
            expected = _pictures(folder)
            there = make_days(load_config(celery), coll, "cam", request, DAY, LAST)
            assert there == here
            assert there["empty_days"] == [LAST.isoformat()] and len(there["pictures"]) == 3
            assert _pictures(folder) == expected  # pixels, manifests: byte for byte
    finally:
        index.close()
    logs = workers[0].text() + workers[1].text()
    assert logs.count("pylapse.pictures.day[") >= 6 and logs.count("succeeded") == 6


def test_pictures_by_day_on_two_workers_on_redis_are_the_in_process_files(
    tmp_path, redis_url, workers
):
    _days_on_workers(tmp_path, redis_url, redis_url, workers)


def test_pictures_by_day_on_two_workers_on_rabbitmq_are_the_in_process_files(
    tmp_path, redis_url, amqp_url, workers
):
    _days_on_workers(tmp_path, amqp_url, redis_url, workers)


def test_the_pictures_job_is_one_job_whose_progress_adds_up_its_days(
    tmp_path, redis_url, workers
):
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    _, celery = _configs(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    workers.append(Worker(celery, queue, tmp_path / "w.log", pool="prefork", concurrency=2))
    config = load_config(celery)
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    records = runner.subscribe()
    try:
        coll = Collection.from_config(config, "cam", index)
        coll.refresh()
        request = PictureRequest(PictureKind.KEOGRAM, slot_width=600)
        job_id = queue_picture_days(runner, config, coll, "cam", request, DAY, LAST)
        job = runner.wait(job_id, timeout=90)
    finally:
        runner.shutdown()
        index.close()
    assert job.state is JobState.DONE, job.error
    assert job.percent == 100.0 and job.result is not None
    made = job.result["pictures"]
    assert [Path(p["output"]).name for p in made] == [
        f"cam-keogram-{DAY + timedelta(days=n)}.png" for n in range(3)
    ]
    assert all(Path(p["output"]).is_file() for p in made)
    seen = []
    while not records.empty():
        seen.append(records.get_nowait())
    assert {r.id for r in seen} == {job_id}  # one job, however many tasks
    read = [(r.done, r.total) for r in seen if r.step == "read"]
    # the slots of all three days (144 of ten minutes each) are the step's total; the runner
    # throttles what it stores, so the last count may give way to the save step's
    assert {t for _, t in read} == {3 * 144}
    assert [d for d, _ in read] == sorted(d for d, _ in read)
    assert seen[-1].step == "save"
