"""FrameIndex's methods over the sky metrics (issue 18), by collection key: a range's colours,
the days of most colour deviation and the largest frames, read from the index alone.

A mixin of :class:`pylapse.index.store.FrameIndex`, which gives it its connections and
collection ids; the queries are in :mod:`.sky_queries`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pylapse import db
from pylapse.index import sky_queries
from pylapse.index.frame import Frame

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["SkyMethods"]


class SkyMethods:
    """The sky-metric methods of :class:`pylapse.index.store.FrameIndex` (a mixin: it gives the
    two methods declared here)."""

    def _reader(self) -> db.Connection:
        raise NotImplementedError

    def _collection_id(self, key: str) -> int | None:
        raise NotImplementedError

    def sky_colours(
        self, collection_key: str, utc_from: float, utc_to: float, stat: str = "mean"
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """``(utc, utc_offset, colours)`` of the frames of ``collection_key`` with ``utc_from
        <= utc < utc_to`` that have sky metrics, in time order (issue 18's colour map).

        ``utc``: float64 seconds since the epoch; ``utc_offset``: int64 seconds east of UTC in
        force when each frame was taken (its wall clock is ``utc + utc_offset``); ``colours``:
        an (N, 3) float64 array of R, G, B 0-255, the ``stat`` (``mean``, ``median`` or
        ``max``, :data:`pylapse.index.sky_queries.SKY_STATS`) of each channel over the frame's
        metrics region (columns ``sky_r_<stat>``, ``sky_g_<stat>``, ``sky_b_<stat>``). Read from
        the index alone, no image decoded. Frames not measured yet are left out
        (:meth:`count_unscored` counts them; ``pylapse metrics`` fills them); an unknown
        collection gives empty arrays.
        """
        return sky_queries.sky_colours(
            self._reader(), self._collection_id(collection_key), utc_from, utc_to, stat
        )

    def colour_deviation_days(
        self, collection: str, limit: int = 10
    ) -> list[tuple[date, float, int]]:
        """The days (each frame's own wall-clock day) with the most colour deviation, most
        first: ``(day, deviation, frames)``, where a day's deviation is the mean over its
        measured frames of the standard deviation of R, G and B over the metrics region
        (averaged over the three): clouds and colourful skies score high, a clear or grey
        sky low. Only measured frames count."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        return sky_queries.colour_deviation_days(self._reader(), cid, limit)

    def largest_frames(self, collection: str, limit: int = 10) -> list[Frame]:
        """The frames of ``collection`` with the largest files, largest first (a JPEG of a
        detailed sky is large). Only frames whose size is known count: capture's, a verifying
        scan's and those ``pylapse metrics`` read."""
        cid = self._collection_id(collection)
        if cid is None:
            return []
        return sky_queries.largest_frames(self._reader(), cid, collection, limit)
