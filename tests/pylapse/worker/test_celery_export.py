"""Exports written by real ``pylapse worker`` processes (Celery) against the real Redis and
RabbitMQ on 127.0.0.1: the same files as an export in process, progress added up to the total,
cancel revoking every task, and a worker killed mid-chunk whose task another worker redoes.

Each test uses its own queue name and this file's own Redis database (12-15, one per pytest-xdist
worker), emptied afterwards.
Without Redis the tests skip saying how to start it (``./test.sh`` starts it when installed);
with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import timeutil
from pylapse.export.distributed import run_export_on_workers
from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.jobs.celery_app import make_app
from pylapse.progress import Cancelled, Progress

REPO = Path(__file__).resolve().parents[3]
# this file's Redis database, one per pytest-xdist worker (gw0 -> 12 ... gw3 -> 15; ./test.sh
# starts at most 4): the fixture empties it after each test, which must not hit another
# worker's running job
DB = 12 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 4
REDIS = f"redis://127.0.0.1:6379/{DB}"
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
TOKYO = 9 * 3600
START = datetime(2026, 3, 8, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo

pytestmark = [pytest.mark.slow, pytest.mark.network]


def _service(port: int, name: str, start: str) -> None:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            return
    message = f"{name} is not running on 127.0.0.1:{port}; start it with `{start}`"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def redis_url() -> Iterator[str]:
    _service(6379, "Redis", "redis-server --daemonize yes --bind 127.0.0.1 --port 6379")
    yield REDIS
    import redis

    redis.Redis.from_url(REDIS).flushdb()  # this file's own database


@pytest.fixture
def amqp_url(tmp_path: Path, redis_url: str, workers: list[Worker]) -> Iterator[str]:
    """RabbitMQ's URL; afterwards the test's workers are stopped and its queues deleted (their
    names are in the config the test wrote)."""
    _service(5672, "RabbitMQ", "rabbitmq-server -detached")
    yield AMQP
    for worker in workers:
        worker.stop()
    with _client(AMQP, redis_url).connection_for_write() as conn:
        channel = conn.default_channel
        for line in (tmp_path / "capture_config.json").read_text().split('"'):
            if line.startswith("pylapse-test-"):
                channel.queue_delete(line)


def _frames(folder: Path, count: int, size=(160, 120), per_day=6) -> list[tuple[Path, datetime]]:
    """``count`` noisy JPEGs (real decode work), ``per_day`` on each local day in Tokyo."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(count):
        path = folder / f"cam-{i:03d}.jpg"
        noise = Image.effect_noise(size, 60).convert("RGB")
        noise.save(path, quality=90)
        day, slot = divmod(i, per_day)
        utc = (START + timedelta(days=day, minutes=30 * slot)).timestamp()
        frames.append((path, timeutil.from_utc(utc, TOKYO)))
    return frames


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


class Worker:
    """A ``pylapse worker`` process in its own session (so a SIGKILL takes all of it)."""

    def __init__(self, config: Path, queue: str, log: Path, *, pool: str, concurrency: int):
        self.log = log
        self.name = f"{queue}-{uuid.uuid4().hex[:6]}@localhost"
        command = [
            sys.executable, "-m", "pylapse", "worker", "--config", str(config),
            "--queues", queue, "--pool", pool, "--concurrency", str(concurrency),
            "--hostname", self.name,
        ]  # fmt: skip
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while "ready." not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the worker did not start:\n{self.text()}", pytrace=False)
            time.sleep(0.1)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def _config(tmp_path: Path, jobs: dict[str, object]) -> Path:
    import json

    path = tmp_path / "capture_config.json"
    config = {"data_dir": str(tmp_path / "data"), "storage_roots": [str(tmp_path)], "jobs": jobs}
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def _client(broker: str, results: str, visibility: float = 3600.0):
    return make_app(broker, results, visibility_timeout=visibility)


STAMPED = ExportOptions(width=120, drawtimestamp=True, prefix="t-", workers=1)


