"""Each frame's dead-camera verdict, stored in ``frames.dead`` when its scores are written
(issue 17): ``'frozen'``, ``'blank'``, ``'dark'`` or NULL (alive, or not measured).

The rule is :mod:`pylapse.selection.dead_camera`'s; this module only decides *where* to apply
it. A frame's verdict depends on its run of one picture, so writing (or clearing) the scores
of a frame re-decides the runs around it: the run of the frame before it, its own and that of
the frame after it (only those runs can have changed: a run's frames are linked frame to
frame, and only the links next to the frame moved). :func:`refresh` reads a window of
:data:`FROZEN_AFTER` frames either side, which settles those runs whatever lies beyond
(:func:`~pylapse.selection.dead_camera.settled_flags`), and writes the verdicts that changed:
a camera that stays frozen for a week costs each capture two small reads and one row written.
A frame the window leaves alive may still be far darker than the day before: that verdict is
:mod:`pylapse.index.darkflags`'s, asked here for those frames, and of the frames a day after
the changed ones.

Selections then read only the dead frames through a partial index (``frames_dead``), instead
of every scored frame of the range: a million-frame preview stays as fast as without the
dead-camera default. Frames already scored when the column came are decided once, a
collection at a time in bounded chunks (:func:`backfill`, at the index's first open after
the migration: the collections listed in ``dead_unchecked``).

Removing frames (retention, a scan that finds a file gone) leaves the others' verdicts as
they were: a frozen camera's frames stay a frozen camera's frames when retention thins them.
"""

from __future__ import annotations

import threading
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

from pylapse import db
from pylapse.index import darkflags
from pylapse.selection.dead_camera import (
    BLANK_CONTRAST,
    DARK_CANDIDATE_LUMA,
    FROZEN_AFTER,
    Dead,
    DeadFrames,
    settled_flags,
)

__all__ = ["CHUNK", "DEAD_SQL", "backfill", "backfill_pending", "read_dead", "refresh"]

CHUNK = 20_000  # rows a backfill decides per transaction (capture waits at most for one)
_AFTER = 256  # frames read after a changed one at most: a batch of them often fits in one
_IDS = 500  # frame ids per IN (...) list
_COLUMNS = "id, utc, luma, contrast, hash_distance, dead, utc_offset, grain"
# Queries next to a frame bound utc on its own first ("utc >= ?"): with only the (utc, id) OR
# SQLite walks the collection's index from one end (a metrics batch early in a million-frame
# collection read most of it per window).
# Written out (not bound) so that SQLite uses the partial index frames_dead.
DEAD_SQL = "dead IS NOT NULL"
# the stored word -> Dead, in SQL (a word no longer known reads as alive: 0)
_KIND_SQL = (
    "CASE dead "
    + " ".join(f"WHEN '{d.name.lower()}' THEN {int(d)}" for d in Dead if d)
    + " ELSE 0 END"
)

Row = list[Any]  # [id, utc, luma, contrast, hash_distance, dead, utc_offset, grain], as read


def _word(kind: int) -> str | None:
    return Dead(kind).name.lower() if kind else None


def _decide(
    conn: db.Connection, cid: int, window: Sequence[Row], *, first: bool, last: bool
) -> tuple[int, int, int]:
    """Decide ``window`` (rows in time order) and write the settled verdicts that changed
    (the rows' last item follows). Returns ``(rows written, lo, hi)``: ``[lo, hi)`` settled."""
    luma = [r[2] for r in window]
    contrast = [r[3] for r in window]
    hd = [r[4] for r in window]
    grain = [r[7] for r in window]
    flags, lo, hi = settled_flags(luma, contrast, hd, first=first, last=last, grain=grain)
    alive = [i for i in range(lo, hi) if not flags[i]]
    dark = darkflags.dark(conn, cid, [(window[i][1], window[i][6], luma[i]) for i in alive])
    dark_at = {i for i, d in zip(alive, dark, strict=True) if d}
    changes = []
    for i in range(lo, hi):
        word = darkflags.DARK if i in dark_at else _word(flags[i])
        if word != window[i][5]:
            changes.append((word, window[i][0]))
            window[i][5] = word
    if changes:
        conn.executemany("UPDATE frames SET dead = ? WHERE id = ?", changes)
    return len(changes), lo, hi


def refresh(conn: db.Connection, frame_ids: Iterable[int]) -> int:
    """Re-decide the verdicts around frames whose scores were just written or cleared, in the
    caller's transaction on ``conn``; returns how many rows changed. Ids gone are skipped."""
    ids = list(dict.fromkeys(int(i) for i in frame_ids))
    places: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    for start in range(0, len(ids), _IDS):
        part = ids[start : start + _IDS]
        marks = ", ".join("?" * len(part))
        for cid, utc, fid in conn.execute(
            f"SELECT collection_id, utc, id FROM frames WHERE id IN ({marks})", part
        ):
            places[cid].append((utc, fid))
    return sum(
        _refresh_collection(conn, cid, sorted(p))
        + darkflags.refresh_next_day(conn, cid, (utc for utc, _ in p))
        for cid, p in places.items()
    )


