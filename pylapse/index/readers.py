"""The frame index's reading connections: one per thread, and at most a few on PostgreSQL.

Reads never wait for the writer (SQLite's WAL; PostgreSQL's MVCC), so each thread reads
through a connection of its own, opened at its first read. On PostgreSQL a connection is a
process on the server (``max_connections``, 100 by default, for every host and worker
together) while the dashboard reads from up to 40 threads: past :data:`PG_READERS`, threads
share the connections already open. :class:`pylapse.index.store.FrameIndex` holds one.
"""

from __future__ import annotations

import sqlite3
import threading

from pylapse import db

__all__ = ["PG_READERS", "Readers"]

PG_READERS = 4  # reading connections a FrameIndex opens to PostgreSQL at most


class Readers:
    """The reading connections to the index at ``location``; ``lock`` guards opening and
    closing them (the index's write lock)."""

    def __init__(self, location: str, backend: db.Backend, lock: threading.RLock) -> None:
        self._location = location
        self._backend = backend
        self._lock = lock
        self._local = threading.local()
        self._open: list[db.Connection] = []
        self._shared: list[int] = []  # threads given a reader another thread opened
        self._closed = False

    def get(self) -> db.Connection:
        """This thread's reading connection (opened, or shared, at its first read)."""
        conn: db.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise sqlite3.ProgrammingError(
                    f"the frame index {db.describe(self._location)} is closed"
                )
            with self._lock:
                if self._backend is db.Backend.POSTGRESQL and len(self._open) >= PG_READERS:
                    # Reads take no transaction and psycopg fetches a result whole, serialising
                    # the threads of a connection per statement only.
                    conn = self._open[len(self._shared) % PG_READERS]
                    self._shared.append(threading.get_ident())
                else:
                    conn = db.connect(self._location)
                    conn.row_factory = None  # plain tuples: hot queries build their own objects
                    self._open.append(conn)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close every reading connection; a read after this raises."""
        with self._lock:
            self._closed = True
            for conn in self._open:
                conn.close()
            self._open.clear()
