"""Per-frame scores in the index: what a score write may set, and the walk over frames not
measured yet.

Quality scores (:mod:`pylapse.imaging.quality`) and sky metrics (:mod:`pylapse.imaging.sky`)
are written by capture and by the metrics job, which walks the frames still missing them in
time order (:func:`unscored`, resumable) and needs the hash of the frame before each batch
(:func:`previous_hash`) for the hash distance. :class:`pylapse.index.store.FrameIndex` answers
by collection key and keeps the dead-camera verdicts in step with every write; these take its
connection and collection row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pylapse import db
from pylapse.index.frame import FRAME_COLUMNS, Frame, frames_from_rows, range_where
from pylapse.index.schema import SKY_COLUMNS

__all__ = [
    "CLEARED",
    "SCORE_COLUMNS",
    "aligned_columns",
    "count_unscored",
    "previous_hash",
    "unscored",
    "write_scores",
]

SCORE_COLUMNS = (
    "sharpness",
    "contrast",
    "noise",
    "clip_high",
    "clip_low",
    "dhash",
    "hash_distance",
    "grain",
)
_WRITTEN = frozenset((*SCORE_COLUMNS, *SKY_COLUMNS, "score_version"))
# the metrics job stats what a scan did not (for the largest-frame query and the disk totals)
_FILLED_IF_EMPTY = ("luma", "width", "height", "size", "mtime")
# what aligned_columns reads: the score and metric columns (names go into the SQL text)
_READABLE = frozenset((*SCORE_COLUMNS, *SKY_COLUMNS, "luma", "width", "height", "size", "mtime"))
# Written out (not bound) so that SQLite uses the partial index of schema step 8.
_UNMEASURED_SQL = "(dhash IS NULL OR sky_r_mean IS NULL)"
# SET clause clearing a re-added frame's scores and so its dead-camera verdict
# (pylapse.index.deadflags)
CLEARED = ", ".join(f"{c} = NULL" for c in (*SCORE_COLUMNS, *SKY_COLUMNS, "score_version", "dead"))


def write_scores(
    conn: db.Connection, rows: Iterable[tuple[int, Mapping[str, float | int | None]]]
) -> int:
    """Set the score columns of frames by id (``luma``, ``width``, ``height``, ``size`` and
    ``mtime`` only where empty); returns how many rows changed. ``ValueError`` names a column
    that is not a score's."""
    changed = 0
    for frame_id, scores in rows:
        sets, args = [], []
        for column, value in scores.items():
            if column in _WRITTEN:
                sets.append(f"{column} = ?")
            elif column in _FILLED_IF_EMPTY:
                sets.append(f"{column} = COALESCE({column}, ?)")
            else:
                raise ValueError(f"{column!r} is not a score column")
            args.append(value)
        if sets:
            sql = f"UPDATE frames SET {', '.join(sets)} WHERE id = ?"
            changed += conn.execute(sql, (*args, frame_id)).rowcount
    return changed


def unscored(
    conn: db.Connection, cid: int, collection: str, after: tuple[float, int] | None, limit: int
) -> list[tuple[Frame, bool]]:
    """:meth:`pylapse.index.store.FrameIndex.unscored` of collection row ``cid``, whose key is
    ``collection``."""
    utc, fid = after if after is not None else (float("-inf"), -1)
    sql = (
        f"SELECT {FRAME_COLUMNS}, f.sky_r_mean IS NULL FROM frames f "
        "JOIN scanned_dirs d ON d.id = f.dir_id WHERE f.collection_id = ? "
        "AND (f.dhash IS NULL OR f.hash_distance IS NULL OR f.sky_r_mean IS NULL) "
        "AND f.utc >= ? AND (f.utc > ? OR f.id > ?) ORDER BY f.utc, f.id LIMIT ?"
    )  # utc bound on its own: SQLite then starts at it (the OR alone walked from the start)
    rows = conn.execute(sql, (cid, utc, utc, fid, int(limit))).fetchall()
    frames = frames_from_rows(collection, (row[:-1] for row in rows))
    return [(frame, bool(row[-1])) for frame, row in zip(frames, rows, strict=True)]


def count_unscored(conn: db.Connection, cid: int, at_most: int | None = None) -> int:
    """Frames of collection row ``cid`` without quality scores (no hash) or sky metrics, read
    from the partial index that holds only them; ``at_most``: counting stops there (the count
    reads one index entry per frame: an archive of millions never scored takes about a second,
    too long for a page that refreshes while a job runs)."""
    limit = db.NO_LIMIT if at_most is None else max(0, int(at_most))
    row = conn.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM frames WHERE collection_id = ? "
        f"AND {_UNMEASURED_SQL} LIMIT ?) AS t",
        (cid, limit),
    ).fetchone()
    return int(row[0])


def previous_hash(
    conn: db.Connection, cid: int, utc: float, frame_id: int
) -> tuple[int, int | None]:
    """:meth:`pylapse.index.store.FrameIndex.previous_hash` of collection row ``cid``."""
    row = conn.execute(
        "SELECT id, dhash FROM frames WHERE collection_id = ? "
        "AND utc <= ? AND (utc < ? OR id < ?) ORDER BY utc DESC, id DESC LIMIT 1",
        (cid, utc, utc, frame_id),
    ).fetchone()
    if row is None:
        return 0, None
    return int(row[0]), None if row[1] is None else int(row[1])


def aligned_columns(
    conn: db.Connection,
    cid: int,
    lo: float | None,
    hi: float | None,
    ids: Sequence[int],
    columns: Sequence[str],
) -> dict[str, Sequence[Any]]:
    """Score ``columns`` of the frames ``ids`` (in time order, all of collection row ``cid``
    with ``lo <= utc < hi``), each a list aligned with ``ids``: read in one query over the
    range's rows, None where a frame has no value (or left the index)."""
    unknown = sorted(set(columns) - _READABLE)
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a score column; readable: {sorted(_READABLE)}")
    where, params = range_where(cid, lo, hi)
    rows = conn.execute(
        f"SELECT f.id, {', '.join(f'f.{c}' for c in columns)} FROM frames f WHERE {where} "
        "ORDER BY f.utc, f.id",
        params,
    ).fetchall()
    if len(rows) != len(ids) or any(r[0] != i for r, i in zip(rows, ids, strict=True)):
        # a name mask (or a write since the times were read): align by id
        by_id = {r[0]: r for r in rows}
        empty = (None,) * (len(columns) + 1)
        rows = [by_id.get(i, empty) for i in ids]
    return {c: [r[k + 1] for r in rows] for k, c in enumerate(columns)}
