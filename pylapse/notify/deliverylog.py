"""The delivery log: every message a rule sent or tried to send, in ``pylapse.db``.

One row per message (a test included), updated as its attempts go: ``pending`` while it waits
for its first try or a retry, then ``delivered`` or ``failed`` with what the target said. Only
masked targets and masked details are stored: the log is shown on the settings page. Rows a
crashed process left ``pending`` are closed as failed when a log opens and finds them untouched
for :data:`STALE_AFTER` (longer than any retry waits, so the rows of another process that is
still sending, a dashboard beside ``pylapse notify test``, are left alone). The newest
:data:`KEEP` rows are kept.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pylapse import db

__all__ = ["KEEP", "Delivery", "DeliveryLog", "DeliveryStatus"]

KEEP = 500
STALE_AFTER = 3600.0  # seconds without an update: the process sending it is gone
_COMPONENT = "notify"
_STEPS = [
    """
    CREATE TABLE notify_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        event TEXT NOT NULL,
        subject TEXT NOT NULL,
        event_time REAL NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '',
        test INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE INDEX notify_deliveries_by_rule ON notify_deliveries (rule, id);
    """,
]
STOPPED = "pyLapse stopped before this was delivered"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    id: int
    rule: str
    event: str
    subject: str
    event_time: datetime
    target: str  # masked
    status: DeliveryStatus
    attempts: int
    detail: str  # masked
    test: bool
    updated: datetime


class DeliveryLog:
    """Rows of ``notify_deliveries``; one connection, used by one thread at a time."""

    def __init__(
        self, db_path: str | os.PathLike[str], keep: int = KEEP, stale_after: float = STALE_AFTER
    ) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._conn = db.connect(db_path)
        db.migrate(self._conn, _COMPONENT, _STEPS)
        with self._conn:
            self._conn.execute(
                "UPDATE notify_deliveries SET status = ?, detail = ? "
                "WHERE status = ? AND updated <= ?",
                (DeliveryStatus.FAILED, STOPPED, DeliveryStatus.PENDING, time.time() - stale_after),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(
        self, rule: str, event: str, subject: str, event_time: datetime, target: str, *, test: bool
    ) -> int:
        """A new pending row; returns its id."""
        now = time.time()
        with self._lock, self._conn:
            cursor = self._conn.execute(
                "INSERT INTO notify_deliveries (rule, event, subject, event_time, target, "
                "status, test, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (rule, event, subject, event_time.timestamp(), target,
                 DeliveryStatus.PENDING, int(test), now, now),
            )  # fmt: skip
            row_id = int(cursor.fetchone()[0])
            if row_id % 50 == 0:  # now and then, not on every row
                self._conn.execute(
                    "DELETE FROM notify_deliveries WHERE id <= ?", (row_id - self._keep,)
                )
        return row_id

    def update(self, row_id: int, status: DeliveryStatus, attempts: int, detail: str) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "UPDATE notify_deliveries SET status = ?, attempts = ?, detail = ?, updated = ? "
                "WHERE id = ?",
                (status, attempts, detail, time.time(), row_id),
            )

    def recent(self, limit: int = 25, rule: str | None = None) -> list[Delivery]:
        """The newest rows first (of one rule, or all)."""
        where, args = ("WHERE rule = ?", (rule,)) if rule is not None else ("", ())
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM notify_deliveries {where} ORDER BY id DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [_delivery(row) for row in rows]

    def get(self, row_id: int) -> Delivery | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM notify_deliveries WHERE id = ?", (row_id,)
            ).fetchone()
        return _delivery(row) if row else None


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(
        id=int(row["id"]),
        rule=str(row["rule"]),
        event=str(row["event"]),
        subject=str(row["subject"]),
        event_time=datetime.fromtimestamp(row["event_time"], UTC),
        target=str(row["target"]),
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
        detail=str(row["detail"]),
        test=bool(row["test"]),
        updated=datetime.fromtimestamp(row["updated"], UTC),
    )