def test_an_export_on_workers_writes_the_in_process_files_and_adds_up_progress(
    tmp_path, redis_url, workers
):
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    workers.append(Worker(config, queue, tmp_path / "w1.log", pool="solo", concurrency=1))
    workers.append(Worker(config, queue, tmp_path / "w2.log", pool="prefork", concurrency=2))
    frames = _frames(tmp_path / "src", 18)
    run_export(frames, tmp_path / "plain", STAMPED)
    reports: list[Progress] = []
    result = run_export_on_workers(
        frames, tmp_path / "out", STAMPED, reports.append,
        app=_client(redis_url, redis_url), queue=queue, chunk_frames=4,
    )  # fmt: skip
    assert result.written == 18 and result.skipped == []
    assert _files(tmp_path / "out") == {
        **_files(tmp_path / "plain"),
        ".pylapse-export.json": (tmp_path / "out" / ".pylapse-export.json").read_bytes(),
    }
    done = [p.done for p in reports if p.stage == "process"]
    assert done == sorted(done) and done[-1] == 18 and {p.total for p in reports} == {18}
    # 3 days of 6 frames, 4 at most a task: 6 tasks, spread over both workers' processes
    logs = workers[0].text() + workers[1].text()
    assert logs.count("pylapse.export.chunk[") >= 6 and logs.count("succeeded") == 6
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_cancel_revokes_every_task_and_keeps_the_previous_export(tmp_path, redis_url, workers):
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    worker = Worker(config, queue, tmp_path / "w.log", pool="prefork", concurrency=2)
    workers.append(worker)
    out = tmp_path / "out"
    run_export(_frames(tmp_path / "old", 3), out, STAMPED)
    before = _files(out)
    frames = _frames(tmp_path / "src", 40, size=(1600, 1200), per_day=40)
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.stage == "process" and p.done > 0:
            cancel.set()

    app = _client(redis_url, redis_url)
    with pytest.raises(Cancelled):
        run_export_on_workers(
            frames, out, STAMPED, progress, cancel, app=app, queue=queue, chunk_frames=2
        )
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []
    # the worker drops what was revoked: nothing is left to run and nothing more is written
    inspect = app.control.inspect(destination=[worker.name], timeout=5)
    deadline = time.monotonic() + 60
    while any((ask() or {}).get(worker.name) for ask in (inspect.active, inspect.reserved)):
        assert time.monotonic() < deadline, "the worker kept running revoked tasks"
        time.sleep(0.2)
    log = worker.text()
    assert "revoked" in log.lower() or "terminating" in log.lower(), log
    assert log.count("succeeded") < 20  # 20 chunks of 2 frames: most never ran
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def _received(log: str, task: str = "pylapse.export.chunk") -> set[str]:
    return {line.split(f"{task}[", 1)[1].split("]", 1)[0] for line in log.splitlines()
            if f"{task}[" in line and "received" in line.lower()}  # fmt: skip


def _succeeded(log: str, task: str = "pylapse.export.chunk") -> set[str]:
    return {line.split(f"{task}[", 1)[1].split("]", 1)[0] for line in log.splitlines()
            if f"{task}[" in line and "succeeded" in line}  # fmt: skip


def _kill_mid_task(worker: Worker, task: str = "pylapse.export.chunk") -> set[str]:
    """SIGKILL ``worker`` while it holds a task it has not finished; returns those tasks' ids.

    Killing when the export's progress first moves can land between two chunks (a quiet machine
    finishes a 4-frame chunk in ~0.1 s), leaving nothing to redo. So the worker is frozen
    (SIGSTOP, at once) when its log shows a received task not yet succeeded, and killed only if
    that still holds: Celery logs "succeeded" before the late acknowledgement, so a task not
    logged as succeeded is not acknowledged either."""
    deadline = time.monotonic() + 60
    while True:
        if _received(worker.text(), task) - _succeeded(worker.text(), task):
            os.killpg(worker.proc.pid, signal.SIGSTOP)
            lost = _received(worker.text(), task) - _succeeded(worker.text(), task)
            if lost:
                worker.kill()
                return lost
            os.killpg(worker.proc.pid, signal.SIGCONT)
        assert time.monotonic() < deadline, worker.text()
        time.sleep(0.005)