def _refresh_collection(conn: db.Connection, cid: int, places: list[tuple[float, int]]) -> int:
    changed, i = 0, 0
    while i < len(places):
        utc, fid = places[i]
        before = conn.execute(
            f"SELECT {_COLUMNS} FROM frames WHERE collection_id = ? "
            "AND utc <= ? AND (utc < ? OR id < ?) ORDER BY utc DESC, id DESC LIMIT ?",
            (cid, utc, utc, fid, FROZEN_AFTER),
        ).fetchall()
        # room for the changed frames that follow (a metrics batch: one window, mostly)
        limit = FROZEN_AFTER + 1 + min(2 * (len(places) - i), _AFTER)
        after = conn.execute(
            f"SELECT {_COLUMNS} FROM frames WHERE collection_id = ? "
            "AND utc >= ? AND (utc > ? OR id >= ?) ORDER BY utc, id LIMIT ?",
            (cid, utc, utc, fid, limit),
        ).fetchall()
        last = len(after) < limit
        window = [list(r) for r in chain(reversed(before), after)]
        first = len(before) < FROZEN_AFTER
        written, _lo, _hi = _decide(conn, cid, window, first=first, last=last)
        changed += written
        # Settled here: the runs around each changed frame with FROZEN_AFTER frames after it
        # in the window (or the collection's end); the window's start has as many before.
        end = len(after) - 1 if last else len(after) - 1 - FROZEN_AFTER
        reach = (after[end][1], after[end][0]) if end >= 0 else places[i]
        while i < len(places) and places[i] <= reach:
            i += 1
    return changed


def backfill(
    conn: db.Connection,
    lock: threading.RLock,
    cid: int,
    *,
    chunk: int = CHUNK,
    done: str | None = None,
) -> int:
    """Decide every frame of collection ``cid`` in time order, :data:`CHUNK` frames per
    transaction (memory: a chunk and the few frames of a run it cut); returns how many rows
    changed. ``done``: a statement run with ``(cid,)`` in the last transaction (the mark of a
    collection still to decide is removed with its last verdicts)."""
    changed = 0
    carry: list[Row] = []  # the end of the last chunk, needed to decide what follows
    first = True  # the window starts at the collection's first frame
    after: tuple[float, int] = (float("-inf"), -1)
    while True:
        with lock, db.transaction(conn):
            if not carry and first and not _may_be_dead(conn, cid):
                if done is not None:
                    conn.execute(done, (cid,))
                return 0
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM frames WHERE collection_id = ? "
                "AND utc >= ? AND (utc > ? OR id > ?) ORDER BY utc, id LIMIT ?",
                (cid, after[0], after[0], after[1], chunk),
            ).fetchall()
            last = len(rows) < chunk
            window = carry + [list(r) for r in rows]
            written, _lo, hi = _decide(conn, cid, window, first=first, last=last)
            changed += written
            if last:
                if done is not None:
                    conn.execute(done, (cid,))
                return changed
        after = (rows[-1][1], rows[-1][0])
        # Carried on: an unsettled last run with the frame before it (which shows where the
        # run starts), or, when the last run is settled, its last FROZEN_AFTER frames.
        start = max(hi - 1, 0) if hi < len(window) else max(len(window) - FROZEN_AFTER, 0)
        first = first and start == 0
        carry = window[start:]


def _may_be_dead(conn: db.Connection, cid: int) -> bool:
    """Whether any frame of ``cid`` is or can be dead (blank, a repeat, dark enough to be far
    darker than the day before, or flagged)."""
    row = conn.execute(
        "SELECT 1 FROM frames WHERE collection_id = ? "
        f"AND (contrast < ? OR hash_distance = 0 OR luma < ? OR {DEAD_SQL}) LIMIT 1",
        (cid, BLANK_CONTRAST, DARK_CANDIDATE_LUMA),
    ).fetchone()
    return row is not None


def backfill_pending(conn: db.Connection, lock: threading.RLock) -> int:
    """Decide the collections listed in ``dead_unchecked`` by the schema step that added
    ``frames.dead`` (their frames were scored before verdicts were stored); returns how many
    rows changed."""
    with lock:
        pending = [r[0] for r in conn.execute("SELECT collection_id FROM dead_unchecked")]
    done = "DELETE FROM dead_unchecked WHERE collection_id = ?"
    return sum(backfill(conn, lock, cid, done=done) for cid in pending)


def read_dead(conn: db.Connection, where: str, params: Sequence[object]) -> DeadFrames:
    """The dead frames among ``frames f`` rows matching ``where`` (a collection and a time
    range, on ``f.``), in time order, read through the partial index of the dead."""
    cursor = conn.execute(
        f"SELECT f.id, f.utc, {_KIND_SQL} FROM frames f WHERE {where} AND f.{DEAD_SQL} "
        "ORDER BY f.utc, f.id",
        params,
    )
    ids, utcs, kinds = array("q"), array("d"), bytearray()
    for rows in iter(lambda: cursor.fetchmany(8192), []):
        flat = list(chain.from_iterable(rows))
        ids.fromlist(flat[0::3])
        utcs.fromlist(flat[1::3])
        kinds.extend(flat[2::3])
    return DeadFrames(ids, utcs, bytes(kinds))
