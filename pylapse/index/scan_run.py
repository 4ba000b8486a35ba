"""One scan as the frame index runs it, around the :class:`pylapse.index.scan.Scanner`.

The scanner's rows are written with a longer WAL checkpoint interval; then, in one
transaction, the offsets near what changed are re-resolved
(:func:`pylapse.index.zones.resolve_after_scan`) and the scan is noted on the collection's row
(:func:`pylapse.index.collection_rows.record_scan`). :meth:`pylapse.index.store.FrameIndex.scan`
builds the scanner and holds the scan lock; this takes its writing connection and lock.
"""

from __future__ import annotations

import os
import threading
from datetime import tzinfo

from pylapse import db, timeutil
from pylapse.index import collection_rows
from pylapse.index.scan import Scanner
from pylapse.index.scan_result import ScanResult
from pylapse.index.zones import ZoneTimeline, resolve_after_scan

__all__ = ["run_scan"]


def run_scan(
    conn: db.Connection,
    lock: threading.RLock,
    cid: int,
    scanner: Scanner,
    root: str | os.PathLike[str],
    timeline: ZoneTimeline,
) -> ScanResult:
    """Run ``scanner`` over ``root`` for collection row ``cid``, whose zones are ``timeline``."""
    # Checkpoint (copy the WAL into the file, with an fsync) every ~40 MB instead of
    # every ~4 MB while a scan writes: a cold scan of millions of rows fsyncs 10x less.
    # (A PRAGMA is SQLite's: PostgreSQL's connection drops it.)
    conn.execute("PRAGMA wal_autocheckpoint = 10000")
    try:
        known = conn.execute("SELECT MAX(id) FROM frames").fetchone()[0]
        result = scanner.run(root)
    finally:
        conn.execute("PRAGMA wal_autocheckpoint = 1000")
    with lock, db.transaction(conn):
        resolve_after_scan(conn, cid, timeline, result, known or 0)
        collection_rows.record_scan(
            conn,
            cid,
            str(scanner.root),
            _zone_name(timeline.default),
            timeline.key,
            scanner.extensions_key,
            timeutil.now().timestamp(),
        )
    return result


def _zone_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", None) or tz)
