"""Camera health kept in the index database: :class:`HealthStore`, a state per camera and a
bounded capture log.

They live where the frame index and the camera leases do (``config.index_location``: the data
folder's ``pylapse.db`` by default, or PostgreSQL), so every capture host's dashboard shows
each camera's health as the host capturing it records it (issue 21 §2). Health kept in the
data folder's own ``pylapse.db`` before the index moved elsewhere is carried over once
(:func:`carry_over`); the SQL is written to run the same on SQLite and PostgreSQL.

The states and the rules that decide them after every attempt, and the records the store hands
out, are :mod:`pylapse.capture.healthstate` (re-exported here, where callers import them).

A change of state is an event: the ``listener`` given to :class:`HealthStore` gets a
:class:`HealthChange` (camera, old and new state, when, why) once per change, after the change
is written and outside the store's lock, never for an attempt that leaves the state as it was
(a camera's first frame is the change from ``unknown``). A listener that raises is logged and
never stops capture. :meth:`pylapse.runtime.Runtime.add_health_listener` is where the rest of
pyLapse (notifications) subscribes. Enabling or disabling a camera is the user's own act and is
not reported.

The log keeps the last ``max_log_rows`` attempts (old rows are trimmed in batches), so it never
grows with the age of an installation. Bytes saved per camera and hour are kept apart from it
for a week (:mod:`pylapse.capture.capturevolume`; :meth:`HealthStore.bytes_per_day`: the
disk-full estimate over a whole day).

A full disk under the data folder never makes a write fail: the store holds the write in memory
(in order: :mod:`pylapse.capture.heldwrites`), shows :attr:`HealthStore.full` as every camera's
``paused_reason`` so the dashboard says why capture stopped, and writes what it held once
:meth:`HealthStore.try_resume` finds room again; the capture log then tells the pause and the
resume at the times they happened.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pylapse import db, timeutil
from pylapse.capture import capturevolume, disk
from pylapse.capture.healthdb import COMPONENT, STEPS, carry_over
from pylapse.capture.healthstate import (
    CameraHealth,
    HealthChange,
    HealthListener,
    HealthState,
    LogEntry,
    LogKind,
    as_seen,
    back_reason,
    judge_failure,
    judge_saved,
)
from pylapse.capture.heldwrites import HeldWrites
from pylapse.selection.dead_camera import BLANK_CONTRAST, FROZEN_AFTER, same_picture

__all__ = [
    "CameraHealth",
    "HealthChange",
    "HealthListener",
    "HealthState",
    "HealthStore",
    "LogEntry",
    "LogKind",
    "as_seen",
    "carry_over",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


def _when(utc: float | None, offset: int | None) -> datetime | None:
    return None if utc is None else timeutil.from_utc(utc, offset or 0)


class HealthStore:
    """Reads and updates camera health; safe to share between capture threads."""

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        data_path: str | os.PathLike[str] | None = None,
        offline_after: int = 5,
        frozen_after: int = FROZEN_AFTER,
        blank_stddev: float = BLANK_CONTRAST,
        max_log_rows: int = 50_000,
        listener: HealthListener | None = None,
    ) -> None:
        """``location``: the index database (a SQLite file or a ``postgresql://`` URL);
        ``data_path``: the data folder, whose disk a full-disk pause watches and whose own
        ``pylapse.db`` health is carried over from (default: the SQLite file's folder)."""
        if data_path is None:
            if db.backend_of(location) is db.Backend.POSTGRESQL:
                raise ValueError("HealthStore on PostgreSQL needs data_path (the data folder)")
            data_path = Path(location).parent
        self.location = location
        self.data_path = Path(data_path)
        self.listener = listener
        self._changes: list[HealthChange] = []  # written, not told yet (see _tell)
        self.offline_after = offline_after
        self.frozen_after = frozen_after
        self.blank_stddev = blank_stddev
        self.max_log_rows = max_log_rows
        self._lock = threading.Lock()
        self._inserts = 0
        self._held = HeldWrites(self.data_path)
        self._conn = db.connect(location)
        db.migrate(self._conn, COMPONENT, STEPS)
        carry_over(self.data_path, location, self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- reading ---------------------------------------------------------------------------

    def get(self, camera_id: str, *, here: bool = True) -> CameraHealth:
        """``here``: the camera is captured by this process (or nobody), so this store's own
        full-disk pause is its paused reason; another host's camera shows what that host
        recorded."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM camera_health WHERE camera_id = ?", (camera_id,)
            ).fetchone()
            full = self._held.reason if here else None
        if row is None:
            return CameraHealth(camera_id, HealthState.UNKNOWN, paused_reason=full)
        state = HealthState(row["state"]) if row["enabled"] else HealthState.DISABLED
        return CameraHealth(
            camera_id=camera_id,
            state=state,
            last_success=_when(row["last_success_utc"], row["last_success_offset"]),
            last_error=row["last_error"],
            consecutive_failures=row["consecutive_failures"],
            last_frame_id=row["last_frame_id"],
            paused_reason=full or row["paused_reason"],
            last_error_time=_when(row["last_error_utc"], row["last_error_offset"]),
            last_path=row["last_path"],
            identical_frames=row["identical_count"],
            reason=row["state_reason"],
        )

    def log(self, limit: int = 25, offset: int = 0, camera: str | None = None) -> list[LogEntry]:
        """Newest first."""
        where, args = ("WHERE camera_id = ?", [camera]) if camera else ("", [])
        with self._lock:
            rows = self._conn.execute(
                f"SELECT * FROM capture_log {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*args, int(limit), int(offset)),
            ).fetchall()
        return [
            LogEntry(
                id=r["id"],
                camera_id=r["camera_id"],
                time=timeutil.from_utc(r["utc"], r["offset"]),
                ok=bool(r["ok"]),
                message=r["message"],
                path=r["path"],
                frame_id=r["frame_id"],
                size=r["size"],
                duration=r["duration"],
                attempt=r["attempt"],
                kind=LogKind(r["kind"]),
            )
            for r in rows
        ]

    def log_count(self, camera: str | None = None) -> int:
        where, args = ("WHERE camera_id = ?", (camera,)) if camera else ("", ())
        with self._lock:
            row = self._conn.execute(f"SELECT COUNT(*) FROM capture_log {where}", args).fetchone()
        count: int = row[0]
        return count

    def bytes_per_day(self, camera_id: str, days: float = 1.0) -> float | None:
        """A camera's capture volume in bytes per day, over the last ``days`` (a whole day by
        default, so day and night frames of different sizes average out; a camera younger than
        that over its age, at least ten minutes); ``None`` before any frame."""
        with self._lock:
            return capturevolume.bytes_per_day(self._conn, camera_id, days)

    # --- a full disk -----------------------------------------------------------------------

    @property
    def full(self) -> str | None:
        """Why the database cannot be written now (its disk is full), or None.

        While set, writes are held in memory and every camera's ``paused_reason`` says it.
        """
        return self._held.reason

    def mark_full(self) -> bool:
        """Another write to ``pylapse.db`` (a frame's index row) failed for a full disk: hold
        writes from now on. True when this starts the pause (False if it was on already)."""
        with self._lock:
            return self._held.start()

    def try_resume(self) -> bool:
        """After a full disk: when the disk has room again, write what was held back (in one
        transaction) and end the pause. True when there is no pause (any more)."""
        resumed = self._try_resume()
        self._tell()  # the state changes the held writes made
        return resumed

    def _try_resume(self) -> bool:
        with self._lock:
            if self._held.reason is None:
                return True
            if not self._held.has_room():
                return False
            mark = len(self._changes)
            try:
                with self._conn:
                    for write in self._held.writes:
                        write()
                    if self._held.dropped:
                        now = timeutil.now(UTC)
                        cameras = self._conn.execute("SELECT camera_id FROM camera_health")
                        for (camera_id,) in cameras.fetchall():
                            self._append_log(
                                camera_id, now, False,
                                f"{self._held.dropped} health updates made while the disk was full "
                                "were lost", kind=LogKind.NOTE,
                            )  # fmt: skip
            except sqlite3.Error as exc:
                del self._changes[mark:]  # rolled back: not changes (yet)
                if disk.is_disk_full(exc):
                    return False
                # not a full disk: these writes will never work; capture must not stop for it
                log.warning("%d health updates held while the disk was full are lost: %s",
                            len(self._held.writes), exc)  # fmt: skip
            self._held.clear()
            return True

    def _write(self, write: Callable[[], _T]) -> _T | None:
        """Run ``write`` in a transaction; while the disk is full, hold it (None) for later.

        The state changes it made are told to the listener afterwards, outside the lock.
        """
        try:
            return self._write_locked(write)
        finally:
            self._tell()

    def _write_locked(self, write: Callable[[], _T]) -> _T | None:
        with self._lock:
            if self._held.reason is None:
                mark = len(self._changes)
                try:
                    with self._conn:
                        return write()
                except sqlite3.Error as exc:
                    del self._changes[mark:]  # rolled back: it did not happen (yet)
                    if not disk.is_disk_full(exc):
                        raise
                    self._held.start()
            self._held.hold(write)
            return None

    def _tell(self) -> None:
        """Hand the state changes written so far to the listener (in the order they happened)."""
        with self._lock:
            changes, self._changes = self._changes, []
        if self.listener is None:
            return
        for change in changes:
            try:
                self.listener(change)
            except Exception:  # a listener's fault must never stop capture
                log.exception("health listener failed on %s", change)

    def _changed(
        self, camera_id: str, old: HealthState, new: HealthState, when: datetime, reason: str
    ) -> None:
        """Inside a write: note a change for :meth:`_tell` (nothing when the state stayed)."""
        if old is not new:
            self._changes.append(HealthChange(camera_id, old, new, when.astimezone(UTC), reason))

    # --- writing ---------------------------------------------------------------------------

    def _ensure(self, camera_id: str) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO camera_health(camera_id, state) VALUES (?, ?)",
            (camera_id, HealthState.UNKNOWN.value),
        )

    def _append_log(
        self, camera_id: str, when: datetime, ok: bool, message: str, **cols: Any
    ) -> None:
        self._conn.execute(
            "INSERT INTO capture_log(camera_id, utc, \"offset\", ok, message, path, frame_id, size,"
            " duration, attempt, kind) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                camera_id,
                when.timestamp(),
                timeutil.offset_seconds(when),
                int(ok),
                message,
                cols.get("path"),
                cols.get("frame_id"),
                cols.get("size"),
                cols.get("duration"),
                cols.get("attempt", 0),
                cols.get("kind", LogKind.CAPTURE).value,
            ),
        )
        self._inserts += 1
        if self._inserts % min(500, self.max_log_rows) == 0:
            self._conn.execute(
                "DELETE FROM capture_log WHERE id <= (SELECT MAX(id) FROM capture_log) - ?",
                (self.max_log_rows,),
            )

    def record_success(
        self,
        camera_id: str,
        when: datetime,
        *,
        path: str | os.PathLike[str],
        frame_id: int | None,
        size: int,
        digest: str,
        stddev: float,
        duration: float,
        attempt: int = 0,
        message: str = "",
        luma: float | None = None,
        hash_distance: int | None = None,
        luma_yesterday: float | None = None,
        grain: int | None = None,
    ) -> HealthState | None:
        """A saved frame; returns the new state (ok, frozen, blank or dark), or None while the disk
        is full (the update is held and written when there is room again).

        With the frame's quality scores (:mod:`pylapse.imaging.quality`) more is caught:
        ``hash_distance`` 0 to the previous frame with its ``luma`` and ``grain`` unmoved
        (:func:`pylapse.selection.dead_camera.same_picture`) counts towards frozen like
        identical bytes (a camera re-encoding a cached picture), and a frame far
        darker than ``luma_yesterday`` (the camera's frame at the same time a day earlier) is
        dark (a covered lens, a dead infrared light).
        """
        path = os.fspath(path)

        def write() -> HealthState:
            self._ensure(camera_id)
            row = self._conn.execute(
                "SELECT state, last_digest, identical_count, same_picture_count, last_luma, "
                "last_grain FROM camera_health WHERE camera_id = ?",
                (camera_id,),
            ).fetchone()
            identical = row["identical_count"] + 1 if row["last_digest"] == digest else 1
            unmoved = same_picture(hash_distance, luma, row["last_luma"], grain, row["last_grain"])
            same = row["same_picture_count"] + 1 if unmoved or identical > 1 else 1
            state, reason = judge_saved(
                identical=identical,
                same=same,
                stddev=stddev,
                luma=luma,
                luma_yesterday=luma_yesterday,
                blank_stddev=self.blank_stddev,
                frozen_after=self.frozen_after,
            )
            old = HealthState(row["state"])
            self._conn.execute(
                "UPDATE camera_health SET state = ?, last_success_utc = ?,"
                " last_success_offset = ?, consecutive_failures = 0, identical_count = ?,"
                " last_digest = ?, last_frame_id = ?, last_path = ?, same_picture_count = ?,"
                " last_luma = ?, last_grain = ?, state_reason = ? WHERE camera_id = ?",
                (
                    state.value,
                    when.timestamp(),
                    timeutil.offset_seconds(when),
                    identical,
                    digest,
                    frame_id,
                    path,
                    same,
                    luma,
                    grain,
                    reason or None,
                    camera_id,
                ),
            )
            self._changed(camera_id, old, state, when, reason or back_reason(old))
            # trimmed now and then, like the log
            capturevolume.add_volume(
                self._conn, camera_id, when, size, trim=self._inserts % 500 == 0
            )
            self._append_log(
                camera_id,
                when,
                True,
                (message or f"saved {path}") + (f"; {reason}" if reason else ""),
                path=path,
                frame_id=frame_id,
                size=size,
                duration=duration,
                attempt=attempt,
            )
            return state

        return self._write(write)

    def record_failure(
        self,
        camera_id: str,
        when: datetime,
        error: str,
        *,
        duration: float | None = None,
        attempt: int = 0,
    ) -> HealthState | None:
        """A failed attempt; returns the new state (failing or offline), or None while the
        disk is full (the update is held and written when there is room again)."""
        now = timeutil.now(when.tzinfo)

        def write() -> HealthState:
            self._ensure(camera_id)
            row = self._conn.execute(
                "SELECT state, consecutive_failures FROM camera_health WHERE camera_id = ?",
                (camera_id,),
            ).fetchone()
            failures = row["consecutive_failures"] + 1
            state, reason = judge_failure(failures, error, self.offline_after)
            self._conn.execute(
                "UPDATE camera_health SET state = ?, last_error = ?, last_error_utc = ?,"
                " last_error_offset = ?, consecutive_failures = ?, state_reason = ?"
                " WHERE camera_id = ?",
                (
                    state.value,
                    error,
                    now.timestamp(),
                    timeutil.offset_seconds(now),
                    failures,
                    reason,
                    camera_id,
                ),
            )
            self._changed(camera_id, HealthState(row["state"]), state, now, reason)
            self._append_log(camera_id, when, False, error, duration=duration, attempt=attempt)
            return state

        return self._write(write)

    def set_paused_reason(self, camera_id: str, reason: str | None) -> bool:
        """Record why capture is paused (``None`` clears it); True when it changed (or, while
        the disk is full, will be written as a change when there is room again)."""
        now = timeutil.now(UTC)

        def write() -> bool:
            self._ensure(camera_id)
            old = self._conn.execute(
                "SELECT paused_reason FROM camera_health WHERE camera_id = ?", (camera_id,)
            ).fetchone()[0]
            if old == reason:
                return False
            self._conn.execute(
                "UPDATE camera_health SET paused_reason = ? WHERE camera_id = ?",
                (reason, camera_id),
            )
            kind = LogKind.RESUME if reason is None else LogKind.PAUSE
            self._append_log(camera_id, now, reason is None, reason or "capture resumed", kind=kind)
            return True

        changed = self._write(write)
        return True if changed is None else changed

    def set_enabled(self, camera_id: str, enabled: bool) -> None:
        def write() -> None:
            self._ensure(camera_id)
            self._conn.execute(
                "UPDATE camera_health SET enabled = ? WHERE camera_id = ?",
                (int(enabled), camera_id),
            )

        self._write(write)
