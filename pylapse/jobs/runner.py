"""JobRunner: long work (exports, renders, scans) off the request path, with progress and cancel.

A bounded queue feeds N worker threads. A job is a function ``fn(progress, cancel) -> dict``
that reports :class:`~pylapse.progress.Progress` through ``progress`` (its ``stage`` names one
of the job's steps, e.g. select → process → encode) and stops when ``cancel`` is set (raising
:class:`~pylapse.progress.Cancelled`, or simply returning). A job declares exactly the steps it
reports, in order, optionally weighted by what each costs (:class:`~pylapse.jobs.record.JobSteps`);
the runner turns each report into one overall percent that starts at 0, never goes back (a stage
whose total grows, or a stage that is not a declared step, holds it where it was) and is 100 when
the job is done. Every job is a row of the ``jobs``
table in ``pylapse.db``, so the history survives restarts; progress is written and published to
subscribers at most once per ``publish_interval`` (one second), while state and step changes are
always published at once. Jobs a crash left queued or running are marked ``interrupted`` when
the next runner starts: their function died with the old process.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pylapse import db
from pylapse.jobs.record import (
    JobNotFound,
    JobQueueFull,
    JobRecord,
    JobState,
    JobSteps,
    StepsSpec,
    record_from_row,
    utc,
)
from pylapse.progress import Cancelled, Progress, ProgressCallback

__all__ = [
    "FinishListener",
    "JobFn",
    "JobRunner",
]

log = logging.getLogger(__name__)

JobFn = Callable[[ProgressCallback, threading.Event], dict[str, Any] | None]
#: Called with the final record of every job that ends while the runner runs, from its worker.
FinishListener = Callable[[JobRecord], None]
DEFAULT_STEPS = ("select", "process", "encode")

_SCHEMA = [
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        state TEXT NOT NULL,
        steps TEXT NOT NULL,
        step TEXT,
        done INTEGER NOT NULL DEFAULT 0,
        total INTEGER NOT NULL DEFAULT 0,
        rate REAL,
        eta REAL,
        message TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        result TEXT,
        error TEXT,
        created REAL NOT NULL,
        started REAL,
        finished REAL
    );
    CREATE INDEX jobs_by_kind ON jobs (kind, id);
    CREATE INDEX jobs_by_state ON jobs (state);
    """,
    # the overall percent is stored (it depends on the steps' weights and never goes back);
    # rows from before it existed: done is 100, the rest stay where the bar cannot tell
    """
    ALTER TABLE jobs ADD COLUMN percent REAL NOT NULL DEFAULT 0;
    UPDATE jobs SET percent = 100 WHERE state = 'done';
    """,
]


@dataclass
class _Live:
    """A queued or running job: its latest record, its function and its cancel switch."""

    record: JobRecord
    fn: JobFn
    steps: JobSteps
    cancel: threading.Event = field(default_factory=threading.Event)
    published_at: float = 0.0
    undeclared: set[str] = field(default_factory=set)  # stages reported but not declared


