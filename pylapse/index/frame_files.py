"""What the index knows of a collection's frame files themselves: how many bytes they hold
(sizes known and not), and every file per folder.

A scan does not ``stat`` files, so scanned frames have no size until a verifying scan;
captured frames have theirs. Removing a collection's frames reports their size (sampling the
unknown ones) and then deletes them a folder at a time. :class:`pylapse.index.store.FrameIndex`
answers by collection key; these take its connection and collection row.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pylapse import db

__all__ = ["files_by_folder", "size_totals", "unsized_paths"]


def size_totals(conn: db.Connection, cid: int) -> tuple[int, int, int]:
    """:meth:`pylapse.index.store.FrameIndex.size_totals` of collection row ``cid``."""
    n, known_bytes, sized = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(size), 0), COUNT(size) FROM frames WHERE collection_id = ?",
        (cid,),
    ).fetchone()
    return int(n), int(known_bytes), int(n) - int(sized)


def unsized_paths(conn: db.Connection, cid: int, limit: int) -> list[Path]:
    """:meth:`pylapse.index.store.FrameIndex.unsized_paths` of collection row ``cid``."""
    rows = conn.execute(
        "SELECT d.path, f.name FROM frames f JOIN scanned_dirs d ON d.id = f.dir_id "
        "WHERE f.collection_id = ? AND f.size IS NULL ORDER BY random() LIMIT ?",
        (cid, int(limit)),
    )
    return [Path(folder, name) for folder, name in rows]


def files_by_folder(conn: db.Connection, cid: int) -> Iterator[tuple[str, list[str]]]:
    """:meth:`pylapse.index.store.FrameIndex.files_by_folder` of collection row ``cid``."""
    folders = conn.execute(
        "SELECT id, path FROM scanned_dirs WHERE collection_id = ? ORDER BY path DESC", (cid,)
    ).fetchall()
    for dir_id, path in folders:
        names = [r[0] for r in conn.execute("SELECT name FROM frames WHERE dir_id = ?", (dir_id,))]
        if names:
            yield path, names
