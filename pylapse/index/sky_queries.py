"""What the index says about the sky, read from stored metrics alone (no image decoded).

The colour map of issue 18 (:func:`sky_colours`), the days with the most colourful or cloudy
skies (:func:`colour_deviation_days`) and the most detailed frames, whose JPEGs are the largest
(:func:`largest_frames`). :class:`pylapse.index.store.FrameIndex` answers them by collection
key; these take its connection and collection row.
"""

from __future__ import annotations

from datetime import date
from itertools import chain
from typing import TYPE_CHECKING

from pylapse import db
from pylapse.index.daycounts import DAY_SQL
from pylapse.index.frame import FRAME_COLUMNS, Frame, frames_from_rows, range_where

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["SKY_STATS", "colour_deviation_days", "largest_frames", "sky_colours"]

# Sky metrics (issue 18, schema step 8): per-channel statistics over the metrics region, the
# colour at its centre and the EXIF exposure. sky_r_mean IS NULL marks a frame not measured yet.
SKY_STATS = ("mean", "median", "max")  # what sky_colours reads (std and min are stored too)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def sky_colours(
    conn: db.Connection, cid: int | None, utc_from: float, utc_to: float, stat: str = "mean"
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """:meth:`pylapse.index.store.FrameIndex.sky_colours` of collection row ``cid`` (None: an
    unknown collection, empty arrays)."""
    import numpy as np

    if stat not in SKY_STATS:
        raise ValueError(f"stat={stat!r}: expected one of {', '.join(SKY_STATS)}")
    where, params = range_where(-1 if cid is None else cid, float(utc_from), float(utc_to))
    channels = ", ".join(f"f.sky_{c}_{stat}" for c in "rgb")
    cursor = conn.execute(
        f"SELECT f.utc, f.utc_offset, {channels} FROM frames f WHERE {where} "
        f"AND f.sky_r_{stat} IS NOT NULL ORDER BY f.utc, f.id",
        params,
    )
    # A batch of rows flattened straight into a float array (no per-row Python objects
    # kept): the colour map of a year at 10 s reads 3 M rows.
    parts = [
        np.fromiter(chain.from_iterable(rows), np.float64, 5 * len(rows))
        for rows in iter(lambda: cursor.fetchmany(65536), [])
    ]
    table = np.concatenate(parts).reshape(-1, 5) if parts else np.empty((0, 5))
    return (
        np.ascontiguousarray(table[:, 0]),
        table[:, 1].astype(np.int64),
        np.ascontiguousarray(table[:, 2:5]),
    )


def colour_deviation_days(
    conn: db.Connection, cid: int, limit: int
) -> list[tuple[date, float, int]]:
    """:meth:`pylapse.index.store.FrameIndex.colour_deviation_days` of collection row ``cid``."""
    rows = conn.execute(
        f"SELECT {DAY_SQL} AS day, AVG(sky_r_std + sky_g_std + sky_b_std) / 3, COUNT(*) "
        "FROM frames WHERE collection_id = ? AND sky_r_std IS NOT NULL "
        "GROUP BY day ORDER BY 2 DESC, day LIMIT ?",
        (cid, int(limit)),
    )
    return [(date.fromordinal(_EPOCH_ORDINAL + d), float(v), int(n)) for d, v, n in rows]


def largest_frames(conn: db.Connection, cid: int, collection: str, limit: int) -> list[Frame]:
    """:meth:`pylapse.index.store.FrameIndex.largest_frames` of collection row ``cid``, whose
    key is ``collection``."""
    sql = (
        f"SELECT {FRAME_COLUMNS} FROM frames f JOIN scanned_dirs d ON d.id = f.dir_id "
        "WHERE f.collection_id = ? AND f.size IS NOT NULL ORDER BY f.size DESC, f.utc LIMIT ?"
    )
    return frames_from_rows(collection, conn.execute(sql, (cid, int(limit))))
