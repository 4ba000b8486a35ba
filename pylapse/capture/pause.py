"""Durable pause: which cameras are paused (or all of them), kept in ``pylapse.db``.

A pause is a user's decision, so it outlives everything that is not the user: camera edits,
config reloads and restarts of the web app or of ``autocapture.py``. The set of paused scopes is
small and read on every fire, so it is held in memory and written through to SQLite.
"""

from __future__ import annotations

import os
import threading
import time

from pylapse import db

__all__ = ["ALL", "PauseStore"]

ALL = "*"  # the scope meaning every camera
_COMPONENT = "scheduler"
_STEPS = ["CREATE TABLE capture_pause (scope TEXT PRIMARY KEY, since_utc REAL NOT NULL)"]


class PauseStore:
    """Paused scopes: :data:`ALL` or camera ids."""

    def __init__(self, db_path: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._conn = db.connect(db_path)
        db.migrate(self._conn, _COMPONENT, _STEPS)
        self._scopes = {r[0] for r in self._conn.execute("SELECT scope FROM capture_pause")}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def everything(self) -> bool:
        return ALL in self._scopes

    def is_paused(self, camera_id: str | None = None) -> bool:
        """True when everything is paused, or ``camera_id`` is."""
        scopes = self._scopes
        return ALL in scopes or (camera_id is not None and camera_id in scopes)

    def cameras(self) -> set[str]:
        """The cameras paused one by one (not counting a pause of everything)."""
        return {s for s in self._scopes if s != ALL}

    def pause(self, scope: str = ALL) -> None:
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO capture_pause(scope, since_utc) VALUES (?, ?)",
                (scope, time.time()),
            )
            self._scopes = self._scopes | {scope}

    def resume(self, scope: str = ALL) -> None:
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM capture_pause WHERE scope = ?", (scope,))
            self._scopes = self._scopes - {scope}
