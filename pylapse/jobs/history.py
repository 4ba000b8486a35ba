"""The job history outside a running :class:`~pylapse.jobs.runner.JobRunner`: finished jobs
written from elsewhere (an import of another tool's history) and found again by a parameter.

These open the history database on their own, so they work whether or not a runner has ever
started there, and never touch jobs a running dashboard holds (only ``INSERT``s of finished
rows and reads).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pylapse import db
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import _SCHEMA

__all__ = ["FinishedJob", "add_finished", "find_by_param"]


@dataclass(frozen=True)
class FinishedJob:
    """A job that ran elsewhere: shown in the history as done at ``when`` (epoch seconds)."""

    kind: str
    title: str
    when: float
    steps: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    total: int = 0
    message: str = ""


def _open(db_path: str | os.PathLike[str]) -> db.Connection:
    conn = db.connect(Path(db_path))
    db.migrate(conn, "jobs", _SCHEMA)  # the runner's own schema: the rows look like its own
    return conn


def add_finished(db_path: str | os.PathLike[str], jobs: Sequence[FinishedJob]) -> list[int]:
    """Write ``jobs`` as finished rows, in one transaction; returns their ids in order."""
    conn = _open(db_path)
    ids = []
    try:
        with db.transaction(conn):
            for job in jobs:
                cursor = conn.execute(
                    "INSERT INTO jobs (kind, title, state, steps, step, done, total, message, "
                    "params, result, created, started, finished, percent) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 100) RETURNING id",
                    (
                        job.kind,
                        job.title,
                        JobState.DONE.value,
                        json.dumps(list(job.steps)),
                        job.steps[-1] if job.steps else None,
                        job.total,
                        job.total,
                        job.message,
                        json.dumps(job.params),
                        json.dumps(job.result),
                        job.when,
                        job.when,
                        job.when,
                    ),
                )
                ids.append(int(cursor.fetchone()[0]))
    finally:
        conn.close()
    return ids


def find_by_param(
    db_path: str | os.PathLike[str], key: str, value: str
) -> list[tuple[str, dict[str, Any]]]:
    """(kind, params) of every job whose ``params[key]`` is ``value`` (none when the history
    does not exist yet)."""
    if not Path(db_path).exists():
        return []
    conn = db.connect(Path(db_path))
    try:
        if db.schema_version(conn, "jobs") == 0:
            return []
        rows = conn.execute(
            "SELECT kind, params FROM jobs WHERE json_extract(params, '$.' || ?) = ?",
            (key, value),
        ).fetchall()
    finally:
        conn.close()
    return [(str(kind), json.loads(params)) for kind, params in rows]