def _export_with_a_worker_killed(tmp_path: Path, broker: str, results: str, workers) -> None:
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    jobs = {"backend": "celery", "broker_url": broker, "result_backend": results,
            "queue": queue, "visibility_timeout": 3}  # fmt: skip
    config = _config(tmp_path, jobs)
    first = Worker(config, queue, tmp_path / "w1.log", pool="solo", concurrency=1)
    workers.append(first)
    # six tasks of 4 frames: the first worker is still busy when the first of them is done
    frames = _frames(tmp_path / "src", 24, size=(1600, 1200), per_day=24)
    options = ExportOptions(width=1200, drawtimestamp=True, workers=1)
    run_export(frames, tmp_path / "plain", options)
    started = threading.Event()
    outcome: dict[str, object] = {}

    def progress(p: Progress) -> None:
        if p.stage == "process" and p.done > 0:
            started.set()

    def export() -> None:
        try:
            outcome["result"] = run_export_on_workers(
                frames, tmp_path / "out", options, progress,
                app=_client(broker, results, 3), queue=queue, chunk_frames=4,
            )  # fmt: skip
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=export)
    thread.start()
    assert started.wait(90), first.text()
    lost = _kill_mid_task(first)  # its task is neither acknowledged nor finished
    second = Worker(config, queue, tmp_path / "w2.log", pool="solo", concurrency=1)
    workers.append(second)
    thread.join(120)
    assert not thread.is_alive(), "the export did not finish after the second worker started"
    assert "error" not in outcome, outcome.get("error")
    assert lost and lost <= _received(second.text())  # the dead worker's task was redone
    plain = _files(tmp_path / "plain")
    out = _files(tmp_path / "out")
    assert len(plain) == 25  # 24 frames and the manifest
    # each frame once, complete, and no part folder of the dead task left in the export
    assert set(out) == set(plain)
    assert {k: v for k, v in out.items() if not k.startswith(".")} == {
        k: v for k, v in plain.items() if not k.startswith(".")
    }


def test_a_worker_killed_mid_chunk_leaves_its_task_to_another_on_redis(
    tmp_path, redis_url, workers
):
    _export_with_a_worker_killed(tmp_path, redis_url, redis_url, workers)


def test_a_worker_killed_mid_chunk_leaves_its_task_to_another_on_rabbitmq(
    tmp_path, redis_url, amqp_url, workers
):
    _export_with_a_worker_killed(tmp_path, amqp_url, redis_url, workers)


def test_pylapse_export_with_the_celery_backend_runs_on_workers(tmp_path, redis_url, workers):
    """The CLI (and the dashboard's job, through the same tasks.export.export_preset) hands the
    frames to the workers when the config says so: the same files as without it."""
    import json

    from pylapse import naming, storage
    from pylapse.cli import main

    zone = timeutil.zone("Asia/Tokyo")
    start = datetime(2026, 2, 9, tzinfo=zone)
    for k in range(2 * 24 * 2):  # two days, every 30 minutes
        when = start + timedelta(minutes=30 * k)
        folder = storage.day_folder(tmp_path / "frames", when)
        folder.mkdir(parents=True, exist_ok=True)
        Image.effect_noise((64, 48), 50).convert("RGB").save(
            folder / naming.format_name(when, prefix="roof-"), "JPEG"
        )
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    base = {
        "data_dir": "data",
        "storage_roots": [str(tmp_path)],
        "collections": {"roof": {"name": "Roof", "path": "frames", "timezone": "Asia/Tokyo"}},
    }
    plain, celery = tmp_path / "plain.json", tmp_path / "capture_config.json"
    plain.write_text(json.dumps(base))
    jobs = {"backend": "celery", "broker_url": redis_url, "queue": queue, "chunk_frames": 10}
    celery.write_text(json.dumps({**base, "jobs": jobs}))
    workers.append(Worker(celery, queue, tmp_path / "w.log", pool="prefork", concurrency=2))
    for config, out in ((plain, "out-plain"), (celery, "out-celery")):
        args = ["export", "--config", str(config), "--collection", "roof", "--timestamp",
                "--resize", "48x36", "--output", str(tmp_path / out), "--no-progress"]  # fmt: skip
        assert main(args) == 0
    written = _files(tmp_path / "out-celery")
    assert len(written) == 97  # 96 frames and the manifest
    expected = _files(tmp_path / "out-plain")
    assert {k: v for k, v in written.items() if k.endswith(".jpg")} == {
        k: v for k, v in expected.items() if k.endswith(".jpg")
    }
    # two days of 48 frames, 10 at most a task: 5 tasks a day
    assert workers[0].text().count("succeeded") == 10


