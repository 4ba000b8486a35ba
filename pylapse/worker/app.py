"""The Celery app ``pylapse worker`` runs: the jobs config's broker, the project's tasks.

The task bodies live with their stage (an export chunk in :mod:`pylapse.export.distributed`,
a day of frames measured in :mod:`pylapse.tasks.metrics`);
this module only registers them under their names, each acknowledged late and rejected when its
worker is lost (:data:`~pylapse.jobs.celery_app.TASK_OPTIONS`), and starts the worker.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pylapse.config.jobs import JobsConfig
from pylapse.export.distributed import EXPORT_CHUNK_TASK, write_chunk
from pylapse.jobs.celery_app import TASK_OPTIONS, make_app
from pylapse.jobs.fanout import PROGRESS
from pylapse.tasks.metrics import MEASURE_TASK, measure_rows

__all__ = ["register_tasks", "run_worker", "worker_app"]

_REPORT_EVERY = 0.5  # seconds between a task's progress reports
POOLS = ("prefork", "solo")  # a task's export settings are per process: no thread pools


def register_tasks(app: Any) -> None:
    """Register every pyLapse task body on ``app``."""

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
        last = [time.monotonic()]

        def report(done: int) -> None:
            if time.monotonic() - last[0] >= _REPORT_EVERY:
                last[0] = time.monotonic()
                self.update_state(state=PROGRESS, meta={"done": done})

        return measure_rows(rows, region, report)


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
