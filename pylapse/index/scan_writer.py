"""The scan's writing half: one listed folder compared with its rows and the difference
written (new rows, replaced files, deleted files, per-day counts), and vanished folders
forgotten. :class:`pylapse.index.scan.Scanner` walks and reads names and hands a
:class:`FolderWriter` the row readers it needs; the two halves run in different threads
(:mod:`pylapse.index.scan_pipeline`) and share only the connection, under ``lock``.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from itertools import chain
from typing import TYPE_CHECKING, Any

from pylapse import db
from pylapse.index import deadflags
from pylapse.index.daycounts import DAY_SQL, bump_days, day_of
from pylapse.index.scan_pipeline import CLOCK_BITS, NewRows
from pylapse.index.schema import SKY_COLUMNS

if TYPE_CHECKING:
    from pylapse.index.datesource import Resolved
    from pylapse.index.scan_result import ScanResult

__all__ = ["CHUNK", "FolderWriter"]

CHUNK = 20_000  # new rows per transaction in a huge folder
_SKY_CLEARED = ", ".join(f"{c} = NULL" for c in SKY_COLUMNS)  # a replaced image's sky
_WHERE_FROM = "time_source, offset_source, time_status, time_reason"
# A name that carries its offset (the packed and quick rows): proven without opening the file.
_FROM_NAME = "'name', 'name', 'certain', ''"
_NAME_EVIDENCE = ("name", "name", "certain", "")  # the same, as values
# the columns of a new row (NewRows.full's order), as PostgreSQL's COPY writes them
_COPIED = ("name", "utc", "utc_offset", "inode", "source", "size", "mtime",
           "time_source", "offset_source", "time_status", "time_reason")  # fmt: skip


class FolderWriter:
    """Writes one folder's changes into collection ``cid``'s rows (from the writer thread).

    ``pack`` turns new names into rows without per-name work, ``rows`` finishes them (per-name
    times where needed) and ``resolve`` reads one file's time: the scanner's readers.
    """

    def __init__(
        self,
        conn: db.Connection,
        lock: threading.RLock,
        cid: int,
        result: ScanResult,
        verify: bool,
        *,
        pack: Callable[[list[str], dict[str, int]], NewRows],
        rows: Callable[[str, NewRows, dict[str, int]], NewRows],
        resolve: Callable[[str, str], Resolved | None],
        is_frame: Callable[[str], bool] = lambda _name: True,
    ) -> None:
        self.conn, self.lock, self.cid, self.result, self.verify = conn, lock, cid, result, verify
        self._pack, self._rows, self._resolve = pack, rows, resolve
        self._is_frame = is_frame  # False for a name the collection's extensions now leave out
        self._checked: int | None = None  # the folder whose rows this transaction read

    def apply(
        self,
        path: str,
        parent_id: int | None,
        mtime_ns: int | None,
        files: dict[str, int],
        prepared: NewRows | None = None,
    ) -> int:
        """Compare a listed folder with its rows and write the difference.

        One transaction, or one per :data:`CHUNK` new files in a huge folder so that capture
        (another process, waiting at most ``busy_timeout``) is never locked out for long. The
        folder's mtime is stored with the last one: an interrupted scan lists it again.
        """
        conn, cid, result = self.conn, self.cid, self.result
        with self.lock, db.transaction(conn):
            dir_id = conn.execute(
                "INSERT INTO scanned_dirs (collection_id, parent_id, path) VALUES (?, ?, ?) "
                "ON CONFLICT (collection_id, path) DO UPDATE SET parent_id = excluded.parent_id "
                "RETURNING id",
                (cid, parent_id, path),
            ).fetchone()[0]
            stored = {
                r[0]: r[1:]
                for r in conn.execute(
                    "SELECT name, id, inode, utc, utc_offset, size, mtime FROM frames "
                    "WHERE dir_id = ?",
                    (dir_id,),
                )
            }
            delta: Counter[tuple[int, int]] = Counter()
            new: NewRows | None = None
            if stored:
                added, changed, fills = self._compare(path, files, stored)
                # A file missing from the listing but there now was added after the listing
                # (capture's add_frame, while this folder waited for the writer): keep its row,
                # unless its type is no longer one of the collection's extensions.
                gone = [
                    v
                    for name, v in stored.items()
                    if name not in files
                    and (not self._is_frame(name) or not os.path.isfile(os.path.join(path, name)))
                ]
                for _fid, _inode, utc, offset, _size, _mtime in gone:
                    delta[(day_of(utc, offset), offset)] -= 1
                conn.executemany("DELETE FROM frames WHERE id = ?", [(v[0],) for v in gone])
                result.deleted += len(gone)
            else:
                added, changed, fills = sorted(files) if prepared is None else list(files), [], []
                if prepared is not None and len(added) <= CHUNK:  # read by the walking thread
                    new = self._rows(path, prepared, files)
            if changed:
                self._update(path, changed, files, stored, delta)
            if fills:
                conn.executemany(
                    "UPDATE frames SET inode = ?, size = COALESCE(?, size), "
                    "mtime = COALESCE(?, mtime) WHERE id = ?",
                    fills,
                )
            bump_days(conn, cid, delta)
            self._touch(delta)
            if new is None:
                new = self._rows(path, self._pack(added[:CHUNK], files), files)
            self._checked = dir_id  # its rows were read in this transaction (see _copy)
            try:
                self._insert(dir_id, new)
            finally:
                self._checked = None
            if len(added) <= CHUNK:
                self._done(dir_id, parent_id, mtime_ns)
        for start in range(CHUNK, len(added), CHUNK):
            with self.lock, db.transaction(conn):
                chunk = self._pack(added[start : start + CHUNK], files)
                self._insert(dir_id, self._rows(path, chunk, files))
                if start + CHUNK >= len(added):
                    self._done(dir_id, parent_id, mtime_ns)
        return int(dir_id)

    def _touch(self, delta: Counter[tuple[int, int]]) -> None:
        """Note the local days whose rows changed (frames without offset evidence near them
        are re-resolved after the scan: :mod:`pylapse.index.zones`)."""
        days = [day for (day, _offset), n in delta.items() if n]
        if days:
            self.result.touch(min(days) * 86400.0, (max(days) + 1) * 86400.0)

    def _done(self, dir_id: int, parent_id: int | None, mtime_ns: int | None) -> None:
        self.conn.execute(
            "UPDATE scanned_dirs SET mtime_ns = ?, parent_id = ? WHERE id = ?",
            (mtime_ns, parent_id, dir_id),
        )

    def _insert(self, dir_id: int, rows: NewRows) -> None:
        """Insert new rows and count them into ``day_counts``.

        A row another scanner inserted meanwhile (between two chunks) is left alone: the counts
        are of the rows actually inserted (``rowcount`` of a batch; the rows past the largest id
        for the others, grouped in SQL).
        """
        conn, cid = self.conn, self.cid
        if db.backend(conn) is db.Backend.POSTGRESQL:
            self._copy(dir_id, rows, known=self._checked == dir_id)
            return
        # The ids are integers from the database: inlined, so each row binds only its own values.
        into = "INSERT INTO frames (collection_id, dir_id, name, utc, utc_offset, inode, "
        conflict = "ON CONFLICT (dir_id, name) DO NOTHING"
        if rows.packed:
            # One statement per batch: SQLite runs it whole with the GIL released.
            sql = (
                f"{into}source, {_WHERE_FROM}) SELECT {int(cid)}, {int(dir_id)}, key, "
                f"? + (CAST(value AS INTEGER) & {(1 << CLOCK_BITS) - 1}), ?, "
                f"CAST(value AS INTEGER) >> {CLOCK_BITS}, 'filename', {_FROM_NAME} "
                f"FROM json_each(?) WHERE true {conflict}"
            )
            delta: Counter[tuple[int, int]] = Counter()
            for day, offset, payload, _count in rows.packed:
                inserted = conn.execute(sql, (day * 86400 - offset, offset, payload)).rowcount
                delta[(day, offset)] += inserted
                self.result.added += inserted
            bump_days(conn, cid, delta)
            self._touch(delta)
        quick, full = rows.quick, rows.full
        if not quick and not full:
            return
        locals_ = [r[1] + r[2] for r in chain(quick, full)]
        self.result.touch(min(locals_), max(locals_))
        last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM frames").fetchone()[0]
        if quick:
            conn.executemany(
                f"{into}source, {_WHERE_FROM}) VALUES ({int(cid)}, {int(dir_id)}, ?, ?, ?, ?, "
                f"'filename', {_FROM_NAME}) {conflict}",
                quick,
            )
        if full:
            conn.executemany(
                f"{into}source, size, mtime, {_WHERE_FROM}) VALUES ({int(cid)}, "
                f"{int(dir_id)}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {conflict}",
                full,
            )
        conn.execute(
            "INSERT INTO day_counts (collection_id, day, utc_offset, n) "
            f"SELECT ?, {DAY_SQL} AS d, utc_offset, COUNT(*) FROM frames WHERE id > ? "
            "GROUP BY d, utc_offset "
            "ON CONFLICT (collection_id, day, utc_offset) DO UPDATE SET n = n + excluded.n",
            (cid, last_id),
        )
        self.result.added += conn.execute(
            "SELECT COUNT(*) FROM frames WHERE id > ?", (last_id,)
        ).fetchone()[0]

    def _copy(self, dir_id: int, rows: NewRows, *, known: bool) -> None:
        """:meth:`_insert` on PostgreSQL: every new row of the folder in one ``COPY``
        (:func:`pylapse.db.bulk_insert`), the packed names unpacked here.

        ``known``: the folder's rows were read in this transaction, so no new row can clash
        with one (every writer of frames holds the write lock, :func:`pylapse.db.transaction`):
        the rows go straight into ``frames`` (~20% less than through a table that skips
        clashes, which a later chunk of a huge folder needs: capture may add a frame between),
        and ``day_counts`` is bumped from the rows in hand, as SQLite's packed rows are.
        Otherwise it is counted from the rows past the largest id, as inserted.
        """
        if not (rows.packed or rows.quick or rows.full):
            return
        mask = (1 << CLOCK_BITS) - 1
        unpacked = [(day, offset, json.loads(payload)) for day, offset, payload, _n in rows.packed]
        packed = (
            (name, base + (value & mask), offset, value >> CLOCK_BITS, "filename", None, None,
             *_NAME_EVIDENCE)
            for day, offset, names in unpacked
            for base in (day * 86400.0 - offset,)
            for name, value in names.items()
        )  # fmt: skip
        quick = ((*row, "filename", None, None, *_NAME_EVIDENCE) for row in rows.quick)
        conn, cid = self.conn, self.cid
        last_id = (
            0 if known else conn.execute("SELECT COALESCE(MAX(id), 0) FROM frames").fetchone()[0]
        )
        inserted = db.bulk_insert(
            conn,
            "frames",
            _COPIED,
            chain(packed, quick, rows.full),
            constants={"collection_id": int(cid), "dir_id": int(dir_id)},
            skip_conflicts=() if known else ("dir_id", "name"),
        )
        if not inserted:
            return
        self.result.added += inserted
        if known:
            # Counted here, not read back: the server re-reading every new row to group it
            # was ~10% of a cold scan (1 M frames).
            delta: Counter[tuple[int, int]] = Counter()
            for day, offset, names in unpacked:
                delta[(day, offset)] += len(names)
            for row in chain(rows.quick, rows.full):
                delta[(day_of(row[1], row[2]), row[2])] += 1
            bump_days(conn, cid, delta)
            self._touch(delta)
            return
        days = conn.execute(
            "INSERT INTO day_counts (collection_id, day, utc_offset, n) "
            f"SELECT ?, {DAY_SQL} AS d, utc_offset, COUNT(*) FROM frames WHERE id > ? "
            "GROUP BY d, utc_offset "
            "ON CONFLICT (collection_id, day, utc_offset) DO UPDATE SET n = n + excluded.n "
            "RETURNING day",
            (cid, last_id),
        ).fetchall()
        if days:
            first, last = min(d[0] for d in days), max(d[0] for d in days)
            self.result.touch(first * 86400.0, (last + 1) * 86400.0)

    def _compare(
        self, path: str, files: dict[str, int], stored: dict[str, tuple[Any, ...]]
    ) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
        """New names, replaced names, and rows to fill in (inode, size, mtime) unchanged."""
        added: list[str] = []
        changed: list[str] = []
        fills: list[tuple[int, int | None, float | None, Any]] = []  # None: keep the stored value
        for name in sorted(files):
            old = stored.get(name)
            if old is None:
                added.append(name)
                continue
            fid, inode, _utc, _offset, size, mtime = old
            new_inode = files[name]
            if inode is not None and inode != new_inode:
                changed.append(name)
                continue
            if self.verify:
                try:
                    st = os.stat(os.path.join(path, name))
                except OSError:
                    continue
                if (size is not None and size != st.st_size) or (
                    mtime is not None and abs(mtime - st.st_mtime) > 1e-6
                ):
                    changed.append(name)
                elif inode is None or size is None or mtime is None:
                    fills.append((new_inode, st.st_size, st.st_mtime, fid))
            elif inode is None:
                fills.append((new_inode, None, None, fid))
        return added, changed, fills

    def _update(
        self,
        path: str,
        names: list[str],
        inodes: dict[str, int],
        stored: dict[str, tuple[Any, ...]],
        delta: Counter[tuple[int, int]],
    ) -> None:
        """Re-read replaced files: new time, inode, size; metrics cleared (the image changed)."""
        updates, gone = [], []
        for name in names:
            fid, _inode, old_utc, old_offset, _size, _mtime = stored[name]
            delta[(day_of(old_utc, old_offset), old_offset)] -= 1
            resolved = self._resolve(path, name)
            self.result.parsed += 1
            if resolved is None:
                gone.append((fid,))
                continue
            utc, offset = resolved.utc, resolved.offset
            delta[(day_of(utc, offset), offset)] += 1
            updates.append((utc, offset, resolved.source, inodes[name], resolved.size,
                            resolved.mtime, *resolved[5:], fid))
        self.conn.executemany(
            "UPDATE frames SET utc = ?, utc_offset = ?, source = ?, inode = ?, size = ?, "
            "mtime = ?, time_source = ?, offset_source = ?, time_status = ?, time_reason = ?, "
            "width = NULL, height = NULL, luma = NULL, sharpness = NULL, "
            "contrast = NULL, noise = NULL, clip_high = NULL, clip_low = NULL, dhash = NULL, "
            f"hash_distance = NULL, grain = NULL, dead = NULL, {_SKY_CLEARED} WHERE id = ?",
            updates,
        )
        # a replaced image is not measured: neither dead itself nor a link of a run
        deadflags.refresh(self.conn, (u[-1] for u in updates))
        self.conn.executemany("DELETE FROM frames WHERE id = ?", gone)
        self.result.changed += len(updates)
        self.result.deleted += len(gone)

    def delete_dirs(self, dir_ids: list[int]) -> None:
        """Forget folders that are gone (and every frame in them)."""
        conn = self.conn
        with self.lock, db.transaction(conn):
            delta: Counter[tuple[int, int]] = Counter()
            for dir_id in dir_ids:
                for utc, offset in conn.execute(
                    "SELECT utc, utc_offset FROM frames WHERE dir_id = ?", (dir_id,)
                ):
                    delta[(day_of(utc, offset), offset)] -= 1
                self.result.deleted += conn.execute(
                    "DELETE FROM frames WHERE dir_id = ?", (dir_id,)
                ).rowcount
            conn.executemany("DELETE FROM scanned_dirs WHERE id = ?", [(d,) for d in dir_ids])
            bump_days(conn, self.cid, delta)
            self._touch(delta)
        self.result.dirs_deleted += len(dir_ids)
