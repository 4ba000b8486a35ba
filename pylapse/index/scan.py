"""Walking a collection's folders into the frame index, incrementally.

What a user waits for at millions of frames, and why the scan is shaped this way:

* A folder whose mtime is unchanged since it was last listed has the same entries, so it is not
  listed again; its subfolders are known from the database and visited in turn. A rescan with
  no change costs one ``stat`` per folder and parses nothing.
* A folder that is listed is compared with its rows by name and inode (a directory listing gives
  both without touching the files): new names are parsed and inserted, missing ones deleted, and
  a name whose inode changed (the file was replaced, which is how atomic writes and copies
  update a frame) is parsed again and its metrics cleared.
* Files are not ``stat``-ed. On Linux that is one system call per file, several times the cost
  of listing it (``./bench.sh index`` prints both), and on a cold cache a disk read per file. A
  file rewritten in place keeps its inode and leaves its folder's mtime alone, so no quick rescan
  could notice it anyway: ``verify=True`` lists every folder and ``stat``s every file, catching
  those and filling ``size``/``mtime``.
* A folder modified less than :data:`RACY_NS` before it was listed is stored as "list it next
  time": with coarse filesystem timestamps, a file added in the same clock tick as the listing
  would otherwise leave the mtime unchanged and stay unseen.
* Each listed folder is one transaction (``BEGIN IMMEDIATE``: the rows are read and written
  under the write lock, so two scanners never insert the same frame), rows go in in name order,
  and ``day_counts`` is updated in the same transaction.
* A cold scan is as fast as the listing allows (``./bench.sh index``): the walk (``stat``,
  listing, reading a new folder's default-format names) runs in the calling thread while a
  writer thread applies each listed folder and a third checkpoints the WAL. A new folder's
  default-format names are read in batches (:func:`pylapse.naming.fastparse.default_batch`), and a
  day goes in with one ``INSERT ... SELECT FROM json_each(?)`` statement (name -> inode and
  clock packed in one integer), which runs whole inside SQLite with the GIL released, so walking
  and writing use two cores (:mod:`pylapse.index.scan_pipeline`). Other names go in with
  ``executemany``. A row whose file is missing from a listing is deleted only if the file is
  still missing when the folder is written: capture may have added it after the listing.
* A symlink is followed only when its target lies inside the scan's roots (the storage roots,
  and always the scanned folder itself): a link to a file or folder anywhere else is not
  indexed (whatever its name says, the dashboard would serve it as a frame) and is reported
  (:attr:`ScanResult.links_outside`, the first few in :attr:`ScanResult.outside_paths`, and
  a log line). Only entries that are links cost anything: the listing says which they are
  (:mod:`pylapse.index.scan_listing` lists a folder and tells its frames).
* What is not frames is left out: hidden files and folders (pyLapse's staging and temp folders,
  ``.pylapse-*``, are hidden), a folder holding an export's manifest (pyLapse's own output sitting
  inside a frame folder; the scanned folder itself is always read) and whatever the collection's
  ``ignore`` patterns match (:class:`pylapse.storage.IgnoreRules`; ``rejected/`` by default). A
  folder that was indexed and is left out now loses its rows, as if it were gone.
* A scan that finds none of the folders holding the collection's frames (a root that is gone,
  or empty: the mount point of a disk that is not mounted) refuses with :class:`ScanError`
  and deletes nothing: an unplugged disk must not wipe a million-frame index.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

from pylapse import db, storage
from pylapse.index.datesource import FrameTimes, Resolved
from pylapse.index.scan_listing import FolderListing
from pylapse.index.scan_pipeline import (
    Checkpointer,
    NewRows,
    Parent,
    Slot,
    Writer,
    pack_names,
)
from pylapse.index.scan_result import ScanResult
from pylapse.index.scan_writer import CHUNK, FolderWriter
from pylapse.index.zones import DEPENDENT
from pylapse.naming import fastparse
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

__all__ = [
    "CHECKPOINT_AFTER",
    "DEFAULT_EXTENSIONS",
    "DEFAULT_IGNORE",
    "RACY_NS",
    "SOURCE_CAPTURE",
    "ScanError",
    "Scanner",
]

DEFAULT_EXTENSIONS = storage.FRAME_EXTENSIONS
DEFAULT_IGNORE = storage.DEFAULT_IGNORE
SOURCE_CAPTURE = "capture"  # the time capture named the frame for
RACY_NS = 2_000_000_000
CHECKPOINT_AFTER = 20_000  # rows written before checkpoints move to a thread of their own

log = logging.getLogger(__name__)

Row = tuple[Any, ...]


class ScanError(RuntimeError):
    """A scan that cannot run at all (missing root folder, bad option)."""


@dataclass(slots=True)
class _Dir:
    id: int
    parent_id: int | None
    path: str
    mtime_ns: int | None


class Scanner:
    """One scan of one collection; :meth:`run` walks ``root`` and returns a :class:`ScanResult`."""

    def __init__(
        self,
        conn: db.Connection,
        lock: threading.RLock,
        collection_id: int,
        collection: str,
        tz: tzinfo,
        *,
        pattern: re.Pattern[str] | str | None = None,
        date_source: str = "auto",
        extensions: Iterable[str] = DEFAULT_EXTENSIONS,
        verify: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        roots: Iterable[str | os.PathLike[str]] = (),
        ignore: Iterable[str] = DEFAULT_IGNORE,
    ) -> None:
        self.conn, self.lock, self.cid, self.collection = conn, lock, collection_id, collection
        self._roots = [os.fspath(r) for r in roots]
        try:
            self.ignore = storage.IgnoreRules.of(ignore)
        except ValueError as exc:
            raise ScanError(f"collection {collection!r}: ignore: {exc}") from None
        try:
            self.times = FrameTimes(tz, pattern, date_source)
        except ValueError as exc:
            raise ScanError(str(exc)) from None
        self.extensions = tuple(
            e.lower() if e.startswith(".") else "." + e.lower() for e in extensions
        )
        if not self.extensions:
            raise ScanError("no file extensions to index; give at least one, such as '.jpg'")
        self.extensions_key = ",".join(sorted(set(self.extensions)))  # stored by the index
        self.verify, self.cancel = verify, cancel
        self.progress = Throttle(progress, 0.25) if progress is not None else None
        self.root = Path()
        self.result = ScanResult(collection, self.root)
        # listing a folder and telling its frames; listing.root is self.root as a str
        self.listing = FolderListing(self.result, self.extensions, self.ignore)
        # the writing half, handed the row readers it needs (it runs in the writer thread)
        self.writes = FolderWriter(
            conn, lock, collection_id, self.result, verify,
            pack=self._pack, rows=self._rows, resolve=self._resolve,
            is_frame=self.listing.is_frame,
        )
        self._known: dict[str, _Dir] = {}
        self._seen: set[int] = set()
        self._writer: Writer | None = None
        self._checkpointer: Checkpointer | None = None
        self._autocheckpoint: int | None = None
        # New folders' names are read by the walking thread when no per-name work is needed.
        self._batch = self.times.fast is not None and self.times.names_first and not verify

    # --- the walk -------------------------------------------------------------------------------

    def run(self, root: str | os.PathLike[str]) -> ScanResult:
        started = time.perf_counter()
        root_s = os.path.abspath(os.fspath(root))
        self.root = self.result.root = Path(root_s)
        self.listing.start(root_s, self._roots)
        if not os.path.isdir(root_s):
            raise ScanError(
                f"collection {self.collection!r}: folder {root_s} does not exist or is not a "
                "folder (its index rows are kept)"
            )
        with self.lock:
            self._known = known = {
                r[2]: _Dir(r[0], r[1], r[2], r[3])
                for r in self.conn.execute(
                    "SELECT id, parent_id, path, mtime_ns FROM scanned_dirs "
                    "WHERE collection_id = ?",
                    (self.cid,),
                )
            }
            stored = self.conn.execute(
                "SELECT extensions FROM index_collections WHERE id = ?", (self.cid,)
            ).fetchone()
        # Unchanged folders are skipped by mtime, which says nothing about files of a type the
        # last scan left out: a new set of extensions (or none recorded) lists them all again.
        self._relist = bool(known) and (stored is None or stored[0] != self.extensions_key)
        self.result.extensions_changed = self._relist
        if known and self._frame_folders_gone(root_s):
            raise ScanError(
                f"collection {self.collection!r}: none of the folders that hold its indexed "
                f"frames is in {root_s} any more (is its disk mounted?); its index rows are "
                "kept. Remove the collection to forget them."
            )
        children: dict[int, list[str]] = {}
        for d in known.values():
            if d.parent_id is not None:
                children.setdefault(d.parent_id, []).append(d.path)
        seen: set[int] = set()
        self._seen = seen
        visited: set[tuple[int, int]] = set()  # (device, inode): a symlink loop is walked once
        stack: list[tuple[str, Parent]] = [(root_s, None)]
        done = 0
        try:
            while stack:
                if self.cancel is not None and self.cancel.is_set():
                    raise Cancelled(f"scan of {self.collection!r} cancelled after {done} folders")
                path, parent = stack.pop()
                row = known.get(path)
                subdirs = self._visit(path, parent, row, children, seen, visited)
                stack.extend((p, seen_id) for p, seen_id in reversed(subdirs))
                done += 1
                self._report(started, done, max(len(known), done + len(stack)))
        except BaseException:
            if self._writer is not None:
                self._writer.finish(discard=True)  # folders not yet written: listed next time
            self._stop_checkpoints()
            raise
        try:
            if self._writer is not None:
                self._writer.finish()
        finally:
            self._stop_checkpoints()
        gone = [d.id for d in known.values() if d.id not in seen]
        if gone:
            self.writes.delete_dirs(gone)
        self.result.elapsed = time.perf_counter() - started
        self._report(started, done, done)
        if self.result.links_outside:
            log.warning("scan of %r: %s", self.collection, self.result.outside_message)
        return self.result

    def _frame_folders_gone(self, root: str) -> bool:
        """Whether the index holds frames of this collection but none of their folders is
        there: the root is empty, or every folder with frames has vanished.

        That is what a disk that is not mounted looks like (its mount point stays, empty): a
        scan would delete every row, so it refuses instead. One folder still there is enough
        to go ahead (stops at the first one found). Whoever deleted every frame on purpose
        removes the collection instead, which forgets its rows.
        """
        with self.lock:
            folders = [
                r[0]
                for r in self.conn.execute(
                    "SELECT path FROM scanned_dirs d WHERE collection_id = ? "
                    "AND EXISTS (SELECT 1 FROM frames f WHERE f.dir_id = d.id)",
                    (self.cid,),
                )
            ]
        for path in folders:
            if path != root and os.path.isdir(path):
                return False
            if path == root:
                with os.scandir(root) as entries:
                    if next(entries, None) is not None:
                        return False
        return bool(folders)

    def _visit(
        self,
        path: str,
        parent: Parent,
        row: _Dir | None,
        children: dict[int, list[str]],
        seen: set[int],
        visited: set[tuple[int, int]],
    ) -> list[tuple[str, Parent]]:
        """Bring one folder up to date; returns its subfolders to visit, with its row id.

        A listed folder is handed to the writer thread; its row id (the subfolders' parent) is
        a :class:`Slot` the writer fills when the folder is new. A folder left out (ignored, or
        pyLapse's own output) is not marked seen, so rows it had go at the end.
        """
        if path != self.listing.root and self.ignore.folder(self.listing.relative(path)):
            return []
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return []  # gone since its parent was listed: its rows go at the end
        except OSError as exc:
            self.result.note(f"{path}: cannot be read ({exc.strerror}); its rows are kept")
            if row is not None:
                self._keep(row.id, children, seen)
            return []
        ident = (st.st_dev, st.st_ino)
        if ident in visited:
            return []
        visited.add(ident)
        if (
            row is not None
            and not self.verify
            and not self._relist
            and row.mtime_ns == st.st_mtime_ns
            and row.parent_id == self._parent_id(parent)
        ):
            self.result.dirs_skipped += 1
            seen.add(row.id)
            return [(p, row.id) for p in sorted(children.get(row.id, ()))]
        try:
            files, subdirs = self.listing.list_folder(path)
        except OSError as exc:
            self.result.note(f"{path}: cannot be listed ({exc.strerror}); its rows are kept")
            if row is None:
                return []
            seen.add(row.id)
            return [(p, row.id) for p in sorted(children.get(row.id, ()))]
        if path != self.listing.root and not files.keys().isdisjoint(storage.OUTPUT_MARKERS):
            log.debug("scan of %r: %s is an export, not frames; left out", self.collection, path)
            return []
        racy = time.time_ns() - st.st_mtime_ns < RACY_NS
        files = self.listing.frames(path, files)
        prepared = None
        if row is None and self._batch and files and len(files) <= CHUNK:
            # A new folder's names are read here, in the walking thread, while the writer
            # thread applies the previous folder.
            prepared = pack_names(sorted(files), files)
        slot = Slot(None if row is None else row.id)
        if self._writer is None:
            self._writer = Writer(self._write)
        job = (path, parent, slot, None if racy else st.st_mtime_ns, files, prepared)
        self._writer.put(job)
        self.result.dirs_listed += 1
        return [(p, slot) for p in sorted(subdirs)]

    def _parent_id(self, parent: Parent) -> int | None:
        if isinstance(parent, Slot):
            assert self._writer is not None  # only the writer creates rows
            return parent.get(self._writer)
        return parent

    def _write(self, job: tuple[Any, ...]) -> None:
        """The writer thread's part: one listed folder (queued in walk order, parents first)."""
        path, parent, slot, mtime_ns, files, prepared = job
        parent_id = parent.value if isinstance(parent, Slot) else parent
        dir_id = self.writes.apply(path, parent_id, mtime_ns, files, prepared)
        self._seen.add(dir_id)
        slot.set(dir_id)
        if (
            self._checkpointer is None
            and self.result.added >= CHECKPOINT_AFTER
            and db.backend(self.conn) is db.Backend.SQLITE  # PostgreSQL checkpoints itself
        ):
            self._start_checkpoints()
        if self._checkpointer is not None:
            self._checkpointer.nudge()

    def _start_checkpoints(self) -> None:
        """Checkpoints from a thread of their own while the writer thread writes
        (:class:`pylapse.index.scan_pipeline.Checkpointer`); autocheckpoint is off meanwhile.

        Started by the writer thread once a scan has written :data:`CHECKPOINT_AFTER` rows: a
        small scan is done before another connection and thread would pay off.
        """
        with self.lock:  # capture may use the connection meanwhile (add_frame)
            self._autocheckpoint = self.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            self.conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = Checkpointer(self.conn)

    def _stop_checkpoints(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._autocheckpoint is not None:
            with self.lock:
                self.conn.execute(f"PRAGMA wal_autocheckpoint = {int(self._autocheckpoint)}")
            self._autocheckpoint = None

    def _keep(self, dir_id: int, children: dict[int, list[str]], seen: set[int]) -> None:
        """Mark a folder and its stored subtree as present (it could not be read this time)."""
        todo = [dir_id]
        while todo:
            current = todo.pop()
            seen.add(current)
            todo.extend(self._known[p].id for p in children.get(current, ()) if p in self._known)

    def _report(self, started: float, done: int, total: int) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed > 0 else None
        eta = (total - done) / rate if rate else None
        message = f"{self.result.added} new, {self.result.deleted} gone"
        self.progress(Progress("scan", done, total, rate, eta, message))

    # --- one folder -----------------------------------------------------------------------------

    def _pack(self, names: list[str], inodes: dict[str, int]) -> NewRows:
        return pack_names(names, inodes) if self._batch else NewRows(rest=names)

    def _rows(self, path: str, new: NewRows, inodes: dict[str, int]) -> NewRows:
        """Finish reading new names: the per-name path for ``new.rest`` (the cold-scan loop).

        Returns the rows to insert: ``rest`` read into ``full`` rows, or into ``quick`` ones by
        the fast per-name path.
        """
        times = self.times
        quick, rows = new.quick, []
        slow: list[str] = []
        names = new.rest
        if times.fast is not None and times.names_first and not self.verify:
            # Only names that carry their offset take the quick path (certain, file unopened);
            # a wall clock alone is checked against the file's own evidence.
            fast = fastparse.default_utc
            append = quick.append
            for name in names:
                hit = fast(name)
                if hit is None:
                    slow.append(name)
                else:
                    append((name, float(hit[0]), hit[1], inodes[name]))
        else:
            slow = names
        for name in slow:
            resolved = self._resolve(path, name)
            if resolved is not None:
                rows.append((name, resolved.utc, resolved.offset, inodes[name], *resolved[2:]))
        self.result.parsed += len(names) + sum(p[3] for p in new.packed)
        return NewRows(new.packed, quick, [], rows)

    def _resolve(self, path: str, name: str) -> Resolved | None:
        times = self.times
        try:
            folder = self.listing.relative(path) if path != self.listing.root else ""
            relative = f"{folder}/{name}" if folder else name
            resolved = times.resolve(path, name, stat=self.verify, relative=relative)
        except OSError as exc:
            self.result.skipped += 1
            self.result.note(f"{os.path.join(path, name)}: cannot be read ({exc.strerror})")
            return None
        if resolved is None:
            self.result.skipped += 1
            self.result.note(
                f"{os.path.join(path, name)}: no date and time in the name "
                f"(date_source {times.date_source!r})"
            )
        elif resolved.offset_source in DEPENDENT:
            self.result.dependent += 1
        return resolved
