"""The frame index: one SQLite row per frame file, the cache of what is on disk.

Files are the truth; everything here can be rebuilt by deleting ``pylapse.db`` and scanning
again (:mod:`pylapse.index.scan` walks the folders). Rows are keyed by their folder and name, so two
frames taken in the same second never collapse; queries run on ``(collection, utc)``.

Time is stored as UTC seconds plus the UTC offset that applied when the frame was taken, so a
frame keeps its own wall clock across DST changes (:attr:`Frame.time`).

Per-day counts
    kept in ``day_counts`` in the same transaction as the frames: :mod:`pylapse.index.daycounts`.

Size and mtime
    A scan does not ``stat`` each file (see :mod:`pylapse.index.scan`), so ``size``/``mtime`` are
    filled by capture (:meth:`FrameIndex.add_frame`), by a verifying scan, or when a file's time
    had to come from its EXIF or mtime. ``width``/``height``/``luma`` and the other metric
    columns come from capture.

Where the queries live
    :class:`FrameIndex` answers by collection key and holds the connections
    (:mod:`.readers`), the locks and the caches; the SQL of each group is in its own module,
    taking a connection and a collection row: :mod:`.collection_rows`, :mod:`.frame_writes`,
    :mod:`.frame_listing`, :mod:`.frame_files`, :mod:`.time_flags`, :mod:`.daycounts`,
    :mod:`.sky_queries`, :mod:`.time_cache`, :mod:`.scan_run`; the score and sky-metric methods
    come from the mixins :class:`pylapse.index.score_methods.ScoreMethods` and
    :class:`pylapse.index.sky_methods.SkyMethods`.
"""

from __future__ import annotations

import os
import re
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from pylapse import db, timeutil
from pylapse.index import (
    collection_rows,
    daycounts,
    deadflags,
    frame_files,
    frame_listing,
    frame_writes,
    time_flags,
)
from pylapse.index import scores as frame_scores
from pylapse.index.frame import Frame, TimeBound, bound_seconds
from pylapse.index.readers import Readers
from pylapse.index.scan import DEFAULT_EXTENSIONS, DEFAULT_IGNORE, SOURCE_CAPTURE, Scanner
from pylapse.index.scan_result import ScanResult
from pylapse.index.scan_run import run_scan
from pylapse.index.schema import COMPONENT, SCHEMA, SKY_COLUMNS
from pylapse.index.score_methods import ScoreMethods
from pylapse.index.sky_methods import SkyMethods
from pylapse.index.time_cache import SHORT, Kept, read_times
from pylapse.index.zones import ZoneTimeline
from pylapse.progress import ProgressCallback
from pylapse.selection.dead_camera import DeadFrames

if TYPE_CHECKING:
    pass

__all__ = [
    "METRIC_COLUMNS",
    "SKY_COLUMNS",
    "FrameIndex",
]

METRIC_COLUMNS = ("width", "height", "luma", *frame_scores.SCORE_COLUMNS, "size", "mtime")


