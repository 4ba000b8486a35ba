"""What the index says about its frames' times: counts per source and status, and the frames
whose time is in doubt.

A scan records where each frame's clock and offset came from and whether the offset is
certain, inferred or assumed, or flagged (``conflict``/``implausible``, the evidence
disagrees). :mod:`pylapse.index.timereport` words these for people; these read them.
:class:`pylapse.index.store.FrameIndex` answers by collection key; these take its connection
and collection row.
"""

from __future__ import annotations

from pylapse import db
from pylapse.index.frame import FRAME_COLUMNS, Frame, frames_from_rows, range_where
from pylapse.index.timereport import UNKNOWN

__all__ = ["count_flagged", "flagged", "time_counts"]

# timereport.FLAGGED written out (not bound) so that SQLite uses the partial indexes of step 4
_FLAGGED_SQL = "time_status IN ('conflict', 'implausible')"


def time_counts(conn: db.Connection, cid: int) -> dict[tuple[str, str, str], int]:
    """:meth:`pylapse.index.store.FrameIndex.time_counts` of collection row ``cid``."""
    rows = conn.execute(
        "SELECT COALESCE(time_source, ?), COALESCE(offset_source, ?), "
        "COALESCE(time_status, ?), COUNT(*) FROM frames WHERE collection_id = ? "
        "GROUP BY 1, 2, 3 ORDER BY 4 DESC",
        (UNKNOWN, UNKNOWN, UNKNOWN, cid),
    )
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


def flagged(
    conn: db.Connection,
    cid: int,
    collection: str,
    lo: float | None,
    hi: float | None,
    *,
    mtime: bool,
    limit: int | None,
    offset: int,
) -> list[Frame]:
    """:meth:`pylapse.index.store.FrameIndex.flagged` of collection row ``cid``, whose key is
    ``collection``, with ``lo <= utc < hi`` (None: no bound)."""
    where, params = range_where(cid, lo, hi)
    extra = " OR f.time_source = 'mtime'" if mtime else ""
    sql = (
        f"SELECT {FRAME_COLUMNS} FROM frames f JOIN scanned_dirs d ON d.id = f.dir_id "
        f"WHERE {where} AND (f.{_FLAGGED_SQL}{extra}) "
        "ORDER BY f.utc, f.id LIMIT ? OFFSET ?"
    )
    args = (*params, db.NO_LIMIT if limit is None else limit, offset)
    return frames_from_rows(collection, conn.execute(sql, args))


def count_flagged(conn: db.Connection, cid: int, lo: float | None, hi: float | None) -> int:
    """:meth:`pylapse.index.store.FrameIndex.count_flagged` of collection row ``cid``."""
    where, params = range_where(cid, lo, hi)
    sql = f"SELECT COUNT(*) FROM frames f WHERE {where} AND f.{_FLAGGED_SQL}"
    return int(conn.execute(sql, params).fetchone()[0])
