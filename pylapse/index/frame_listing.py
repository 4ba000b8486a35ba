"""Reading frame rows: a collection's frames over a span of time in time order (paged), the
same as plain file rows, one frame by id, and the frames indexed after an id.

:class:`pylapse.index.store.FrameIndex` answers by collection key; these take its connection
and collection row.
"""

from __future__ import annotations

from pylapse import db
from pylapse.index.frame import FRAME_COLUMNS, Frame, frames_from_rows, range_where

__all__ = ["FileRow", "file_rows", "frame_by_id", "frames_after", "frames_in"]

FileRow = tuple[int, str, str, float, int, int | None, float | None]
# the frame's columns and its collection's key, for queries over every collection
_KEYED = (
    f"SELECT {FRAME_COLUMNS}, c.key FROM frames f JOIN scanned_dirs d ON d.id = f.dir_id "
    "JOIN index_collections c ON c.id = f.collection_id"
)


def frames_in(
    conn: db.Connection,
    cid: int,
    collection: str,
    lo: float | None,
    hi: float | None,
    *,
    limit: int | None,
    offset: int,
    descending: bool,
) -> list[Frame]:
    """:meth:`pylapse.index.store.FrameIndex.frames` of collection row ``cid``, whose key is
    ``collection``, with ``lo <= utc < hi`` (None: no bound)."""
    where, params = range_where(cid, lo, hi)
    order = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {FRAME_COLUMNS} FROM frames f JOIN scanned_dirs d ON d.id = f.dir_id "
        f"WHERE {where} ORDER BY f.utc {order}, f.id {order} LIMIT ? OFFSET ?"
    )
    bounds = (db.NO_LIMIT if limit is None else limit, offset)
    return frames_from_rows(collection, conn.execute(sql, (*params, *bounds)))


def file_rows(conn: db.Connection, cid: int, lo: float | None, hi: float | None) -> list[FileRow]:
    """:meth:`pylapse.index.store.FrameIndex.file_rows` of collection row ``cid``."""
    where, params = range_where(cid, lo, hi)
    sql = (
        "SELECT f.id, d.path, f.name, f.utc, f.utc_offset, f.size, f.sharpness FROM frames f "
        f"JOIN scanned_dirs d ON d.id = f.dir_id WHERE {where} ORDER BY f.utc, f.id"
    )
    return conn.execute(sql, params).fetchall()


def frame_by_id(conn: db.Connection, frame_id: int) -> Frame | None:
    """:meth:`pylapse.index.store.FrameIndex.get`."""
    row = conn.execute(f"{_KEYED} WHERE f.id = ?", (int(frame_id),)).fetchone()
    if row is None:
        return None
    return frames_from_rows(row[-1], [row[:-1]])[0]


def frames_after(conn: db.Connection, after: int, limit: int) -> list[Frame]:
    """:meth:`pylapse.index.store.FrameIndex.frames_after`."""
    rows = conn.execute(
        f"{_KEYED} WHERE f.id > ? ORDER BY f.id DESC LIMIT ?", (int(after), int(limit))
    ).fetchall()
    return [frames_from_rows(row[-1], [row[:-1]])[0] for row in rows]
