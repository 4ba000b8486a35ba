"""How many bytes a camera captures: per-hour totals in the index database's
``capture_volume`` table, and the rate per day the disk-full estimate reads
(:func:`pylapse.capture.disk.volume_usage`).

The totals are kept apart from the capture log, for a week (:data:`VOLUME_HOURS`): the log is
trimmed by rows and would hold minutes of a busy installation, while the estimate needs a
whole day so day and night frames of different sizes average out. The caller
(:class:`~pylapse.capture.health.HealthStore`) holds the connection's lock and transaction.
"""

from __future__ import annotations

import time
from datetime import datetime

from pylapse import db

__all__ = ["MIN_RATE_SPAN", "VOLUME_HOURS", "add_volume", "bytes_per_day"]

# Hours of capture volume kept per camera (the estimate reads the last day of them).
VOLUME_HOURS = 8 * 24
# The shortest span a rate is taken over: a camera's first frames alone would make a rate from
# seconds of capture.
MIN_RATE_SPAN = 600.0


def add_volume(
    conn: db.Connection, camera_id: str, when: datetime, size: int, *, trim: bool
) -> None:
    """Count a saved frame of ``size`` bytes in its hour; ``trim``: also drop the hours older
    than :data:`VOLUME_HOURS` (done now and then, like the log's trim)."""
    utc = when.timestamp()
    hour = int(utc // 3600)
    conn.execute(
        "INSERT INTO capture_volume(camera_id, hour, bytes, frames, first_utc)"
        " VALUES (?, ?, ?, 1, ?) ON CONFLICT(camera_id, hour) DO UPDATE SET"
        " bytes = capture_volume.bytes + excluded.bytes,"
        " frames = capture_volume.frames + 1,"
        # no two-argument MIN() on PostgreSQL
        " first_utc = CASE WHEN excluded.first_utc < capture_volume.first_utc"
        " THEN excluded.first_utc ELSE capture_volume.first_utc END",
        (camera_id, hour, int(size), utc),
    )
    if trim:
        conn.execute("DELETE FROM capture_volume WHERE hour < ?", (hour - VOLUME_HOURS,))


def bytes_per_day(conn: db.Connection, camera_id: str, days: float = 1.0) -> float | None:
    """A camera's capture volume in bytes per day, over the last ``days`` (a whole day by
    default, so day and night frames of different sizes average out; a camera younger than
    that over its age, at least ten minutes); ``None`` before any frame."""
    now = time.time()
    since = now - days * 86400
    row = conn.execute(
        "SELECT SUM(bytes), MIN(first_utc) FROM capture_volume WHERE camera_id = ? AND hour >= ?",
        (camera_id, int(since // 3600)),
    ).fetchone()
    total = int(row[0] or 0)  # SUM of a BIGINT is a NUMERIC (a Decimal) on PostgreSQL
    if not total:
        return None
    # the window's first hour may hold frames from just before ``since``: they count
    start = max(float(row[1]), (since // 3600) * 3600)
    return total / max(MIN_RATE_SPAN, now - start) * 86400
