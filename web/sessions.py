"""Login sessions kept on the server, in the ``sessions`` table of the data folder's pylapse.db.

The browser's cookie holds only a signed random id (see :mod:`web.security`); this table says
which ids are logged in, until when, and with which password. So a copied cookie stops working
the moment its session ends, also across a restart:

* logging out deletes the row;
* a password change (``pylapse set-password``, picked up from the config file) makes every row
  made with the old password invalid: each row carries a tag of the password hash it logged in
  with, compared on every request;
* a row expires :data:`SESSION_MAX_AGE` after the login, whatever the cookie claims.

Rows hold a SHA-256 of the id, not the id: a copy of the database is not a set of cookies.
Rows of ended sessions (expired, or made with another password) are deleted at the next login.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pylapse import db

__all__ = ["SESSION_MAX_AGE", "SessionStore", "SessionStoreError"]

log = logging.getLogger(__name__)

SESSION_MAX_AGE = 14 * 24 * 3600

_SCHEMA = [
    """
    CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY,
        password_tag TEXT NOT NULL,
        created REAL NOT NULL,
        expires REAL NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires);
    """,
]


class SessionStoreError(RuntimeError):
    """A session could not be saved (e.g. the disk holding the data folder is full)."""


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """The logged-in sessions; every method may be called from any thread.

    ``clock`` (wall-clock seconds) is read for every decision; tests replace it."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        max_age: float = SESSION_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_age = max_age
        self.clock = clock
        self._db_path = Path(db_path)
        self._lock = threading.Lock()
        self._db: db.Connection | None = None

    @property
    def _conn(self) -> db.Connection:
        """The connection, opened on first use and again after :meth:`close` (an app that is
        served again after a shutdown, as tests do)."""
        if self._db is None:
            conn = db.connect(self._db_path)
            try:
                db.migrate(conn, "sessions", _SCHEMA)
            except BaseException:
                conn.close()
                raise
            self._db = conn
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def create(self, session_id: str, password_tag: str) -> None:
        """Record a login; raises :class:`SessionStoreError` when it cannot be saved."""
        now = self.clock()
        try:
            with self._lock, self._conn:
                # rows of ended sessions go now: expired, or made with another password
                self._conn.execute(
                    "DELETE FROM sessions WHERE expires <= ? OR password_tag != ?",
                    (now, password_tag),
                )
                self._conn.execute(
                    "INSERT OR REPLACE INTO sessions (id_hash, password_tag, created, expires) "
                    "VALUES (?, ?, ?, ?)",
                    (_hash(session_id), password_tag, now, now + self.max_age),
                )
        except sqlite3.Error as exc:
            raise SessionStoreError(f"the login could not be saved in {db.DB_NAME}: {exc}") from exc

    def valid(self, session_id: str, password_tag: str) -> bool:
        """Whether ``session_id`` is logged in, with the password that is set now."""
        try:
            with self._lock:
                row = self._conn.execute(
                    "SELECT password_tag, expires FROM sessions WHERE id_hash = ?",
                    (_hash(session_id),),
                ).fetchone()
        except sqlite3.Error as exc:
            log.warning("login sessions cannot be read (%s); asking to log in again", exc)
            return False
        if row is None or not password_tag:
            return False
        return row["password_tag"] == password_tag and row["expires"] > self.clock()

    def revoke(self, session_id: str) -> None:
        """End the session (log out). A failure to write is logged; the caller forgets the
        session anyway, so this browser is logged out."""
        try:
            with self._lock, self._conn:
                self._conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(session_id),))
        except sqlite3.Error as exc:
            log.warning("a logged-out session could not be deleted from %s: %s", db.DB_NAME, exc)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0])
