"""The cold scan's pipeline: names read by the walking thread, folders written by a writer
thread, the WAL checkpointed by a third (see :mod:`pylapse.index.scan`).

A day of default-format names becomes one JSON object ``{name: inode << 17 | seconds into the
day}`` that a single ``INSERT ... SELECT FROM json_each(?)`` statement inserts: SQLite runs the
whole statement with the GIL released, so the walk goes on in the other thread meanwhile. Names
are read and packed in batches by :func:`pack_names`. Checkpoints (copying the WAL into the
file, with ``fsync``) run beside the writer (:class:`Checkpointer`) instead of stopping it.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import lshift, or_
from typing import Any

from pylapse import db
from pylapse.naming import fastparse

__all__ = [
    "CHECKPOINT_THREAD",
    "CLOCK_BITS",
    "WRITER_THREAD",
    "Checkpointer",
    "NewRows",
    "Parent",
    "Slot",
    "Writer",
    "pack_names",
]

CLOCK_BITS = 17  # seconds into a day < 2**17: packed below the inode in one JSON integer
_MAX_PACKED_INODE = 1 << (63 - CLOCK_BITS)
_QUEUE = 4  # listed folders waiting for the writer thread
WRITER_THREAD = "pylapse-scan-writer"
CHECKPOINT_THREAD = "pylapse-scan-checkpoint"

Row = tuple[Any, ...]


@dataclass(slots=True)
class NewRows:
    """New names of one folder, read as far as possible without per-name Python calls.

    ``packed``: ``(day, offset, JSON {name: inode << 17 | seconds into the day}, count)`` per
    batch of default-format names; ``quick``: ``(name, utc, offset, inode)``; ``rest``: names for
    the per-name path (other formats, EXIF, mtime), which turns them into ``full`` rows
    ``(name, utc, offset, inode, source, size, mtime)``.
    """

    packed: list[tuple[int, int, str, int]] = field(default_factory=list)
    quick: list[Row] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)
    full: list[Row] = field(default_factory=list)


def pack_names(names: list[str], inodes: dict[str, int]) -> NewRows:
    """Read ``names`` (sorted) in batches (:func:`pylapse.naming.fastparse.default_batch`).

    Touches no shared state, so the walking thread can prepare a folder while the writer
    applies the previous one.
    """
    batches, rest = fastparse.default_batch(names)
    out = NewRows(rest=rest)
    for batch in batches:
        ids = list(map(inodes.__getitem__, batch.names))
        # A batch's names differ only in ASCII digits: the first one speaks for all. Inodes
        # from a listing are unsigned; a 64-bit one may be too large to pack.
        if _json_plain(batch.names[0]) and max(ids) < _MAX_PACKED_INODE:
            values = map(or_, map(lshift, ids, repeat(CLOCK_BITS)), batch.seconds)
            # Names that need no JSON escape: one C-level format of the whole object.
            pairs = tuple(chain.from_iterable(zip(batch.names, values, strict=True)))
            payload = "{" + ('"%s":%d,' * len(ids) % pairs)[:-1] + "}"
            out.packed.append((batch.day, batch.offset, payload, len(ids)))
        else:
            base = batch.day * 86400 - batch.offset
            utcs = map(float, map(base.__add__, batch.seconds))
            out.quick.extend(zip(batch.names, utcs, repeat(batch.offset), ids, strict=False))
    return out


def _json_plain(text: str) -> bool:
    """True if ``text`` is the same inside a JSON string (printable ASCII, no quote/backslash)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


class Slot:
    """A folder's row id, known at once for a folder already indexed, else once written."""

    __slots__ = ("_event", "value")

    def __init__(self, value: int | None = None) -> None:
        self.value = value
        self._event = threading.Event()
        if value is not None:
            self._event.set()

    def set(self, value: int) -> None:
        self.value = value
        self._event.set()

    def get(self, writer: Writer) -> int:
        while not self._event.wait(0.05):
            writer.check()
        assert self.value is not None
        return self.value


Parent = int | Slot | None


class Writer:
    """A thread applying listed folders in order while the walk goes on (see module doc)."""

    def __init__(self, apply: Callable[[tuple[Any, ...]], None]) -> None:
        self._apply = apply
        self._jobs: queue.Queue[tuple[Any, ...] | None] = queue.Queue(_QUEUE)
        self._error: BaseException | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=WRITER_THREAD, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is not None or self._stopping:
                continue  # drain: the walk has stopped or failed
            try:
                self._apply(job)
            except BaseException as exc:  # re-raised in the walking thread
                self._error = exc

    def check(self) -> None:
        if self._error is not None:
            self._stopping = True
            raise self._error
        if not self._thread.is_alive():
            raise RuntimeError("the scan's writer thread stopped")

    def put(self, job: tuple[Any, ...]) -> None:
        while True:
            self.check()
            try:
                self._jobs.put(job, timeout=0.05)
                return
            except queue.Full:
                continue

    def finish(self, *, discard: bool = False) -> None:
        """Wait for the queued folders (or drop them if ``discard``); raise the writer's error."""
        self._stopping = discard
        self._jobs.put(None)
        self._thread.join()
        if self._error is not None and not discard:
            raise self._error


class Checkpointer:
    """Checkpoints the WAL from a thread of its own while a scan writes.

    A checkpoint copies the WAL into the database file and ``fsync``s both: mostly waiting for
    the disk. Run by the writing connection (SQLite's autocheckpoint) that wait stops the writer;
    here the writing connection has autocheckpoint off and this thread runs a ``PASSIVE``
    checkpoint (which never blocks or is blocked by the writer) after each ``nudge``, on its own
    connection. Durability is SQLite's own: WAL frames are valid whether or not they have been
    copied yet, and the WAL is reused from its start once a checkpoint caught up. Best effort:
    a checkpoint that fails (the database busy with another process's checkpoint) is left to
    the next one, or to autocheckpoint once the scan restored it.
    """

    def __init__(self, conn: db.Connection) -> None:
        self._wake = threading.Event()
        self._stopping = False
        self._conn: db.Connection | None = None
        self._thread: threading.Thread | None = None
        path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
        if not path:  # an in-memory database has no WAL
            return
        self._conn = db.connect(path)
        self._thread = threading.Thread(target=self._loop, name=CHECKPOINT_THREAD, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        assert self._conn is not None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # best effort (see class doc)
        finally:
            self._conn.close()

    def nudge(self) -> None:
        """New frames are in the WAL: checkpoint them when the previous checkpoint is done."""
        self._wake.set()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join()
