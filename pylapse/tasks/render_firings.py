"""Each render schedule's last firing, in the index database (issue 21 §2).

Capture hosts sharing an index share this record: the host holding the site duty fires the
render schedules (:attr:`pylapse.capture.scheduler.CaptureScheduler.has_duty`), and a host
taking the duty over after its holder died starts from the dead holder's last firing, neither
repeating a render it made nor skipping one it did not. Each host's data folder is its own on
several machines, so a file there could not be this record.

A firing is claimed before it runs, in one transaction that moves the schedule's last firing
only from the value the claimer read: should two hosts both believe they hold the duty for a
moment (one's heartbeat held up past its lease), only one of them runs the firing.

The claim also records the firing as *pending*, with the claimer's token (one per timer, so
per process), until the claimer says it :meth:`~FiringLog.finish`-ed (rendered, or failed for
good). A pending firing under another token is one whose claimer died mid-render (a host that
lost the duty, or this host before a restart): the next duty holder :meth:`~FiringLog.adopt`-s
it, in a transaction that moves the token only from the one it read, and renders it again.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from pylapse import db

__all__ = ["LEGACY_NAME", "FiringLog"]

_COMPONENT = "render_firings"
_STEPS = [
    """
    CREATE TABLE render_firings (
        schedule_id TEXT PRIMARY KEY,
        last_at DOUBLE PRECISION NOT NULL
    );
    """,
    # the firing claimed and not finished yet (its fire time, UTC seconds) and its claimer
    """
    ALTER TABLE render_firings ADD COLUMN pending_fire DOUBLE PRECISION;
    ALTER TABLE render_firings ADD COLUMN pending_token TEXT;
    """,
]
LEGACY_NAME = "render_schedules.json"  # the data folder's record before it moved to the index


class FiringLog:
    """The last firing of each render schedule (UTC seconds), on one connection."""

    def __init__(self, location: str | os.PathLike[str], legacy: Path | None = None) -> None:
        """``legacy``: a data folder whose ``render_schedules.json`` (pyLapse before the
        record moved here) fills in schedules the index has no firing of yet."""
        self._lock = threading.Lock()
        self._conn = db.connect(location)
        db.migrate(self._conn, _COMPONENT, _STEPS)
        if legacy is not None:
            self._adopt(_read_legacy(legacy / LEGACY_NAME))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def last(self) -> dict[str, float]:
        """Every schedule's last firing (or first sighting), by schedule id."""
        with self._lock:
            rows = self._conn.execute("SELECT schedule_id, last_at FROM render_firings").fetchall()
        return {str(row[0]): float(row[1]) for row in rows}

    def claim(
        self,
        schedule_id: str,
        seen: float | None,
        now: float,
        pending: tuple[float, str] | None = None,
    ) -> bool:
        """Move ``schedule_id``'s last firing from ``seen`` (None: none yet) to ``now``; False
        when it is no longer ``seen`` (another process fired or first saw it meanwhile).
        ``pending``: the firing's time (UTC seconds) and the claimer's token, kept until
        :meth:`finish` (None: nothing to run, as for a schedule first seen)."""
        fire, token = pending if pending is not None else (None, None)
        with self._lock, db.transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT last_at FROM render_firings WHERE schedule_id = ?", (schedule_id,)
            ).fetchone()
            if (None if row is None else float(row[0])) != seen:
                return False
            if row is None:
                conn.execute(
                    "INSERT INTO render_firings (schedule_id, last_at, pending_fire, "
                    "pending_token) VALUES (?, ?, ?, ?)",
                    (schedule_id, now, fire, token),
                )
            else:
                conn.execute(
                    "UPDATE render_firings SET last_at = ?, pending_fire = ?, pending_token = ? "
                    "WHERE schedule_id = ?",
                    (now, fire, token, schedule_id),
                )
        return True

    def finish(self, schedule_id: str, token: str) -> None:
        """The firing ``token`` claimed (or adopted) is done: rendered, or failed for good."""
        with self._lock, db.transaction(self._conn) as conn:
            conn.execute(
                "UPDATE render_firings SET pending_fire = NULL, pending_token = NULL "
                "WHERE schedule_id = ? AND pending_token = ?",
                (schedule_id, token),
            )

    def pending(self) -> dict[str, tuple[float, str]]:
        """Firings claimed and not finished: schedule id -> (fire time, claimer's token)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT schedule_id, pending_fire, pending_token FROM render_firings "
                "WHERE pending_token IS NOT NULL AND pending_fire IS NOT NULL"
            ).fetchall()
        return {str(r[0]): (float(r[1]), str(r[2])) for r in rows}

    def adopt(self, schedule_id: str, token: str, mine: str) -> bool:
        """Take over the pending firing of ``schedule_id`` from ``token`` (a claimer that died);
        False when it is no longer that claimer's (finished, or adopted by another host)."""
        with self._lock, db.transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT pending_token FROM render_firings WHERE schedule_id = ?", (schedule_id,)
            ).fetchone()
            if row is None or row[0] != token:
                return False
            conn.execute(
                "UPDATE render_firings SET pending_token = ? WHERE schedule_id = ?",
                (mine, schedule_id),
            )
        return True

    def _adopt(self, found: dict[str, float]) -> None:
        known = self.last()
        for schedule_id, when in sorted(found.items()):
            if schedule_id not in known:
                self.claim(schedule_id, None, when)


def _read_legacy(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    try:
        return {str(k): float(v) for k, v in data.items()}
    except (TypeError, ValueError):
        return {}