class JobRunner:
    """Runs jobs on ``workers`` threads from a queue of at most ``queue_size`` waiting jobs."""

    def __init__(
        self,
        db_path: str | Path,
        workers: int = 1,
        queue_size: int = 16,
        *,
        publish_interval: float = 1.0,
        max_history: int = 1000,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._db_path = Path(db_path)
        self._workers = workers
        self._queue_size = queue_size
        self._publish_interval = publish_interval
        self._max_history = max_history
        self._queue: queue.Queue[int | None] = queue.Queue(maxsize=queue_size)
        self._lock = threading.RLock()  # the connection, the live table, the subscribers
        self._changed = threading.Condition(self._lock)
        self._live: dict[int, _Live] = {}
        self._subscribers: list[queue.Queue[JobRecord]] = []
        self._finish_listeners: tuple[FinishListener, ...] = ()
        self._threads: list[threading.Thread] = []
        self._conn: Any = None
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the history, mark jobs a crash left behind as interrupted, start the workers."""
        with self._lock:
            if self._conn is not None:
                return
            self._conn = db.connect(self._db_path)
            db.migrate(self._conn, "jobs", _SCHEMA)
            with self._conn:
                self._conn.execute(
                    "UPDATE jobs SET state = ?, finished = ?, "
                    "error = 'interrupted: pyLapse stopped while this job was ' || state "
                    "WHERE state IN (?, ?)",
                    (JobState.INTERRUPTED, time.time(), JobState.QUEUED, JobState.RUNNING),
                )
            self._prune()
            self._stopping = False
        for n in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"pylapse-job-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything, wait up to ``timeout`` s for workers; idempotent."""
        with self._lock:
            if self._conn is None:
                return
            self._stopping = True
            live = list(self._live.values())
        for item in live:
            item.cancel.set()
            if item.record.state == JobState.QUEUED:
                self._finish(item, JobState.CANCELLED, error="pyLapse stopped before it started")
        for _ in self._threads:
            self._queue.put(None)  # one wake-up per worker; never blocks for long: jobs drain
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        with self._lock:
            for item in list(self._live.values()):  # a function that ignored its cancel event
                self._finish(item, JobState.INTERRUPTED, error="still running at shutdown")
            self._conn.close()
            self._conn = None

    # -- submitting and cancelling ----------------------------------------------------------------
    def submit(
        self,
        kind: str,
        title: str,
        fn: JobFn,
        steps: StepsSpec = DEFAULT_STEPS,
        params: dict[str, Any] | None = None,
    ) -> int:
        """Queue ``fn``; returns the job id. Raises :class:`JobQueueFull` when the queue is full
        and ``ValueError`` for steps named twice or weighted 0 (see :class:`JobSteps`)."""
        plan = JobSteps.of(steps)
        with self._lock:
            conn = self._require()
            if self._stopping:
                raise JobQueueFull("the job runner is shutting down")
            if self._queue.full():
                raise JobQueueFull(
                    f"{self._queue_size} jobs are already waiting; try again when one has finished"
                )
            now = time.time()
            with conn:
                cursor = conn.execute(
                    "INSERT INTO jobs (kind, title, state, steps, step, params, created) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        kind,
                        title,
                        JobState.QUEUED,
                        json.dumps(plan.names),
                        plan.names[0],
                        json.dumps(params or {}, default=str),
                        now,
                    ),
                )
                job_id = int(cursor.fetchone()[0])
            record = JobRecord(
                id=job_id,
                kind=kind,
                title=title,
                state=JobState.QUEUED,
                steps=plan.names,
                step=plan.names[0],
                params=json.loads(json.dumps(params or {}, default=str)),
                created=utc(now) or datetime.now(UTC),
            )
            self._live[job_id] = _Live(record, fn, plan)
            self._queue.put_nowait(job_id)  # cannot fail: only submit() adds, under the lock
            self._publish(record)
        return job_id

    def cancel(self, job_id: int) -> bool:
        """Ask a job to stop; False when it has already finished (or never existed)."""
        with self._lock:
            item = self._live.get(job_id)
            if item is None:
                return False
            item.cancel.set()
            if item.record.state == JobState.QUEUED:
                self._finish(item, JobState.CANCELLED, error="cancelled before it started")
        return True

    # -- reading ---------------------------------------------------------------------------------
    def get(self, job_id: int) -> JobRecord:
        with self._lock:
            item = self._live.get(job_id)
            if item is not None:
                return item.record
            row = self._require().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return record_from_row(row)

    def list(self, limit: int = 25, offset: int = 0, kind: str | None = None) -> list[JobRecord]:
        """Newest first; live jobs show their latest (possibly not yet stored) progress."""
        where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
        with self._lock:
            rows = (
                self._require()
                .execute(
                    f"SELECT * FROM jobs {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                    (*args, max(0, limit), max(0, offset)),
                )
                .fetchall()
            )
            live = {k: v.record for k, v in self._live.items()}
        return [live.get(row["id"]) or record_from_row(row) for row in rows]

    def count(self, kind: str | None = None) -> int:
        where, args = ("WHERE kind = ?", (kind,)) if kind else ("", ())
        with self._lock:
            row = self._require().execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()
        return int(row[0])

    def active(self) -> builtins.list[JobRecord]:  # list is the method above in this class
        """Queued and running jobs, oldest first."""
        with self._lock:
            return sorted((v.record for v in self._live.values()), key=lambda r: r.id)

    def wait(self, job_id: int, timeout: float | None = None) -> JobRecord:
        """Block until the job has finished (or ``timeout``); returns its latest record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while job_id in self._live:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._changed.wait(left)
        return self.get(job_id)

    # -- subscribers (SSE) -----------------------------------------------------------------------
    def subscribe(self, maxsize: int = 256) -> queue.Queue[JobRecord]:
        """A queue that receives every published record; a slow reader loses the oldest."""
        q: queue.Queue[JobRecord] = queue.Queue(maxsize=maxsize)
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[JobRecord]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subscribers.remove(q)

    def add_finish_listener(self, listener: FinishListener) -> Callable[[], None]:
        """Call ``listener`` with the final record of every job that ends from now on (done,
        failed, cancelled), after it is stored, on the thread that ended it (a worker, or the
        caller of :meth:`cancel`): it must return quickly. One that raises is logged and never
        harms the job. Returns the call that removes it. (Notifications listen here: the jobs
        wing knows nothing of them.)"""
        with self._lock:
            self._finish_listeners = (*self._finish_listeners, listener)

        def remove() -> None:
            with self._lock:
                kept = list(self._finish_listeners)
                if listener in kept:
                    kept.remove(listener)
                self._finish_listeners = tuple(kept)

        return remove

    def _tell_finished(self, record: JobRecord) -> None:
        for listener in self._finish_listeners:  # a tuple: adding one meanwhile is safe
            try:
                listener(record)
            except Exception:  # a listener's fault is not the job's
                log.exception("job finish listener %r failed on job %s", listener, record.id)

    # -- internals -------------------------------------------------------------------------------
    def _require(self) -> Any:
        if self._conn is None:
            raise RuntimeError("JobRunner.start() has not been called (or it was shut down)")
        return self._conn

    def _publish(self, record: JobRecord) -> None:
        for q in self._subscribers:
            try:
                q.put_nowait(record)
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    q.get_nowait()
                with contextlib.suppress(queue.Full):
                    q.put_nowait(record)
        self._changed.notify_all()

    def _store(self, record: JobRecord) -> None:
        with self._require():
            self._conn.execute(
                "UPDATE jobs SET state = ?, step = ?, done = ?, total = ?, rate = ?, eta = ?, "
                "message = ?, percent = ?, result = ?, error = ?, started = ?, finished = ? "
                "WHERE id = ?",
                (
                    record.state,
                    record.step,
                    record.done,
                    record.total,
                    record.rate,
                    record.eta,
                    record.message,
                    record.percent,
                    json.dumps(record.result, default=str) if record.result is not None else None,
                    record.error,
                    record.started.timestamp() if record.started else None,
                    record.finished.timestamp() if record.finished else None,
                    record.id,
                ),
            )

    def _update(self, item: _Live, record: JobRecord, *, force: bool) -> None:
        """Store and publish a new record: always when ``force``, else at most once a second."""
        with self._lock:
            if item.record.state.finished:
                return  # a late progress report after cancel/finish must not resurrect the job
            item.record = record
            now = time.monotonic()
            if force or now - item.published_at >= self._publish_interval:
                item.published_at = now
                self._store(record)
                self._publish(record)

    def _finish(
        self,
        item: _Live,
        state: JobState,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self._lock:
            if item.record.state.finished:
                return
            record = replace(
                item.record,
                state=state,
                result=result,
                error=error,
                finished=datetime.now(UTC),
                rate=None if state != JobState.DONE else item.record.rate,
                eta=None,
                percent=100.0 if state == JobState.DONE else item.record.percent,
            )
            item.record = record
            self._live.pop(record.id, None)
            self._store(record)
            self._publish(record)
        self._tell_finished(record)  # after the lock (cancel still holds it: keep listeners quick)

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                item = self._live.get(job_id)
            if item is None or item.record.state != JobState.QUEUED:
                continue  # cancelled while waiting
            self._run(item)

    def _run(self, item: _Live) -> None:
        started = replace(item.record, state=JobState.RUNNING, started=datetime.now(UTC))
        self._update(item, started, force=True)
        if item.record.state != JobState.RUNNING:
            return  # cancelled between leaving the queue and starting

        def progress(p: Progress) -> None:
            self._report(item, p)

        try:
            result = item.fn(progress, item.cancel)
        except Cancelled:
            self._finish(item, JobState.CANCELLED, error="cancelled")
        except Exception as exc:
            log.exception("job %s (%s) failed", item.record.id, item.record.title)
            self._finish(item, JobState.FAILED, error=f"{type(exc).__name__}: {exc}")
        else:
            if item.cancel.is_set():
                self._finish(item, JobState.CANCELLED, result=result, error="cancelled")
            else:
                self._finish(item, JobState.DONE, result=result)

    def _report(self, item: _Live, p: Progress) -> None:
        """One progress report: the label takes the stage and its own counts; the percent only
        moves forward, and only for a declared step."""
        with self._lock:
            current = item.record
            stage = p.stage or current.step
            percent = item.steps.percent(stage, p.done, p.total)
            if percent is None and stage not in item.undeclared:
                item.undeclared.add(stage or "")
                log.warning(
                    "job %s (%s) reported stage %r, which is not one of its steps %s; "
                    "its percent stays where it was",
                    current.id, current.title, stage, list(item.steps.names),
                )  # fmt: skip
            record = replace(
                current,
                step=stage,
                done=p.done,
                total=p.total,
                rate=p.rate,
                eta=p.eta,
                message=p.message,
                percent=max(current.percent, percent if percent is not None else 0.0),
            )
            self._update(item, record, force=stage != current.step)

    def _prune(self) -> None:
        """Keep the newest ``max_history`` finished jobs."""
        with self._require():
            self._conn.execute(
                "DELETE FROM jobs WHERE id NOT IN (SELECT id FROM jobs ORDER BY id DESC LIMIT ?) "
                "AND state NOT IN (?, ?)",
                (self._max_history, JobState.QUEUED, JobState.RUNNING),
            )
