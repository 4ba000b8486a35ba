"""One job from many Celery tasks: send them, add up their progress, revoke them on cancel.

The JobRunner keeps running the job (its record, history and SSE stay as they are); the job's
function calls :func:`run_tasks`, which sends each part of the work as a Celery task and polls
the result backend until every task has finished. Tasks report how many of their items they have
done with ``update_state(state="PROGRESS", meta={"done": n})``; the sum over all tasks goes up
through the job's ordinary progress callback. Cancel (or any task failing) revokes every task
that has not finished, with ``terminate=True`` so a running one is stopped in its worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report

__all__ = ["PROGRESS", "TaskCall", "TaskFailed", "run_tasks"]

#: the state a running task reports its count under
PROGRESS = "PROGRESS"
#: tasks whose state one poll reads: the first of those not finished yet
POLL_WINDOW = 256
_FAILED = ("FAILURE", "REVOKED")


@dataclass(frozen=True, slots=True)
class TaskCall:
    """One task to send: its registered ``name``, its JSON ``args`` and how many items
    (frames) it covers, which is what its progress counts up to."""

    name: str
    args: tuple[Any, ...]
    items: int


class TaskFailed(RuntimeError):
    """A task of the job failed in its worker; the message carries the worker's error."""


def run_tasks(
    app: Any,
    calls: Sequence[TaskCall],
    *,
    queue: str,
    stage: str,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    poll: float = 0.3,
) -> list[Any]:
    """Send ``calls`` to ``queue`` and wait for all of them; their results, in order.

    Raises :class:`Cancelled` when ``cancel`` is set and :class:`TaskFailed` when a task fails;
    either way every task not yet finished is revoked first.
    """
    cancel = cancel or threading.Event()
    if cancel.is_set():
        raise Cancelled("cancelled before any task was sent")
    total = sum(c.items for c in calls)
    ids: list[str] = []
    try:
        for call in calls:
            ids.append(app.send_task(call.name, args=list(call.args), queue=queue).id)
    except Exception as exc:  # kombu's OperationalError and friends: the broker is not there
        _revoke(app, ids)
        raise TaskFailed(f"cannot send tasks to the broker: {exc}") from exc
    done = [0] * len(calls)
    results: list[Any] = [None] * len(calls)
    pending = set(range(len(calls)))
    started = time.monotonic()
    safe_report(progress, Progress(stage, 0, total))
    try:
        while pending:
            if cancel.wait(poll):
                raise Cancelled("cancelled; its tasks were revoked")
            before = sum(done)
            # workers take tasks in the order sent, so the running ones are among the first
            # pending: a year's export sends thousands of tasks, and reading all their states
            # every poll would move megabytes a second for nothing
            window = sorted(pending)[:POLL_WINDOW]
            for index, meta in _states(app, [(i, ids[i]) for i in window]):
                status = meta.get("status")
                if status == "SUCCESS":
                    results[index], done[index] = meta.get("result"), calls[index].items
                    pending.discard(index)
                elif status in _FAILED:
                    raise TaskFailed(f"task {calls[index].name} {ids[index]}: {_error(meta)}")
                elif status == PROGRESS and isinstance(meta.get("result"), dict):
                    # a task redone after its worker died starts again from 0: keep the most
                    seen = min(calls[index].items, int(meta["result"].get("done", 0)))
                    done[index] = max(done[index], seen)
            if sum(done) != before or not pending:
                safe_report(progress, _report(stage, sum(done), total, started))
    except BaseException:
        _revoke(app, [ids[i] for i in sorted(pending)])
        raise
    for task_id in ids:
        app.backend.forget(task_id)  # the job's own record keeps what matters
    return results


def _states(app: Any, wanted: list[tuple[int, str]]) -> list[tuple[int, dict[str, Any]]]:
    """The stored state of each (index, task id) that has one, read in one round trip."""
    backend = app.backend
    raw = backend.mget([backend.get_key_for_task(task_id) for _, task_id in wanted])
    out = []
    for (index, _), value in zip(wanted, raw, strict=True):
        if value is not None:
            out.append((index, backend.decode_result(value)))
    return out


def _error(meta: dict[str, Any]) -> str:
    result = meta.get("result")
    if isinstance(result, BaseException):  # the backend rebuilds the worker's exception
        return f"{type(result).__name__}: {result}"
    if isinstance(result, dict) and "exc_message" in result:
        message = result.get("exc_message")
        text = " ".join(str(m) for m in message) if isinstance(message, list | tuple) else message
        return f"{result.get('exc_type', 'error')}: {text}"
    return f"{meta.get('status')}: {result}"


def _revoke(app: Any, ids: list[str]) -> None:
    if ids:
        # terminate: a running task's process is stopped as well, not only queued ones dropped
        app.control.revoke(ids, terminate=True, signal="SIGTERM")


def _report(stage: str, done: int, total: int, started: float) -> Progress:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = done / elapsed
    eta = (total - done) / rate if rate > 0 else None
    return Progress(stage, done, total, rate=rate, eta=eta)
