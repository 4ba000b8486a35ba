"""The APScheduler executor capture jobs run on: daemon workers that grow with demand.

Why not APScheduler's ``ThreadPoolExecutor``:

* a fixed pool can be exhausted: a few hanging cameras (each held for its whole read timeout)
  would queue every other camera's capture behind them. Here a run that finds no idle worker
  gets a new one, so a hanging camera holds exactly one worker and delays nobody (with
  ``max_instances=1`` a job never has more than one run in flight, so the number of workers is
  bounded by the number of jobs);
* its workers are non-daemon threads that the interpreter joins at exit, so a camera stuck in a
  download would hold up shutdown. Ours are daemon threads: after :meth:`join`'s grace period a
  stuck capture is abandoned (captures check the stop event before writing, so it writes
  nothing);
* the job gets its *scheduled* fire time (:func:`fire_time`), which APScheduler 3.x passes to the
  executor but not to the job function.

Workers are kept and reused between slots: starting a thread waits for the new thread to get the
GIL, and 50 such hand-offs at the top of a minute would delay the last camera's request by tens
of milliseconds.
"""

from __future__ import annotations

import queue
import threading
import time
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job

__all__ = ["CaptureExecutor", "fire_time", "request_starting"]

_context = threading.local()


def fire_time() -> datetime | None:
    """The scheduled fire time of the job run on this thread (None outside a scheduled run)."""
    return getattr(_context, "fire_time", None)


def request_starting() -> None:
    """Tell the executor this run is about to send its request (see :meth:`CaptureExecutor.
    wait_for_starts`); a no-op outside a run or when already called."""
    executor = getattr(_context, "executor", None)
    if executor is not None:
        _context.executor = None
        executor._started_one()


class CaptureExecutor(BaseExecutor):  # type: ignore[misc]  # apscheduler 3 is untyped (Any)
    """Runs each job run on an idle daemon worker, or a new one when none is idle."""

    def __init__(self, name: str = "pylapse-capture") -> None:
        super().__init__()
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Any, list[datetime]] | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # one count per idle worker
        self._busy = 0
        self._busy_done = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._workers_lock = threading.Lock()
        self._closed = False
        self._unstarted = 0  # runs submitted that have not yet reached their request
        self._unstarted_cond = threading.Condition()

    def _started_one(self) -> None:
        with self._unstarted_cond:
            self._unstarted = max(0, self._unstarted - 1)
            if not self._unstarted:
                self._unstarted_cond.notify_all()

    def wait_for_starts(self, timeout: float) -> None:
        """Block up to ``timeout`` s until every submitted run has sent its request.

        CPU work (decoding and saving earlier frames) calls this first, so when a slot fires
        for many cameras at once their requests go out before the GIL is spent on JPEGs.
        """
        with self._unstarted_cond:
            self._unstarted_cond.wait_for(lambda: not self._unstarted, timeout)

    def prestart(self, count: int) -> None:
        """Start ``count`` idle workers now, so the first slot does not pay for thread starts."""
        for _ in range(count):
            self._spawn()
            self._idle.release()

    def _spawn(self) -> None:
        with self._workers_lock:
            thread = threading.Thread(
                target=self._work, name=f"{self.name}-{len(self._workers)}", daemon=True
            )
            self._workers.append(thread)
        thread.start()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        with self._busy_done:
            self._busy += 1
        with self._unstarted_cond:
            self._unstarted += 1
        self._queue.put((job, run_times))
        if not self._idle.acquire(blocking=False):
            self._spawn()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, run_times = item
            _context.executor = self
            try:
                self._run(job, run_times)
            finally:
                request_starting()  # runs that skipped, failed early or missed their slot
                with self._busy_done:
                    self._busy -= 1
                    self._busy_done.notify_all()
                _context.fire_time = None
            self._idle.release()

    def _run(self, job: Any, run_times: list[datetime]) -> None:
        events = []
        try:
            for run_time in run_times:
                _context.fire_time = run_time
                events += run_job(job, job._jobstore_alias, [run_time], self._logger.name)
        except BaseException as exc:
            self._run_job_error(job.id, exc, exc.__traceback__)
        else:
            self._run_job_success(job.id, events)

    @property
    def workers(self) -> int:
        with self._workers_lock:
            return len(self._workers)

    def join(self, timeout: float) -> int:
        """Wait up to ``timeout`` s for runs in flight; returns how many are still running."""
        deadline = time.monotonic() + timeout
        with self._busy_done:
            while self._busy and (left := deadline - time.monotonic()) > 0:
                self._busy_done.wait(left)
            return self._busy

    def shutdown(self, wait: bool = True) -> None:
        """Tell idle workers to exit; busy ones exit after their run (they are daemons)."""
        if self._closed:
            return
        self._closed = True
        with self._workers_lock:
            count = len(self._workers)
        for _ in range(count):
            self._queue.put(None)
