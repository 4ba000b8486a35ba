"""Frames scored by an older method (schema step 10, :data:`pylapse.imaging.quality.VERSION`).

A frame's ``score_version`` is written with its scores (NULL: scored before versions were
recorded, by the method before version 1). Scores of two versions are on different scales, so
the index tells how many frames a newer method has not scored yet (:func:`count_older`) and
walks them in time order for ``pylapse metrics --rescore-old`` (:func:`older_where`): a
rescored frame leaves the walk, which is what makes the job resumable.
:class:`pylapse.index.store.FrameIndex` answers by collection key; these take its connection
and collection row.
"""

from __future__ import annotations

from typing import Any

from pylapse import db

__all__ = ["count_older", "next_hash", "older_where"]

# Scored frames only (what the partial index of step 10 holds: the literal "dhash IS NOT NULL"
# lets SQLite use it). NULL and "< version" are counted apart: each is one range of that index.
_OLDER = "f.dhash IS NOT NULL AND (f.score_version IS NULL OR f.score_version < ?)"


def count_older(conn: db.Connection, cid: int, version: int, at_most: int | None = None) -> int:
    """Frames of collection row ``cid`` whose scores an older method than ``version`` made;
    ``at_most``: counting stops there (the count reads one index entry per frame, ~0.7 us on
    SQLite: an archive of millions not rescored yet takes seconds, too long for a page)."""
    limit = db.NO_LIMIT if at_most is None else max(0, int(at_most))
    counts = [
        int(
            conn.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM frames WHERE collection_id = ? "
                f"AND dhash IS NOT NULL AND {older} LIMIT ?) AS t",
                (cid, *args, limit),
            ).fetchone()[0]
        )
        for older, args in (("score_version IS NULL", ()), ("score_version < ?", (version,)))
    ]
    return min(limit, sum(counts))


def older_where(
    cid: int, version: int, after: tuple[float, int] | None
) -> tuple[str, tuple[Any, ...]]:
    """``(where, params)`` over frames ``f``: the older-scored frames of ``cid`` after the
    ``(utc, id)`` ``after`` in time order (None: from the first)."""
    utc, fid = after if after is not None else (float("-inf"), -1)
    # utc bound on its own: SQLite then starts at it (the OR alone walked from the start)
    where = f"f.collection_id = ? AND {_OLDER} AND f.utc >= ? AND (f.utc > ? OR f.id > ?)"
    return where, (cid, int(version), utc, utc, fid)


def next_hash(
    conn: db.Connection, cid: int, utc: float, frame_id: int, version: int
) -> tuple[int, int | None, bool]:
    """``(id, dhash, older)`` of the frame of ``cid`` just after ``(utc, frame_id)`` in time:
    whose hash distance is to that frame; ``older``: scored before ``version`` (a rescoring
    walk reaches it anyway). ``(0, None, False)`` when there is none."""
    row = conn.execute(
        "SELECT id, dhash, score_version FROM frames WHERE collection_id = ? AND utc >= ? "
        "AND (utc > ? OR id > ?) ORDER BY utc, id LIMIT 1",
        (cid, utc, utc, frame_id),
    ).fetchone()
    if row is None:
        return 0, None, False
    dhash = None if row[1] is None else int(row[1])
    return int(row[0]), dhash, dhash is not None and (row[2] is None or int(row[2]) < version)
