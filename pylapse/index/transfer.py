"""Copying a frame index to another database: ``pylapse index migrate --to postgresql://...``.

The rows are copied as they are (ids included, so jobs and caches that name frames by id stay
right), the frames a chunk at a time in id order, each chunk committed on its own: an
interrupted copy started again goes on after the last frame the target has (resumable). The
small tables are copied whole at the end. The copy is then verified: the row count of every
table, and per collection and day a checksum of its frames' ``(collection, name, utc)``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pylapse import db
from pylapse.index.daycounts import day_of
from pylapse.index.store import FrameIndex

__all__ = ["CHUNK", "TransferError", "TransferReport", "copy_index", "day_checksums"]

CHUNK = 50_000  # frames per transaction
# copied whole after the frames, in this order (their keys are ids the frames already have)
_SMALL = ("day_counts", "frame_stamps", "dead_stamps", "dead_unchecked")


class TransferError(RuntimeError):
    """A copy refused (the target holds another index) or one that does not verify."""


@dataclass(slots=True)
class TransferReport:
    frames: int = 0  # copied by this run
    resumed_after: int = 0  # the largest frame id the target had already
    counts: dict[str, int] = field(default_factory=dict)  # rows per table, both sides
    days: int = 0  # (collection, day) checksums compared


def copy_index(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
    *,
    chunk: int = CHUNK,
) -> TransferReport:
    """Copy the index at ``source`` into ``target`` (created and migrated if needed), then
    verify it; ``progress(done, total)`` after each chunk of frames."""
    FrameIndex(source).close()  # the source at the current schema too
    FrameIndex(target).close()
    src, dst = db.connect(source), db.connect(target)
    try:
        report = TransferReport(resumed_after=_resume_point(src, dst))  # before any write
        _copy_keyed(src, dst, "index_collections")
        _copy_keyed(src, dst, "scanned_dirs")
        report.frames = _copy_frames(src, dst, report.resumed_after, chunk, progress)
        with db.transaction(dst):
            for table in _SMALL:
                dst.execute(f"DELETE FROM {table}")
                db.bulk_insert(dst, table, *_rows(src, table))
        _restart_ids(dst)
        report.counts, report.days = _verify(src, dst)
        return report
    finally:
        src.close()
        dst.close()


def _columns(conn: db.Connection, table: str) -> tuple[str, ...]:
    return tuple(r[0] for r in _describe(conn, table))


def _describe(conn: db.Connection, table: str) -> list[Any]:
    cursor: Any = conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return list(cursor.description or ())


def _rows(
    conn: db.Connection, table: str, where: str = "", params: tuple[Any, ...] = ()
) -> tuple[tuple[str, ...], Iterator[Any]]:
    columns = _columns(conn, table)
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table} {where}", params)
    return columns, (tuple(r) for r in cursor)


def _copy_keyed(src: db.Connection, dst: db.Connection, table: str) -> None:
    """The rows of ``table`` the target lacks (by id): a resumed copy skips those it has."""
    columns, rows = _rows(src, table, "ORDER BY id")
    with db.transaction(dst):
        db.bulk_insert(dst, table, columns, rows, skip_conflicts=("id",))


def _resume_point(src: db.Connection, dst: db.Connection) -> int:
    """The largest frame id the target has, after checking it is the source's frame."""
    last = dst.execute("SELECT MAX(id) FROM frames").fetchone()[0]
    if not last:
        return 0
    sql = "SELECT collection_id, dir_id, name, utc FROM frames WHERE id = ?"
    theirs, ours = dst.execute(sql, (last,)).fetchone(), src.execute(sql, (last,)).fetchone()
    if ours is None or tuple(ours) != tuple(theirs):
        raise TransferError(
            f"the target already holds frames that are not this index's (frame id {last} "
            "differs): copy into an empty database"
        )
    return int(last)


def _copy_frames(
    src: db.Connection,
    dst: db.Connection,
    after: int,
    chunk: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    total = int(src.execute("SELECT COUNT(*) FROM frames WHERE id > ?", (after,)).fetchone()[0])
    done = 0
    while True:
        columns, rows = _rows(src, "frames", "WHERE id > ? ORDER BY id LIMIT ?", (after, chunk))
        batch = list(rows)
        if not batch:
            return done
        with db.transaction(dst):
            db.bulk_insert(dst, "frames", columns, batch)
        after = batch[-1][columns.index("id")]
        done += len(batch)
        if progress is not None:
            progress(done, total)


def _restart_ids(dst: db.Connection) -> None:
    """New rows in the target get ids past the copied ones (PostgreSQL's identity sequences
    do not follow ids written explicitly; SQLite's rowids do by themselves)."""
    if db.backend(dst) is not db.Backend.POSTGRESQL:
        return
    for table in ("index_collections", "scanned_dirs", "frames"):
        dst.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def day_checksums(conn: db.Connection) -> dict[tuple[str, int], int]:
    """Per (collection key, wall-clock day) a checksum of its frames' (collection, name, utc):
    the sum of each frame's SHA-256 (its first 128 bits), so that the order rows come in
    (each database sorts text its own way) does not matter."""
    sums: dict[tuple[str, int], int] = {}
    cursor = conn.execute(
        "SELECT c.key, f.name, f.utc, f.utc_offset FROM frames f "
        "JOIN index_collections c ON c.id = f.collection_id"
    )
    for key, name, utc, offset in cursor:
        digest = hashlib.sha256(f"{key}\0{name}\0{float(utc)!r}".encode()).digest()
        day = (key, day_of(utc, offset))
        sums[day] = (sums.get(day, 0) + int.from_bytes(digest[:16], "big")) % (1 << 128)
    return sums


def _verify(src: db.Connection, dst: db.Connection) -> tuple[dict[str, int], int]:
    counts = {}
    for table in ("index_collections", "scanned_dirs", "frames", *_SMALL):
        ours = int(src.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        theirs = int(dst.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        if ours != theirs:
            raise TransferError(f"{table}: {ours} rows in the source, {theirs} in the copy")
        counts[table] = ours
    ours_sums, theirs_sums = day_checksums(src), day_checksums(dst)
    differ = sorted(k for k in ours_sums.keys() | theirs_sums.keys()
                    if ours_sums.get(k) != theirs_sums.get(k))  # fmt: skip
    if differ:
        key, day = differ[0]
        raise TransferError(
            f"{len(differ)} day(s) differ after the copy, first {key!r} day {day} "
            "(days since 1970-01-01)"
        )
    return counts, len(ours_sums)