class FrameIndex(ScoreMethods, SkyMethods):
    """The frame index in a SQLite file or a PostgreSQL database (created and migrated on open).

    Thread-safe: writes go through one connection under a lock (each scanned folder is its own
    transaction, so capture can add frames during a long scan); reads use one connection per
    thread and never wait for a writer (SQLite's WAL; PostgreSQL's MVCC; :mod:`.readers`).
    """

    def __init__(self, location: str | os.PathLike[str]) -> None:
        """``location``: the SQLite file (or the data folder holding :data:`pylapse.db.DB_NAME`),
        or a ``postgresql://`` URL; :attr:`pylapse.config.Config.index_location` gives it."""
        self.backend = db.backend_of(location)
        if self.backend is db.Backend.POSTGRESQL:
            self.location = os.fspath(location)
            # No file: a path only for those who look at the disk it lives on (its folder).
            self.path = Path(db.DB_NAME)
        else:
            path = Path(location)
            self.path = path / db.DB_NAME if path.is_dir() else path
            self.location = str(self.path)
        self._conn = db.connect(self.location)
        self._lock = threading.RLock()
        self._scan_lock = threading.Lock()
        self._readers = Readers(self.location, self.backend, self._lock)
        self._ids: dict[str, int] = {}
        # collection id -> (ids, utcs) under its change stamp: see utc_times
        self._times: Kept[tuple[array[int], array[float]]] = Kept()
        # collection id -> its dead frames under (frame stamp, dead stamp): see dead_frames
        self._dead: Kept[DeadFrames] = Kept()
        try:
            db.migrate(self._conn, COMPONENT, SCHEMA)
            # frames scored before verdicts were stored: decided once (a few s a million)
            deadflags.backfill_pending(self._conn, self._lock)
        except BaseException:
            self._conn.close()
            raise

    # --- connections ----------------------------------------------------------------------------

    def _reader(self) -> db.Connection:
        return self._readers.get()

    def __str__(self) -> str:
        return db.describe(self.location)

    def close(self) -> None:
        with self._lock:
            self._readers.close()
            self._conn.close()

    def __enter__(self) -> FrameIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @overload
    def _collection_id(self, key: str, *, create: Literal[True]) -> int: ...
    @overload
    def _collection_id(self, key: str, *, create: bool = False) -> int | None: ...
    def _collection_id(self, key: str, *, create: bool = False) -> int | None:
        cid = self._ids.get(key)
        if cid is not None:
            return cid
        cid = collection_rows.find(self._reader(), key)
        if cid is None and create:
            with self._lock, db.transaction(self._conn):
                cid = collection_rows.create(self._conn, key)
        if cid is not None:
            self._ids[key] = cid
        return cid

    # --- writing --------------------------------------------------------------------------------

    def scan(
        self,
        collection: str,
        root: str | os.PathLike[str],
        tz: tzinfo | str | ZoneTimeline | None,
        pattern: re.Pattern[str] | str | None = None,
        date_source: str = "auto",
        extensions: Iterable[str] = DEFAULT_EXTENSIONS,
        progress: ProgressCallback | None = None,
        *,
        verify: bool = False,
        cancel: threading.Event | None = None,
        roots: Iterable[str | os.PathLike[str]] = (),
        ignore: Iterable[str] = DEFAULT_IGNORE,
    ) -> ScanResult:
        """Bring ``collection``'s rows up to date with the files under ``root`` (incremental).

        ``tz`` (the zone of frames without offset evidence) may be a :class:`ZoneTimeline`. Frames
        whose offset came from neighbours or the zone are re-resolved when the zone changed
        since the last scan (:attr:`ScanResult.zone_change`, :attr:`ScanResult.reresolved`).
        Folders whose mtime is unchanged since the last scan are not listed; in the others the
        listing is compared with the rows. ``verify`` lists every folder and ``stat``s every
        file, catching files rewritten in place and filling ``size``/``mtime``. A symlink is
        indexed (or walked) only when its target lies inside ``root`` or one of ``roots`` (the
        storage roots); the others are counted in :attr:`ScanResult.links_outside`. Raises
        :class:`ScanError` when ``root`` is not a folder, or when none of the folders that hold
        the collection's frames is there (the rows are kept: an unmounted disk, which may
        leave its empty mount point, must not empty the index). Hidden entries, folders holding
        an export's manifest and whatever the ``ignore`` patterns match
        (:class:`pylapse.storage.IgnoreRules`) are not indexed.
        """
        if isinstance(tz, ZoneTimeline):
            timeline = tz
        else:
            timeline = ZoneTimeline(timeutil.zone(tz) if tz is None or isinstance(tz, str) else tz)
        zone = timeline.default
        with self._scan_lock:
            cid = self._collection_id(collection, create=True)
            scanner = Scanner(
                self._conn,
                self._lock,
                cid,
                collection,
                zone,
                pattern=pattern,
                date_source=date_source,
                extensions=extensions,
                verify=verify,
                progress=progress,
                cancel=cancel,
                roots=roots,
                ignore=ignore,
            )
            result = run_scan(self._conn, self._lock, cid, scanner, root, timeline)
        result.total = self.count(collection)
        return result

    def add_frame(
        self,
        collection: str,
        path: str | os.PathLike[str],
        when: datetime,
        *,
        size: int | None,
        mtime: float | None,
        width: int | None = None,
        height: int | None = None,
        luma: float | None = None,
        source: str = SOURCE_CAPTURE,
        scores: Mapping[str, float | int | None] | None = None,
    ) -> int:
        """Index one frame just written (capture); returns its id. Re-adding a path updates it.

        ``scores`` fills quality columns (:data:`pylapse.index.scores.SCORE_COLUMNS`: sharpness,
        dhash...) and sky metrics (:data:`SKY_COLUMNS`).
        """
        if when.tzinfo is None:
            raise ValueError(f"add_frame needs an aware time, got {when.isoformat()}")
        utc, offset = when.timestamp(), timeutil.offset_seconds(when)
        file = os.path.abspath(os.fspath(path))
        cid = self._collection_id(collection, create=True)
        values = (source, size, mtime, width, height, luma)
        with self._lock, db.transaction(self._conn):
            return frame_writes.add_frame(self._conn, cid, file, utc, offset, values, scores)

    def drop(self, collection: str) -> int:
        """Forget every row of ``collection`` (the files stay); returns how many frames."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        with self._scan_lock, self._lock, db.transaction(self._conn):
            return collection_rows.drop(self._conn, cid)

    def remove_frames(self, collection: str, files: Iterable[tuple[int, str, str]]) -> int:
        """Forget the rows of frames whose files were moved away (retention's trash).

        Each ``(id, folder, name)`` is removed only while that id still names that file in
        ``collection`` (an id SQLite handed out again to a newer frame is left alone); the day
        counts follow in the same transaction. Returns how many rows went.
        """
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        # after any scan under way: one that listed a folder before a file left it would
        # otherwise write the file's row back after this removed it
        with self._scan_lock, self._lock, db.transaction(self._conn):
            return frame_writes.remove_frames(self._conn, cid, files)

    def rename(self, old: str, new: str) -> None:
        """Index ``old``'s frames under the key ``new`` (one row changes, however many frames).

        For a collection whose key changes, e.g. a camera's frames that stay a collection of
        their own after the camera was removed. Refused (``ValueError``) when ``new`` already
        has frames; an empty ``new`` (known but without frames) is replaced.
        """
        with self._scan_lock, self._lock, db.transaction(self._conn):
            collection_rows.rename(self._conn, old, new)
            self._ids.pop(old, None)
            self._ids.pop(new, None)

    # --- reading --------------------------------------------------------------------------------

    def collections(self) -> list[str]:
        """Keys of the collections that have frames."""
        return collection_rows.keys_with_frames(self._reader())

    def count(self, collection: str, start: TimeBound = None, end: TimeBound = None) -> int:
        """Frames of ``collection`` with ``start <= utc < end`` (either bound optional).

        Whole days inside the range are read from ``day_counts``; only the days cut by a bound
        are counted frame by frame, so a count over years costs about as much as over days.
        """
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        return daycounts.count_range(self._reader(), cid, lo, hi)

    def count_by_day(self, collection: str, tz: tzinfo | str | None = None) -> dict[date, int]:
        """Frames per local day in ``tz`` (default: the zone of the last scan), in day order."""
        cid = self._collection_id(collection)
        if cid is None:
            return {}
        return daycounts.count_by_day(self._reader(), cid, self._zone(cid, tz))

    def _zone(self, cid: int, tz: tzinfo | str | None) -> tzinfo:
        if tz is not None and not isinstance(tz, str):
            return tz
        if tz is None:
            tz = collection_rows.last_zone(self._reader(), cid)
        return timeutil.zone(tz)

    def frames(
        self,
        collection: str,
        start: TimeBound = None,
        end: TimeBound = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        descending: bool = False,
    ) -> list[Frame]:
        """Frames with ``start <= utc < end`` in time order (newest first if ``descending``)."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        return frame_listing.frames_in(
            self._reader(), cid, collection, lo, hi,
            limit=limit, offset=offset, descending=descending,
        )

    def file_rows(
        self, collection: str, start: TimeBound = None, end: TimeBound = None
    ) -> list[frame_listing.FileRow]:
        """``(id, folder, name, utc, offset, size, sharpness)`` of the frames with ``start <= utc
        < end``, in time order: what retention plans from, without building a :class:`Frame`
        and its path per row (half the time of :meth:`frames` over a day of frames)."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        return frame_listing.file_rows(self._reader(), cid, lo, hi)

    def first(self, collection: str) -> Frame | None:
        found = self.frames(collection, limit=1)
        return found[0] if found else None

    def last(self, collection: str) -> Frame | None:
        found = self.frames(collection, limit=1, descending=True)
        return found[0] if found else None

    def get(self, frame_id: int) -> Frame | None:
        return frame_listing.frame_by_id(self._reader(), frame_id)

    def size_totals(self, collection: str) -> tuple[int, int, int]:
        """``(frames, bytes of those whose size is known, frames whose size is not known)``.

        A scan does not ``stat`` files, so scanned frames have no size until a verifying scan;
        captured frames have theirs.
        """
        cid = self._collection_id(collection)
        if cid is None:
            return 0, 0, 0
        return frame_files.size_totals(self._reader(), cid)

    def unsized_paths(self, collection: str, limit: int) -> list[Path]:
        """Up to ``limit`` files of ``collection`` whose size is not known; a random sample
        when there are more."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        return frame_files.unsized_paths(self._reader(), cid, limit)

    def files_by_folder(self, collection: str) -> Iterator[tuple[str, list[str]]]:
        """``(folder, names)`` of every indexed file of ``collection``, a folder at a time,
        each folder before its parent."""
        cid = self._collection_id(collection)
        if cid is None:
            return
        yield from frame_files.files_by_folder(self._reader(), cid)

    def time_counts(self, collection: str) -> dict[tuple[str, str, str], int]:
        """Frames per ``(time_source, offset_source, status)``; rows indexed before these were
        recorded count under ``"unknown"``."""
        cid = self._collection_id(collection)
        if cid is None:
            return {}
        return time_flags.time_counts(self._reader(), cid)

    def flagged(
        self,
        collection: str,
        start: TimeBound = None,
        end: TimeBound = None,
        *,
        mtime: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Frame]:
        """Frames whose time is flagged (``conflict``/``implausible``) with ``start <= utc <
        end``, in time order; with ``mtime`` also those whose time fell back to the file's
        modification time."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        return time_flags.flagged(
            self._reader(), cid, collection, lo, hi, mtime=mtime, limit=limit, offset=offset
        )

    def count_flagged(self, collection: str, start: TimeBound = None, end: TimeBound = None) -> int:
        """How many frames :meth:`flagged` gives (without ``mtime``)."""
        cid = self._collection_id(collection)
        if cid is None:
            return 0
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        return time_flags.count_flagged(self._reader(), cid, lo, hi)

    def change_stamp(self, collection: str) -> int:
        """A number that changes whenever a frame of ``collection`` is added, removed or
        re-timed, by any connection or process (schema step 5's triggers); 0 before any."""
        cid = self._collection_id(collection)
        return 0 if cid is None else self._stamp(cid)

    def _stamp(self, cid: int) -> int:
        row = (
            self._reader()
            .execute("SELECT stamp FROM frame_stamps WHERE collection_id = ?", (cid,))
            .fetchone()
        )
        return 0 if row is None else int(row[0])

    def newest_id(self) -> int:
        """The largest frame id (0 when empty): frames indexed since a look have larger ones."""
        row = self._reader().execute("SELECT MAX(id) FROM frames").fetchone()
        return int(row[0] or 0)

    def frames_after(self, after: int, limit: int) -> list[Frame]:
        """Up to ``limit`` frames (any collection) with an id above ``after``, newest first:
        what was indexed since :meth:`newest_id` said ``after`` (the thumbnail maker's feed)."""
        return frame_listing.frames_after(self._reader(), after, limit)

    def utc_times(
        self, collection: str, start: TimeBound = None, end: TimeBound = None
    ) -> tuple[array[int], array[float]]:
        """``(ids, utcs)``: two parallel arrays in time order, for selections over millions.

        A collection's whole arrays are kept (:data:`pylapse.index.time_cache.KEPT` collections,
        most recently used) while its change stamp stays the same, so asking again (the export
        form's live preview, at every change of a field) slices them instead of reading a
        million rows.
        A short range of a collection not kept is read straight from the index (a day's
        selection need not load years of frames).
        """
        cid = self._collection_id(collection)
        if cid is None:
            return array("q"), array("d")
        lo, hi = bound_seconds(start, "start"), bound_seconds(end, "end")
        stamp = self._stamp(cid)  # before the rows: a write in between makes the entry stale
        kept = self._times.get(cid, stamp)
        if kept is None:
            if lo is not None and hi is not None and hi - lo <= SHORT:
                return read_times(self._reader(), cid, lo, hi)
            kept = read_times(self._reader(), cid, None, None)
            self._times.put(cid, stamp, kept)
        ids, utcs = kept
        first = 0 if lo is None else bisect_left(utcs, lo)
        stop = len(utcs) if hi is None else bisect_left(utcs, hi)
        return ids[first:stop], utcs[first:stop]  # copies: callers cannot change what is kept

