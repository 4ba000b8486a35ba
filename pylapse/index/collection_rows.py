"""The index's row per collection (``index_collections``): its id, what its last scan
recorded, and forgetting or renaming it.

Frames, folders and day counts name their collection by this row's id, so renaming a
collection changes one row however many frames it has, and the row (and so its id) outlives
its frames: other processes keep ids cached. :class:`pylapse.index.store.FrameIndex` answers by
collection key, caching ids and holding the locks; these take its connection.
"""

from __future__ import annotations

from pylapse import db

__all__ = ["create", "drop", "find", "keys_with_frames", "last_zone", "record_scan", "rename"]

_OWNED = ("day_counts", "scanned_dirs")  # tables of a collection's own, besides its frames


def find(conn: db.Connection, key: str) -> int | None:
    """The id of collection ``key``'s row, None when it has none."""
    row = conn.execute("SELECT id FROM index_collections WHERE key = ?", (key,)).fetchone()
    return None if row is None else int(row[0])


def create(conn: db.Connection, key: str) -> int:
    """The id of collection ``key``'s row, created if another writer has not just done so."""
    row = conn.execute(
        "INSERT INTO index_collections (key) VALUES (?) "
        "ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING id",
        (key,),
    ).fetchone()
    return int(row[0])


def keys_with_frames(conn: db.Connection) -> list[str]:
    """:meth:`pylapse.index.store.FrameIndex.collections`."""
    rows = conn.execute(
        "SELECT key FROM index_collections c WHERE EXISTS "
        "(SELECT 1 FROM day_counts d WHERE d.collection_id = c.id AND d.n > 0) ORDER BY key"
    )
    return [r[0] for r in rows]


def last_zone(conn: db.Connection, cid: int) -> str | None:
    """The zone name the last scan of collection row ``cid`` took (None: never scanned)."""
    row = conn.execute("SELECT zone FROM index_collections WHERE id = ?", (cid,)).fetchone()
    return row[0] if row else None


def record_scan(
    conn: db.Connection, cid: int, root: str, zone: str, zones: str, extensions: str, at: float
) -> None:
    """Note on collection row ``cid`` what a scan at ``at`` (UTC seconds) took: its root
    folder, zone, zone timeline (:attr:`pylapse.index.zones.ZoneTimeline.key`) and extensions."""
    conn.execute(
        "UPDATE index_collections SET root = ?, zone = ?, zones = ?, scanned_at = ?, "
        "extensions = ? WHERE id = ?",
        (root, zone, zones, at, extensions, cid),
    )


def drop(conn: db.Connection, cid: int) -> int:
    """:meth:`pylapse.index.store.FrameIndex.drop` of collection row ``cid``."""
    gone = int(conn.execute("DELETE FROM frames WHERE collection_id = ?", (cid,)).rowcount)
    for table in _OWNED:
        conn.execute(f"DELETE FROM {table} WHERE collection_id = ?", (cid,))
    # The collection's own row (and so its id) stays: other processes have it cached.
    conn.execute("UPDATE index_collections SET root = NULL, scanned_at = NULL WHERE id = ?", (cid,))
    return gone


def rename(conn: db.Connection, old: str, new: str) -> None:
    """:meth:`pylapse.index.store.FrameIndex.rename`, in the caller's transaction."""
    source = find(conn, old)
    if source is None:
        return
    target = find(conn, new)
    if target is not None:
        if conn.execute(
            "SELECT 1 FROM frames WHERE collection_id = ? LIMIT 1", (target,)
        ).fetchone():
            raise ValueError(f"the index already has frames under {new!r}")
        for table in _OWNED:
            conn.execute(f"DELETE FROM {table} WHERE collection_id = ?", (target,))
        conn.execute("DELETE FROM index_collections WHERE id = ?", (target,))
    conn.execute("UPDATE index_collections SET key = ? WHERE id = ?", (new, source))
