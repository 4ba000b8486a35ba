"""What a job is and where it got to: :class:`JobState` and :class:`JobRecord` (one row of the
``jobs`` table), as the :class:`~pylapse.jobs.JobRunner` stores and publishes them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pylapse.progress import Progress

__all__ = ["JobNotFound", "JobQueueFull", "JobRecord", "JobState", "record_from_row"]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class JobQueueFull(RuntimeError):
    """The queue holds ``queue_size`` jobs already; try again when one has finished."""


class JobNotFound(KeyError):
    """No job with that id (never existed, or pruned from the history)."""


def utc(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job as stored: what it is, where it got to, and how it ended."""

    id: int
    kind: str
    title: str
    state: JobState
    steps: tuple[str, ...]
    step: str | None = None
    done: int = 0
    total: int = 0
    rate: float | None = None
    eta: float | None = None
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: datetime | None = None
    finished: datetime | None = None

    @property
    def step_percent(self) -> float:
        """Progress within the current step, 0-100."""
        return Progress(self.step or "", self.done, self.total).percent

    @property
    def percent(self) -> float:
        """Overall progress, 0-100: each named step is an equal share."""
        if self.state == JobState.DONE:
            return 100.0
        if self.step in self.steps:
            index = self.steps.index(self.step)
            return (index + self.step_percent / 100) * 100 / len(self.steps)
        return self.step_percent

    @property
    def active(self) -> bool:
        return not self.state.finished

    @property
    def elapsed(self) -> float | None:
        if self.started is None:
            return None
        end = self.finished or datetime.now(UTC)
        return (end - self.started).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API and SSE."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": str(self.state),
            "steps": list(self.steps),
            "step": self.step,
            "done": self.done,
            "total": self.total,
            "percent": round(self.percent, 1),
            "step_percent": round(self.step_percent, 1),
            "rate": self.rate,
            "eta": self.eta,
            "message": self.message,
            "params": self.params,
            "result": self.result,
            "error": self.error,
            "created": self.created.isoformat(),
            "started": self.started.isoformat() if self.started else None,
            "finished": self.finished.isoformat() if self.finished else None,
        }


def record_from_row(row: Any) -> JobRecord:
    """A JobRecord from a ``jobs`` row (sqlite3.Row)."""
    return JobRecord(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        state=JobState(row["state"]),
        steps=tuple(json.loads(row["steps"])),
        step=row["step"],
        done=row["done"],
        total=row["total"],
        rate=row["rate"],
        eta=row["eta"],
        message=row["message"],
        params=json.loads(row["params"]),
        result=json.loads(row["result"]) if row["result"] else None,
        error=row["error"],
        created=utc(row["created"]) or datetime.now(UTC),
        started=utc(row["started"]),
        finished=utc(row["finished"]),
    )
