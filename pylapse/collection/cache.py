"""The per-user cache folder, and the private index a collection built by hand keeps in it.

Inside pyLapse (the web app, ``pylapse export``) collections share the data folder's
``pylapse.db`` (``index=`` and ``key=`` are passed) and the indexer keeps it current. A
collection built by hand without an index gets a private one in the user's cache folder,
``$PYLAPSE_CACHE_DIR`` or ``$XDG_CACHE_HOME/pylapse`` or ``~/.cache/pylapse``, under
``collections/<hash of the folder>/pylapse.db``: the frame folder is never written to (it may
be a read-only archive), and the first query scans the folder incrementally (a no-change
rescan re-reads nothing). :meth:`Collection.refresh` rescans on demand.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pylapse.index.store import FrameIndex

__all__ = ["cache_dir", "open_private_index"]


def cache_dir() -> Path:
    """The per-user folder for private collection indexes."""
    explicit = os.environ.get("PYLAPSE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pylapse"


def open_private_index(collection_dir: Path) -> FrameIndex:
    """The private index of the frames in ``collection_dir``, created on first use."""
    from pylapse.db import DB_NAME
    from pylapse.index.store import FrameIndex

    digest = hashlib.sha256(os.fsencode(collection_dir.resolve())).hexdigest()
    folder = cache_dir() / "collections" / digest[:16]
    folder.mkdir(parents=True, exist_ok=True)
    return FrameIndex(folder / DB_NAME)