def test_the_dashboard_job_is_one_job_whose_progress_adds_up_its_tasks(
    tmp_path, redis_url, workers
):
    """queue_export on a real JobRunner with the Celery backend: one job record, its process
    step counting every task's frames up to the total, done at 100 %."""
    import json

    from pylapse.collection import Collection
    from pylapse.config.file import load_config
    from pylapse.index.store import FrameIndex
    from pylapse.jobs.record import JobState
    from pylapse.jobs.runner import JobRunner
    from pylapse.tasks.export import queue_export
    from tests.pylapse.test_collection import make_frames

    zone = timeutil.zone("Europe/Berlin")
    frames = tmp_path / "storage" / "cam"
    make_frames(frames, datetime(2026, 3, 2, 6, tzinfo=zone), 36, timedelta(hours=1))
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "storage_roots": [str(tmp_path / "storage")],
        "data_dir": str(tmp_path / "data"),
        "collections": {"cam": {"name": "Cam", "path": str(frames), "timezone": "Europe/Berlin"}},
        "exports": {"hourly": {"collection": "cam", "minute": 0, "width": 32, "height": 24}},
        "jobs": {"backend": "celery", "broker_url": redis_url, "queue": queue, "chunk_frames": 5},
    }))  # fmt: skip
    workers.append(Worker(cfg, queue, tmp_path / "w.log", pool="prefork", concurrency=2))
    config = load_config(cfg)
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    records = runner.subscribe()
    try:
        coll = Collection.from_config(config, "cam", index)
        coll.refresh()
        preset = config.exports["hourly"]
        folder = config.export_folder("hourly")
        assert folder is not None
        options = ExportOptions.from_mapping(preset)
        job_id = queue_export(runner, config, coll, "hourly", preset, folder, options)
        job = runner.wait(job_id, timeout=90)
    finally:
        runner.shutdown()
        index.close()
    assert job.state is JobState.DONE, job.error
    assert job.result["written"] == 36 and job.percent == 100.0
    assert len(list(folder.glob("*.jpg"))) == 36
    seen = []
    while not records.empty():
        seen.append(records.get_nowait())
    assert {r.id for r in seen} == {job_id}  # one job, however many tasks
    process = [(r.done, r.total) for r in seen if r.step == "process"]
    assert process[-1] == (36, 36) and [d for d, _ in process] == sorted(d for d, _ in process)
    # 36 hourly frames from 06:00 over two local days (18 + 18), 5 at most a task: 8 tasks
    assert workers[0].text().count("succeeded") == 8


def test_a_task_failing_on_its_worker_fails_the_job_naming_the_error(tmp_path, redis_url, workers):
    from pylapse.export.distributed import EXPORT_CHUNK_TASK
    from pylapse.jobs.fanout import TaskCall, TaskFailed, run_tasks

    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    workers.append(Worker(config, queue, tmp_path / "w.log", pool="solo", concurrency=1))
    staging = tmp_path / "staging"
    staging.mkdir()
    bad = TaskCall(EXPORT_CHUNK_TASK, (str(staging), {"no_such_option": 1}, 1, [], None, []), 1)
    with pytest.raises(TaskFailed, match=r"TypeError: .*no_such_option"):
        run_tasks(_client(redis_url, redis_url), [bad], queue=queue, stage="process")


def test_an_unreachable_broker_is_a_clear_failure(tmp_path):
    from pylapse.export.staging import ExportError

    frames = _frames(tmp_path / "src", 2)
    app = _client("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/0")
    app.conf.task_publish_retry = False  # a real deployment retries a few times first
    with pytest.raises(ExportError, match="cannot send tasks to the broker"):
        run_export_on_workers(frames, tmp_path / "out", STAMPED, app=app, queue="nowhere")
    assert not (tmp_path / "out").exists()


def test_tasks_beyond_the_poll_window_are_waited_for_in_turn(
    tmp_path, redis_url, workers, monkeypatch
):
    from pylapse.jobs import fanout

    monkeypatch.setattr(fanout, "POLL_WINDOW", 2)  # 9 tasks, their states read 2 at a time
    queue = f"pylapse-test-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, {"backend": "celery", "broker_url": redis_url, "queue": queue})
    workers.append(Worker(config, queue, tmp_path / "w.log", pool="prefork", concurrency=2))
    frames = _frames(tmp_path / "src", 18)
    run_export(frames, tmp_path / "plain", STAMPED)
    reports: list[Progress] = []
    result = run_export_on_workers(
        frames, tmp_path / "out", STAMPED, reports.append,
        app=_client(redis_url, redis_url), queue=queue, chunk_frames=2,
    )  # fmt: skip
    assert result.written == 18 and reports[-1].done == 18
    jpgs = sorted(p.name for p in (tmp_path / "out").glob("*.jpg"))
    assert jpgs == sorted(p.name for p in (tmp_path / "plain").glob("*.jpg"))
    assert all(
        (tmp_path / "out" / n).read_bytes() == (tmp_path / "plain" / n).read_bytes() for n in jpgs
    )
