"""The SQLite backend: the default, one file in the data folder (``<data_path>/pylapse.db``).

Connections are tuned for many readers and one writer at a time (WAL), and for a writer that
waits for another instead of failing at once (``busy_timeout``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["BUSY_TIMEOUT_MS", "DB_NAME", "PAGE_SIZE", "connect"]

DB_NAME = "pylapse.db"
BUSY_TIMEOUT_MS = 5000
# A new file's page size; an existing file keeps its own. A compromise between the two ways the
# index is written. A cold scan writes millions of rows in bulk: against SQLite's 4 KB, 8 KB
# pages cut its time by about 7% (16 KB: 10%; ``./bench.sh index``). Capture commits one frame
# at a time, and each commit appends its few whole pages to the WAL: about 18 KB a frame with
# 4 KB pages, 35 KB with 8 KB, 68 KB with 16 KB; years of writes to a Pi's SD card.
PAGE_SIZE = 8192


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
