"""A collection's time arrays kept in memory while its frames stay the same.

Selections over millions of frames work on two parallel arrays, ids and UTC seconds in time
order (:meth:`pylapse.index.store.FrameIndex.utc_times`); the export form's live preview asks
for them at every change of a field. Slicing kept arrays costs next to nothing, reading a
million rows does not, so the whole arrays of the last few collections are kept (:class:`Kept`)
under the change stamp they were read at (schema step 5's triggers bump it on every write,
from any connection or process) and read again only when it moved. The dead frames
(:meth:`~pylapse.index.store.FrameIndex.dead_frames`) are kept the same way.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from itertools import chain
from typing import Generic, TypeVar

from pylapse import db
from pylapse.index.frame import range_where

__all__ = ["KEPT", "SHORT", "Kept", "read_times"]

KEPT = 4  # collections whose arrays are kept (16 MB of time arrays per million frames)
SHORT = 7 * 86400  # seconds; a shorter range of a collection not kept is read directly

_V = TypeVar("_V")


class Kept(Generic[_V]):
    """The values of the :data:`KEPT` most recently used collections, each valid while the
    stamp it was stored with is the one asked with. Thread-safe."""

    def __init__(self, keep: int = KEPT) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._kept: OrderedDict[int, tuple[Hashable, _V]] = OrderedDict()

    def get(self, cid: int, stamp: Hashable) -> _V | None:
        """The value of collection row ``cid`` if it was stored under ``stamp``."""
        with self._lock:
            kept = self._kept.get(cid)
            if kept is None or kept[0] != stamp:
                return None
            self._kept.move_to_end(cid)
            return kept[1]

    def __iter__(self) -> Iterator[int]:
        """The collection rows kept, least recently used first."""
        with self._lock:
            return iter(list(self._kept))

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def put(self, cid: int, stamp: Hashable, value: _V) -> None:
        with self._lock:
            self._kept[cid] = (stamp, value)
            self._kept.move_to_end(cid)
            while len(self._kept) > self._keep:
                self._kept.popitem(last=False)


def read_times(
    conn: db.Connection, cid: int, lo: float | None, hi: float | None
) -> tuple[array[int], array[float]]:
    """``(ids, utcs)`` of collection row ``cid`` with ``lo <= utc < hi``, straight from the rows."""
    where, params = range_where(cid, lo, hi)
    cursor = conn.execute(
        f"SELECT f.id, f.utc FROM frames f WHERE {where} ORDER BY f.utc, f.id", params
    )
    # Rows flattened a batch at a time into a list whose slices fill each array in C
    # (array.fromlist): ~15% less than one array("d") of every value, ids staying ints.
    ids, utcs = array("q"), array("d")
    for rows in iter(lambda: cursor.fetchmany(8192), []):
        flat = list(chain.from_iterable(rows))
        ids.fromlist(flat[0::2])
        utcs.fromlist(flat[1::2])
    return ids, utcs
