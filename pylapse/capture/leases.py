"""Camera leases in the index database: which capture host runs which camera (issue 21 §2).

Several ``pylapse capture`` hosts (or a dashboard and a headless capture on one machine) may run
on one config, index and frame storage. A camera is captured only by the holder of its lease, a
row of ``capture_leases``: who holds it (host name + pid + a random token, so a restarted
process never mistakes its predecessor's lease for its own), since when, its last heartbeat and
when it expires. A holder renews its leases every few seconds; a lease not renewed expires, and
another host may then take the camera. Taking and renewing are one statement, an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` that only overwrites a lease that is the taker's
own or has expired, so two hosts racing for a camera cannot both win, on SQLite or PostgreSQL.

``capture_hosts`` has a row per running scheduler with its own heartbeat, so the dashboard can
say when each host was last heard of (a host holding no camera, too). A clean stop releases the
leases and removes the row; a dead host's row stays, with its last heartbeat, until a day later.

One more lease is not a camera's: :data:`SITE_DUTY`, the site-wide duty. Its holder runs what
must run once for the whole site, not once per host (the render schedules); it is taken, renewed
and expires like a camera's lease, so when its holder dies another host takes the duty over.

Times are UTC seconds from each host's own clock: hosts must keep their clocks in step (NTP)
to well under a lease's length. The SQL is portable (``?`` parameters, standard SQL, no
PRAGMAs) so the same store runs on PostgreSQL through :func:`pylapse.db.connect`.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pylapse import db

__all__ = ["HOST_ROWS_KEPT", "SITE_DUTY", "HostBeat", "Lease", "LeaseHolder", "LeaseStore"]

_COMPONENT = "leases"
_STEPS = [
    """
    CREATE TABLE capture_leases (
        camera_id TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        acquired_at DOUBLE PRECISION NOT NULL,
        heartbeat_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE capture_hosts (
        holder TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        heartbeat_at DOUBLE PRECISION NOT NULL
    );
    """
]
# The site-wide duty's key in capture_leases: '/' is refused in every config id
# (pylapse.config.models._check_ids), so no camera can ever be named so.
SITE_DUTY = "/duty"
HOST_ROWS_KEPT = 86400.0  # seconds a dead host's row is kept after its last heartbeat

# Takes the camera when it is free, ours already, or its lease expired; else changes nothing.
# A renewal keeps the first acquired_at, a takeover starts a new one.
_TAKE = """
INSERT INTO capture_leases (camera_id, holder, host, pid, acquired_at, heartbeat_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (camera_id) DO UPDATE SET
    acquired_at = CASE WHEN capture_leases.holder = excluded.holder
                       THEN capture_leases.acquired_at ELSE excluded.acquired_at END,
    holder = excluded.holder,
    host = excluded.host,
    pid = excluded.pid,
    heartbeat_at = excluded.heartbeat_at,
    expires_at = excluded.expires_at
WHERE capture_leases.holder = excluded.holder OR capture_leases.expires_at <= excluded.heartbeat_at
"""
_LEASE_COLUMNS = "camera_id, holder, host, pid, acquired_at, heartbeat_at, expires_at"


@dataclass(frozen=True)
class LeaseHolder:
    """One running scheduler: its host's name, its pid, and a token unique to this start."""

    host: str
    pid: int
    token: str

    @classmethod
    def this_process(cls, host: str) -> LeaseHolder:
        return cls(host, os.getpid(), secrets.token_hex(6))

    @property
    def id(self) -> str:
        return f"{self.host}/{self.pid}/{self.token}"


@dataclass(frozen=True)
class Lease:
    camera_id: str
    holder: str  # a LeaseHolder.id
    host: str
    pid: int
    acquired_at: float
    heartbeat_at: float
    expires_at: float

    def live(self, now: float | None = None) -> bool:
        return self.expires_at > (time.time() if now is None else now)

    def describe(self) -> str:
        return f"host {self.host} (pid {self.pid})"


@dataclass(frozen=True)
class HostBeat:
    holder: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float


def _lease(row: Any) -> Lease:
    return Lease(str(row[0]), str(row[1]), str(row[2]), int(row[3]), *map(float, row[4:7]))


class LeaseStore:
    """The lease and host tables on one connection (thread-safe: one statement at a time)."""

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._conn = db.connect(location)
        db.migrate(self._conn, _COMPONENT, _STEPS)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- leases --------------------------------------------------------------------------------

    def take(
        self, holder: LeaseHolder, camera_ids: Iterable[str], seconds: float,
        now: float | None = None, *, beat: bool = False,
    ) -> dict[str, Lease]:  # fmt: skip
        """Take or renew the lease of each camera for ``seconds`` where it is free, ours or
        expired; return the lease in effect for each camera afterwards (ours or another's).
        ``beat``: record the holder's heartbeat too (:meth:`beat`), in the same transaction:
        one commit per heartbeat, which on a Pi's SD card is what a heartbeat costs."""
        now = time.time() if now is None else now
        ids = sorted(set(camera_ids))
        found: dict[str, Lease] = {}
        with self._lock, db.transaction(self._conn) as conn:
            if beat:
                self._beat(conn, holder, now)
            for camera_id in ids:
                conn.execute(
                    _TAKE,
                    (camera_id, holder.id, holder.host, holder.pid, now, now, now + seconds),
                )
                row = conn.execute(
                    f"SELECT {_LEASE_COLUMNS} FROM capture_leases WHERE camera_id = ?",
                    (camera_id,),
                ).fetchone()
                found[camera_id] = _lease(row)
        return found

    def release(self, holder: LeaseHolder, camera_ids: Iterable[str] | None = None) -> None:
        """Give up ``camera_ids`` (None: every lease ``holder`` has)."""
        with self._lock, db.transaction(self._conn) as conn:
            if camera_ids is None:
                conn.execute("DELETE FROM capture_leases WHERE holder = ?", (holder.id,))
                return
            for camera_id in sorted(set(camera_ids)):
                conn.execute(
                    "DELETE FROM capture_leases WHERE holder = ? AND camera_id = ?",
                    (holder.id, camera_id),
                )

    def leases(self) -> list[Lease]:
        """Every camera's lease row, expired ones included (see :meth:`Lease.live`), by camera."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_LEASE_COLUMNS} FROM capture_leases WHERE camera_id <> ? "
                "ORDER BY camera_id",
                (SITE_DUTY,),
            ).fetchall()
        return [_lease(row) for row in rows]

    def live(self, now: float | None = None) -> dict[str, Lease]:
        """The leases in force at ``now``, by camera: which host captures which camera."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_LEASE_COLUMNS} FROM capture_leases WHERE expires_at > ?", (now,)
            ).fetchall()
        found = {lease.camera_id: lease for lease in map(_lease, rows)}
        found.pop(SITE_DUTY, None)
        return found

    def duty(self, now: float | None = None) -> Lease | None:
        """The site duty's lease in force at ``now`` (who runs the render schedules), if any."""
        now = time.time() if now is None else now
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_LEASE_COLUMNS} FROM capture_leases "
                "WHERE camera_id = ? AND expires_at > ?",
                (SITE_DUTY, now),
            ).fetchone()
        return None if row is None else _lease(row)

    # --- hosts ---------------------------------------------------------------------------------

    def beat(self, holder: LeaseHolder, now: float | None = None) -> None:
        """Record that ``holder`` is alive (its row is made on the first beat); forget hosts
        silent for longer than :data:`HOST_ROWS_KEPT`."""
        now = time.time() if now is None else now
        with self._lock, db.transaction(self._conn) as conn:
            self._beat(conn, holder, now)

    @staticmethod
    def _beat(conn: Any, holder: LeaseHolder, now: float) -> None:
        conn.execute(
            "INSERT INTO capture_hosts (holder, host, pid, started_at, heartbeat_at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (holder) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            (holder.id, holder.host, holder.pid, now, now),
        )
        conn.execute("DELETE FROM capture_hosts WHERE heartbeat_at < ?", (now - HOST_ROWS_KEPT,))

    def leave(self, holder: LeaseHolder) -> None:
        """A clean stop: release every lease of ``holder`` and remove its host row."""
        with self._lock, db.transaction(self._conn) as conn:
            conn.execute("DELETE FROM capture_leases WHERE holder = ?", (holder.id,))
            conn.execute("DELETE FROM capture_hosts WHERE holder = ?", (holder.id,))

    def hosts(self) -> list[HostBeat]:
        """Every scheduler heard of in the last day, the most recently heard first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT holder, host, pid, started_at, heartbeat_at FROM capture_hosts "
                "ORDER BY heartbeat_at DESC, holder"
            ).fetchall()
        return [HostBeat(str(r[0]), str(r[1]), int(r[2]), float(r[3]), float(r[4])) for r in rows]
