"""Where camera health is kept: its tables' schema steps, and the move of a data folder's own
health into the index database (issue 21 §2).

Health lives in the index database (:mod:`pylapse.capture.health`). Before that it lived in
the data folder's ``pylapse.db``, which is the index database itself unless ``index_url`` points
elsewhere (PostgreSQL): then :func:`carry_over` copies that history into the index once, so a
single-host user moving to PostgreSQL keeps each camera's state, capture log and volume.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from pylapse import db

__all__ = ["COMPONENT", "STEPS", "carry_over"]

log = logging.getLogger(__name__)

COMPONENT = "health"
# The hour a UTC time falls in, the same on both engines: CAST(real AS INTEGER) truncates on
# SQLite and rounds on PostgreSQL, so the rounded-up case steps back one (floor() is not in
# every SQLite build). Written so in the shipped step 3: on SQLite it gives what it always gave.
_HOUR_OF_UTC = (
    "(CAST(utc AS INTEGER) - CASE WHEN CAST(utc AS INTEGER) > utc THEN 1 ELSE 0 END) / 3600"
)
# ``offset`` is quoted everywhere: it is a reserved word in PostgreSQL (SQLite reads "offset" as
# the same column it always made).
STEPS = [
    """CREATE TABLE camera_health (
        camera_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        last_success_utc REAL,
        last_success_offset INTEGER,
        last_error TEXT,
        last_error_utc REAL,
        last_error_offset INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        identical_count INTEGER NOT NULL DEFAULT 0,
        last_digest TEXT,
        last_frame_id INTEGER,
        last_path TEXT,
        paused_reason TEXT,
        enabled INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE capture_log (
        id INTEGER PRIMARY KEY,
        camera_id TEXT NOT NULL,
        utc REAL NOT NULL,
        "offset" INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        message TEXT NOT NULL,
        path TEXT,
        frame_id INTEGER,
        size INTEGER,
        duration REAL,
        attempt INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX capture_log_camera ON capture_log(camera_id, id)""",
    # what a row is: a capture attempt, or a pause or resume of capture (the dashboard shows
    # those as information, not as a failed capture). Older pause rows are the failures that
    # took no time and wrote nothing: a real attempt always records how long it took.
    """ALTER TABLE capture_log ADD COLUMN kind TEXT NOT NULL DEFAULT 'capture';
    UPDATE capture_log SET kind = 'pause' WHERE ok = 0 AND duration IS NULL AND path IS NULL;
    UPDATE capture_log SET kind = 'resume' WHERE ok = 1 AND message = 'capture resumed'""",
    # bytes saved per camera and hour, for the disk-full estimate: a day of it, whatever the
    # bounded capture log still holds (with many cameras it keeps only hours)
    """CREATE TABLE capture_volume (
        camera_id TEXT NOT NULL,
        hour INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        frames INTEGER NOT NULL,
        first_utc REAL NOT NULL,
        PRIMARY KEY (camera_id, hour)
    );
    INSERT INTO capture_volume(camera_id, hour, bytes, frames, first_utc)
        SELECT camera_id, """ + _HOUR_OF_UTC + """, SUM(size), COUNT(*), MIN(utc)
        FROM capture_log WHERE ok = 1 AND size IS NOT NULL GROUP BY 1, 2""",
    # frozen by picture, not only by bytes (issue 17): frames in a row whose perceptual hash
    # and mean luma did not move, and the last frame's luma to compare the next one with
    """ALTER TABLE camera_health ADD COLUMN same_picture_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE camera_health ADD COLUMN last_luma REAL""",
    # why the camera is in its state (frozen, blank, failing...), for the dashboard's card
    "ALTER TABLE camera_health ADD COLUMN state_reason TEXT",
    # the last frame's grain (pylapse.imaging.quality), which tells a still scene from a
    # picture served again (pylapse.selection.dead_camera.same_picture); signed 64-bit
    "ALTER TABLE camera_health ADD COLUMN last_grain INTEGER",
]

# The local file remembers which databases its health went to (a password never kept).
_CARRIED = "health_carried"
_CARRIED_STEPS = ["CREATE TABLE health_carried (target TEXT PRIMARY KEY, utc REAL NOT NULL)"]
# copied in this order; a row whose key the index has already (written there since) is kept
_TABLES = (
    ("camera_health", ("camera_id",)),
    ("capture_volume", ("camera_id", "hour")),
    ("capture_log", ()),
)


def carry_over(
    data_path: str | os.PathLike[str], location: str | os.PathLike[str], target: db.Connection
) -> int:
    """Copy the health kept in ``data_path``'s own ``pylapse.db`` into the index database at
    ``location`` (``target``, migrated), once per target; returns the rows copied.

    Nothing moves when ``location`` is that same file, or the folder has no health tables.
    Camera states the index has already (another host's, or newer) win; capture log rows get
    the index's next ids. The copy commits before the local file notes it, so a crash in
    between copies again at the next start rather than losing the history.
    """
    local = Path(data_path) / db.DB_NAME
    if db.backend_of(location) is db.Backend.SQLITE and _same_file(local, Path(location)):
        return 0
    if not local.is_file():
        return 0
    name = db.describe(location)
    source = db.connect(local)
    try:
        if source.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'camera_health'"
        ).fetchone() is None:
            return 0
        db.migrate(source, _CARRIED, _CARRIED_STEPS)
        if source.execute("SELECT 1 FROM health_carried WHERE target = ?", (name,)).fetchone():
            return 0
        db.migrate(source, COMPONENT, STEPS)  # an older folder's tables, as the index has them
        copied = _copy(source, target)
        with source:
            source.execute("INSERT INTO health_carried (target, utc) VALUES (?, ?)",
                           (name, time.time()))  # fmt: skip
    finally:
        source.close()
    log.info("camera health carried over from %s to %s: %d rows", local, name, copied)
    return copied


def _copy(source: db.Connection, target: db.Connection) -> int:
    copied = 0
    with db.transaction(target):
        for table, key in _TABLES:
            cursor = source.execute(f"SELECT * FROM {table} ORDER BY rowid")
            rows = cursor.fetchall()
            if not rows:
                continue
            names = [d[0] for d in cursor.description]  # type: ignore[attr-defined]
            columns = [c for c in names if c != "id"]  # the log's ids: the index's
            copied += db.bulk_insert(
                target,
                table,
                [f'"{c}"' if c == "offset" else c for c in columns],
                ([row[c] for c in columns] for row in rows),
                skip_conflicts=key,
            )
    return copied


def _same_file(local: Path, index: Path) -> bool:
    """Whether the index is the data folder's own file (a folder means its ``pylapse.db``)."""
    if index.is_dir():
        index = index / db.DB_NAME
    try:
        return local.resolve() == index.resolve()
    except OSError:
        return False
