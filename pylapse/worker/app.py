"""The Celery app ``pylapse worker`` runs: the jobs config's broker, the project's tasks.

The task bodies live with their stage (an export chunk in :mod:`pylapse.export.distributed`,
a day of frames measured in :mod:`pylapse.tasks.metrics`, a day's video segment in
:mod:`pylapse.video.distributed`, a day's picture in :mod:`pylapse.pictures.distributed`);
this module only registers them under their names, each acknowledged late and rejected when its
worker is lost (:data:`~pylapse.jobs.celery_app.TASK_OPTIONS`), and starts the worker.

A job's cancel revokes its tasks with ``terminate``: Celery sends SIGTERM to the pool process
running one. A task that runs ffmpeg turns that signal into its cancel (:func:`terminate_cancels`)
so ffmpeg is stopped and its temp file removed, then the process ends itself with the same signal,
as it would have without the handler (the revoked task is not acknowledged as done).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pylapse.config.jobs import JobsConfig
from pylapse.export.distributed import EXPORT_CHUNK_TASK, write_chunk
from pylapse.jobs.celery_app import TASK_OPTIONS, make_app
from pylapse.jobs.fanout import PROGRESS
from pylapse.pictures.distributed import PICTURE_TASK, draw_and_save
from pylapse.progress import Cancelled
from pylapse.tasks.metrics import MEASURE_TASK, measure_rows
from pylapse.video.distributed import SEGMENT_TASK, encode_segment

__all__ = ["register_tasks", "run_worker", "terminate_cancels", "worker_app"]

_REPORT_EVERY = 0.5  # seconds between a task's progress reports
POOLS = ("prefork", "solo")  # a task's export settings are per process: no thread pools


def _throttled(task: Any) -> Callable[[int], None]:
    """A task's progress report (items done), sent at most every :data:`_REPORT_EVERY` s."""
    last = [time.monotonic()]

    def report(done: int) -> None:
        if time.monotonic() - last[0] >= _REPORT_EVERY:
            last[0] = time.monotonic()
            task.update_state(state=PROGRESS, meta={"done": done})

    return report


@contextlib.contextmanager
def terminate_cancels(main_pid: int) -> Iterator[threading.Event]:
    """An event SIGTERM sets while the block runs, in a pool process (not in the worker's main
    process: there SIGTERM is the worker's warm shutdown, which waits for the task). When the
    signal came, the process ends itself with it once the block has cleaned up."""
    cancel = threading.Event()
    if os.getpid() == main_pid or threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: cancel.set())
    try:
        yield cancel
    except Cancelled:
        if not cancel.is_set():
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    if cancel.is_set():
        os.kill(os.getpid(), signal.SIGTERM)  # terminated, as Celery asked


def register_tasks(app: Any) -> None:
    """Register every pyLapse task body on ``app``."""
    main_pid = os.getpid()  # the worker's own process; its pool processes are forked from it

    @app.task(name=EXPORT_CHUNK_TASK, bind=True, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
    def export_chunk(
        self: Any,
        staging: str,
        options: dict[str, Any],
        count: int,
        chunk: list[list[Any]],
        tones: dict[str, list[float | None]] | None = None,
        roots: Sequence[str] = (),
    ) -> dict[str, Any]:
        def report(done: int) -> None:
            self.update_state(state=PROGRESS, meta={"done": done})

        return write_chunk(staging, options, count, chunk, tones, roots, report=report)

    @app.task(name=MEASURE_TASK, bind=True, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
    def measure(self: Any, rows: list[list[Any]], region: list[int | None]) -> dict[str, Any]:
        return measure_rows(rows, region, _throttled(self))

    @app.task(name=PICTURE_TASK, bind=True, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
    def picture(
        self: Any,
        parameters: dict[str, Any],
        paths: list[str | None],
        manifest: dict[str, Any],
        output: str,
        thumbnail: bool = False,
    ) -> dict[str, Any]:
        return draw_and_save(parameters, paths, manifest, output, thumbnail, _throttled(self))

    @app.task(name=SEGMENT_TASK, bind=True, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
    def segment(
        self: Any,
        path: str,
        day: str,
        rows: list[list[Any]],
        options: dict[str, Any],
        fingerprint: str,
        size: list[int],
        roots: list[str],
        ffmpeg_version: str,
    ) -> dict[str, Any]:
        with terminate_cancels(main_pid) as cancel:
            return encode_segment(path, day, rows, options, fingerprint, size, roots,
                                  ffmpeg_version, _throttled(self), cancel)  # fmt: skip
        return {"stopped": "terminated"}  # not reached: the process ended itself


def worker_app(jobs: JobsConfig) -> Any:
    """The app of the config's broker with the project's tasks registered."""
    if jobs.broker_url is None or jobs.results_url is None:
        raise ValueError("jobs.broker_url is not set: workers need the broker of the config")
    app = make_app(jobs.broker_url, jobs.results_url, visibility_timeout=jobs.visibility_timeout)
    register_tasks(app)
    return app


def run_worker(
    app: Any,
    *,
    queues: Sequence[str],
    concurrency: int,
    pool: str = "prefork",
    hostname: str | None = None,
    loglevel: str = "INFO",
) -> None:
    """Run a worker on ``queues`` until it is stopped (blocks)."""
    if pool not in POOLS:
        raise ValueError(f"pool must be one of {', '.join(POOLS)}, got {pool!r}")
    argv = [
        "worker",
        f"--queues={','.join(queues)}",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)
