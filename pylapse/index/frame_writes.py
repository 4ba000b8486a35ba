"""Frame rows written outside a scan: a frame capture just wrote, and frames retention moved
away.

Both keep ``day_counts`` in step in the caller's transaction (:mod:`pylapse.index.daycounts`);
a captured frame's dead-camera verdicts follow its scores (:mod:`pylapse.index.deadflags`).
:class:`pylapse.index.store.FrameIndex` answers by collection key, under its write lock and
in one transaction; these take its writing connection and collection row.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping

from pylapse import db
from pylapse.index import deadflags
from pylapse.index import scores as frame_scores
from pylapse.index.daycounts import bump_days, day_of
from pylapse.index.scan import SOURCE_CAPTURE
from pylapse.index.zones import OFFSET_CAPTURE

__all__ = ["add_frame", "remove_frames"]

# Capture named the frame with its camera's zone, known at that moment: certain.
_CAPTURED = (SOURCE_CAPTURE, OFFSET_CAPTURE, "certain", "")


def add_frame(
    conn: db.Connection,
    cid: int,
    path: str,
    utc: float,
    offset: int,
    values: tuple[str, int | None, float | None, int | None, int | None, float | None],
    scores: Mapping[str, float | int | None] | None,
) -> int:
    """The row of the frame at ``path`` of collection row ``cid`` (inserted, or updated with its
    scores cleared), taken at ``utc`` with ``offset``; ``values``: ``(source, size, mtime,
    width, height, luma)``. Returns its id (:meth:`pylapse.index.store.FrameIndex.add_frame`)."""
    folder, name = os.path.split(path)
    dir_id = _dir_id(conn, cid, folder)
    old = conn.execute(
        "SELECT id, utc, utc_offset FROM frames WHERE dir_id = ? AND name = ?",
        (dir_id, name),
    ).fetchone()
    row = (utc, offset, *values, *_CAPTURED)
    if old is None:
        frame_id = conn.execute(
            "INSERT INTO frames (collection_id, dir_id, name, utc, utc_offset, source, "
            "size, mtime, width, height, luma, time_source, offset_source, time_status, "
            "time_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            (cid, dir_id, name, *row),
        ).fetchone()[0]
        bump_days(conn, cid, Counter({(day_of(utc, offset), offset): 1}))
    else:
        frame_id = old[0]
        conn.execute(
            "UPDATE frames SET utc = ?, utc_offset = ?, source = ?, size = ?, mtime = ?, "
            "width = ?, height = ?, luma = ?, time_source = ?, offset_source = ?, "
            "time_status = ?, time_reason = ?, inode = NULL, "
            f"{frame_scores.CLEARED} WHERE id = ?",
            (*row, frame_id),
        )
        delta = Counter({(day_of(utc, offset), offset): 1})
        delta.subtract({(day_of(old[1], old[2]), old[2]): 1})
        bump_days(conn, cid, delta)
    if scores:
        frame_scores.write_scores(conn, [(int(frame_id), scores)])
    if scores or old is not None:  # new scores, or cleared ones: the runs around it
        deadflags.refresh(conn, [int(frame_id)])
    return int(frame_id)


def remove_frames(conn: db.Connection, cid: int, files: Iterable[tuple[int, str, str]]) -> int:
    """:meth:`pylapse.index.store.FrameIndex.remove_frames` of collection row ``cid``."""
    delta: Counter[tuple[int, int]] = Counter()
    for frame_id, folder, name in files:
        row = conn.execute(
            "DELETE FROM frames WHERE id = ? AND collection_id = ? AND name = ? AND "
            "dir_id = (SELECT id FROM scanned_dirs WHERE collection_id = ? AND path = ?) "
            "RETURNING utc, utc_offset",
            (int(frame_id), cid, name, cid, folder),
        ).fetchone()
        if row is not None:
            delta[(day_of(row[0], row[1]), int(row[1]))] -= 1
    bump_days(conn, cid, delta)
    return -sum(delta.values())


def _dir_id(conn: db.Connection, cid: int, folder: str) -> int:
    """The row of ``folder`` (created unlisted, linked to its parent's row if there is one)."""
    row = conn.execute(
        "SELECT id FROM scanned_dirs WHERE collection_id = ? AND path = ?", (cid, folder)
    ).fetchone()
    if row is not None:
        return int(row[0])
    parent = conn.execute(
        "SELECT id FROM scanned_dirs WHERE collection_id = ? AND path = ?",
        (cid, os.path.dirname(folder)),
    ).fetchone()
    inserted = conn.execute(
        "INSERT INTO scanned_dirs (collection_id, parent_id, path) VALUES (?, ?, ?) RETURNING id",
        (cid, parent[0] if parent else None, folder),
    ).fetchone()
    return int(inserted[0])
