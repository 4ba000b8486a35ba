"""FrameIndex's methods over per-frame scores, by collection key: writing them, the walks over
frames still to score or scored by an older method, reading them for a selection's quality
filters, and the dead-camera verdicts they decide.

A mixin of :class:`pylapse.index.store.FrameIndex`, which gives it its connections, locks and
collection ids; the queries themselves are in :mod:`.scores`, :mod:`.score_versions`,
:mod:`.deadflags` and :mod:`.darkflags`, which take a connection and a collection row.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pylapse import db, timeutil
from pylapse.index import darkflags, deadflags, score_versions
from pylapse.index import scores as frame_scores
from pylapse.index.frame import (
    FRAME_COLUMNS,
    Frame,
    TimeBound,
    bound_seconds,
    frames_from_rows,
    range_where,
)
from pylapse.index.time_cache import SHORT, Kept
from pylapse.selection.dead_camera import DeadFrames

__all__ = ["ScoreMethods"]


class ScoreMethods:
    """The score methods of :class:`pylapse.index.store.FrameIndex` (a mixin: it sets the
    attributes and gives the two methods declared here)."""

    _conn: db.Connection
    _lock: threading.RLock
    # collection id -> its dead frames under (frame stamp, dead stamp): see dead_frames
    _dead: Kept[DeadFrames]

    def _reader(self) -> db.Connection:
        raise NotImplementedError

    def _collection_id(self, key: str) -> int | None:
        raise NotImplementedError

    def set_scores(self, rows: Iterable[tuple[int, Mapping[str, float | int | None]]]) -> int:
        """Write quality scores and sky metrics of frames by id (one transaction); returns how
        many rows changed.

        ``luma``, ``width`` and ``height`` are only filled where empty (capture's stay). The
        dead-camera verdicts of the runs around these frames follow in the same transaction
        (:func:`pylapse.index.deadflags.refresh`), across the batch's borders too.
        """
        rows = list(rows)
        if not rows:
            return 0
        with self._lock, db.transaction(self._conn):
            changed = frame_scores.write_scores(self._conn, rows)
            deadflags.refresh(self._conn, (frame_id for frame_id, _scores in rows))
            return changed

    def dead_frames(
        self, collection: str, start: TimeBound = None, end: TimeBound = None
    ) -> DeadFrames:
        """The frames of ``collection`` with ``start <= utc < end`` whose scores say a dead
        camera took them (frozen runs, blank pictures, far darker than the day before:
        :mod:`pylapse.selection.dead_camera`), in time order, read through a partial index of
        the few dead frames. A run cut by the range is decided whole (the verdicts are stored
        per frame as scores are written)."""
        cid = self._collection_id(collection)
        if cid is None:
            return DeadFrames(array("q"), array("d"), b"")
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        conn = self._reader()
        # A collection's dead frames are kept while neither its frames nor its verdicts
        # changed (a preview asked at every change of a form field reads them once): a frozen
        # week is ~60,000 rows, ~50 ms to read.
        stamp = conn.execute(
            "SELECT (SELECT stamp FROM frame_stamps WHERE collection_id = ?), "
            "(SELECT stamp FROM dead_stamps WHERE collection_id = ?)",
            (cid, cid),
        ).fetchone()
        dead = self._dead.get(cid, stamp)
        if dead is None:
            if lo is not None and hi is not None and hi - lo <= SHORT:
                return deadflags.read_dead(conn, *range_where(cid, lo, hi))
            dead = deadflags.read_dead(conn, *range_where(cid, None, None))
            self._dead.put(cid, stamp, dead)
        first = 0 if lo is None else bisect_left(dead.utcs, lo)
        stop = len(dead) if hi is None else bisect_left(dead.utcs, hi)
        return DeadFrames(dead.ids[first:stop], dead.utcs[first:stop], dead.kinds[first:stop])

    def recheck_dead(self, collection: str) -> int:
        """Decide every dead-camera verdict of ``collection`` again from its stored scores
        (after scores were written around the index, e.g. by hand); returns how many changed."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        return deadflags.backfill(self._conn, self._lock, cid)

    def luma_day_before(self, collection: str, when: datetime) -> float | None:
        """Mean luma of ``collection``'s frame nearest the same local time a day before
        ``when`` (within 30 minutes; None: none): what a frame far darker than it is compared
        with, at capture as in the stored ``'dark'`` verdicts (:mod:`.darkflags`)."""
        cid = self._collection_id(collection)
        if cid is None:
            return None
        utc, offset = when.timestamp(), timeutil.offset_seconds(when)
        return darkflags.luma_day_before(self._reader(), cid, utc, offset)

    def unscored(
        self, collection: str, after: tuple[float, int] | None, limit: int
    ) -> list[tuple[Frame, bool]]:
        """Up to ``limit`` frames of ``collection`` missing a hash, a hash distance or sky
        metrics, in time order after ``after`` (the ``(utc, id)`` of the last one seen): a
        resumable walk. Each comes with whether its sky metrics are missing."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        return frame_scores.unscored(self._reader(), cid, collection, after, limit)

    def score_columns(
        self,
        collection: str,
        start: TimeBound,
        end: TimeBound,
        ids: Sequence[int],
        columns: Sequence[str],
    ) -> dict[str, Sequence[Any]]:
        """Score ``columns`` (``sharpness``, ``luma``...) of the frames ``ids`` of
        ``collection``, in time order with ``start <= utc < end``, each a list aligned with
        ``ids`` (None: no value): what the quality filters of a selection read."""
        cid = self._collection_id(collection)
        if cid is None or not ids:
            return {c: [None] * len(ids) for c in columns}
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        return frame_scores.aligned_columns(self._reader(), cid, lo, hi, ids, columns)

    def count_unscored(self, collection: str, at_most: int | None = None) -> int:
        """Frames of ``collection`` that still need a decode: no quality scores (no hash) or
        no sky metrics yet, up to ``at_most`` (:func:`pylapse.index.scores.count_unscored`)."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        return frame_scores.count_unscored(self._reader(), cid, at_most)

    def count_old_scores(
        self, collection: str, version: int, at_most: int | None = None
    ) -> int:
        """Frames of ``collection`` whose scores a method older than ``version`` made, up to
        ``at_most`` (:func:`pylapse.index.score_versions.count_older`)."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        return score_versions.count_older(self._reader(), cid, version, at_most)

    def old_scored(
        self, collection: str, version: int, after: tuple[float, int] | None, limit: int
    ) -> list[Frame]:
        """Up to ``limit`` frames of ``collection`` scored by a method older than ``version``,
        in time order after ``after`` (the ``(utc, id)`` of the last one seen): a resumable
        walk, as :meth:`unscored`."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        where, params = score_versions.older_where(cid, version, after)
        rows = self._reader().execute(
            f"SELECT {FRAME_COLUMNS} FROM frames f JOIN scanned_dirs d ON d.id = f.dir_id "
            f"WHERE {where} ORDER BY f.utc, f.id LIMIT ?",
            (*params, int(limit)),
        )
        return frames_from_rows(collection, rows.fetchall())

    def next_hash(
        self, collection: str, utc: float, frame_id: int, version: int
    ) -> tuple[int, int | None, bool]:
        """:func:`pylapse.index.score_versions.next_hash` of ``collection``'s frame after
        ``(utc, frame_id)``: ``(id, dhash, scored by a method older than version)``."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0, None, False
        return score_versions.next_hash(self._reader(), cid, utc, frame_id, version)

    def previous_hash(self, collection: str, utc: float, frame_id: int) -> tuple[int, int | None]:
        """``(id, dhash)`` of the frame of ``collection`` just before ``(utc, frame_id)`` in
        time; ``(0, None)`` when there is none (the dHash is None when not scored yet)."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0, None
        return frame_scores.previous_hash(self._reader(), cid, utc, frame_id)
