"""The one SQLite file every component keeps its tables in: ``<data_path>/pylapse.db``.

Connections are tuned for many readers and one writer at a time (WAL), and for a writer that
waits for another instead of failing at once (``busy_timeout``). Each component owns its tables
and versions them with :func:`migrate`: a list of numbered schema steps, applied once each, in
order, recorded in ``schema_versions``.

Python's default transaction handling is kept (a transaction starts implicitly before the first
write and ``with conn:`` commits it); :func:`transaction` is there for read-then-write work that
must hold the write lock from its first read.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["DB_NAME", "MigrationError", "connect", "migrate", "schema_version", "transaction"]

DB_NAME = "pylapse.db"
BUSY_TIMEOUT_MS = 5000
# A new file's page size; an existing file keeps its own. A compromise between the two ways the
# index is written. A cold scan writes millions of rows in bulk: against SQLite's 4 KB, 8 KB
# pages cut its time by about 7% (16 KB: 10%; ``./bench.sh index``). Capture commits one frame
# at a time, and each commit appends its few whole pages to the WAL: about 18 KB a frame with
# 4 KB pages, 35 KB with 8 KB, 68 KB with 16 KB; years of writes to a Pi's SD card.
PAGE_SIZE = 8192


class MigrationError(RuntimeError):
    """A schema step that failed, or a database newer than this program."""


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating the folder and file if needed) the database at ``path``.

    ``path`` may be the data folder itself, in which case :data:`DB_NAME` inside it is used.
    """
    path = Path(path)
    if path.is_dir():
        path = path / DB_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, cached_statements=256
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Only takes effect while the file is still empty, before WAL mode is set on it.
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # e.g. a network filesystem without shared memory
        conn.close()
        raise sqlite3.OperationalError(f"{path}: cannot use WAL journal mode (got {mode!r})")
    # NORMAL is durable across application crashes in WAL mode; only a power cut can lose the
    # last transactions, which the index (a cache of the files) recovers from by rescanning.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -32000")  # 32 MB: the index's B-trees at millions of rows
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error); joins an open transaction.

    IMMEDIATE takes the write lock up front, so a transaction that reads before it writes cannot
    fail half-way with "database is locked" when another connection wrote in between.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


_VERSIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_versions (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)"""


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    """The number of ``component``'s schema steps applied so far (0 for none)."""
    conn.execute(_VERSIONS_TABLE)
    row = conn.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (component,)
    ).fetchone()
    return int(row[0]) if row else 0


def migrate(conn: sqlite3.Connection, component: str, steps: Sequence[str]) -> int:
    """Apply the steps of ``component``'s schema that this database lacks; return the version.

    ``steps[0]`` is version 1, ``steps[1]`` version 2, and so on; a step is a script of one or
    more SQL statements. Steps are append-only: never edit one that has shipped, add a new one.
    Each step runs in its own transaction together with the version bump, so a failing step
    leaves the database at the previous version. Running ``migrate`` again is a no-op.
    """
    with transaction(conn):
        current = schema_version(conn, component)
        if current > len(steps):
            raise MigrationError(
                f"the database's {component!r} schema is version {current}, newer than this "
                f"program knows ({len(steps)}); upgrade pyLapse or use another data folder"
            )
    for number in range(current + 1, len(steps) + 1):
        with transaction(conn):
            # Another process may have migrated while we waited for the write lock.
            if schema_version(conn, component) >= number:
                continue
            try:
                for statement in _statements(steps[number - 1]):
                    conn.execute(statement)
            except sqlite3.Error as exc:
                raise MigrationError(f"{component} schema step {number} failed: {exc}") from exc
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                (component, number),
            )
    return max(current, len(steps))


def _statements(script: str) -> Iterator[str]:
    """Split a script into complete statements (``executescript`` would commit mid-step)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise MigrationError(f"incomplete SQL statement in schema step: {buffer.strip()!r}")
