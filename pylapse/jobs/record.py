"""What a job is and where it got to: :class:`JobState`, :class:`JobSteps` (the steps a job
declares, each with its share of the bar) and :class:`JobRecord` (one row of the ``jobs`` table),
as the :class:`~pylapse.jobs.JobRunner` stores and publishes them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pylapse.progress import Progress

__all__ = [
    "JobNotFound",
    "JobQueueFull",
    "JobRecord",
    "JobState",
    "JobSteps",
    "StepsSpec",
    "record_from_row",
]


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


StepsSpec = Sequence[str] | Mapping[str, float]


@dataclass(frozen=True, slots=True)
class JobSteps:
    """The steps a job declares, in the order it reports them, each weighing its share of the
    bar: ``("select", "encode")`` shares it equally, ``{"select": 1, "encode": 19}`` gives
    choosing the frames 5 % and encoding them 95 %, which is closer to what each costs."""

    names: tuple[str, ...]
    weights: tuple[float, ...]

    @classmethod
    def of(cls, steps: StepsSpec) -> JobSteps:
        """Checked steps; ``ValueError`` names a step given twice or a weight that is not > 0."""
        pairs = list(steps.items()) if isinstance(steps, Mapping) else [(s, 1.0) for s in steps]
        if not pairs:
            pairs = [("run", 1.0)]
        names: list[str] = []
        for name, weight in pairs:
            if name in names:
                raise ValueError(f"step {name!r} is declared twice; each step is named once")
            if not isinstance(weight, int | float) or not math.isfinite(weight) or weight <= 0:
                raise ValueError(f"the weight of step {name!r} must be a positive number, "
                                 f"got {weight!r}")  # fmt: skip
            names.append(name)
        return cls(tuple(names), tuple(float(w) for _, w in pairs))

    def percent(self, stage: str | None, done: int, total: int) -> float | None:
        """Overall 0-100 when ``stage`` has done ``done`` of ``total``; None for a stage that
        is not a declared step (it has no place on the bar)."""
        if stage not in self.names:
            return None
        index = self.names.index(stage)
        before = sum(self.weights[:index])
        fraction = Progress(stage, done, total).percent / 100
        return 100 * (before + self.weights[index] * fraction) / sum(self.weights)


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
    # overall 0-100, set by the runner from the declared steps' weights; it never goes back
    percent: float = 0.0
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
    def step_number(self) -> int | None:
        """1-based position of the current step among the declared ones (None if not one)."""
        return self.steps.index(self.step) + 1 if self.step in self.steps else None

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
        percent=row["percent"],
        params=json.loads(row["params"]),
        result=json.loads(row["result"]) if row["result"] else None,
        error=row["error"],
        created=utc(row["created"]) or datetime.now(UTC),
        started=utc(row["started"]),
        finished=utc(row["finished"]),
    )
