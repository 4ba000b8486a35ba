"""Per-day frame counts kept beside the frames, so a calendar of millions of frames is instant.

``day_counts`` holds, per collection, the number of frames per *(local day, offset)*, where the
local day is the frame's own wall-clock day ``floor((utc + offset) / 86400)``, updated in the
same transaction as the frames. Counting in a zone ``tz`` reads a few hundred rows: a group whose
whole wall-clock day had ``tz``'s offset equal to its own is counted as is; any other group (DST
days, names carrying another zone's offset) is counted exactly from its frames' instants. A
count over a span of time (:func:`count_range`) reads them too, counting only the days a bound
cuts frame by frame.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, tzinfo

from pylapse import db, timeutil
from pylapse.index.frame import range_where

__all__ = ["DAY_SQL", "SHORT_RANGE", "bump_days", "count_by_day", "count_range", "day_of"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
SHORT_RANGE = 2 * 86400  # seconds; shorter ranges are counted row by row straight away


def day_of(utc: float, offset: int) -> int:
    """Days since 1970-01-01 of the wall clock ``utc + offset``.

    The same floating-point steps as :data:`DAY_SQL`, so Python and SQL always agree.
    """
    return math.floor((utc + offset) / 86400.0)


DAY_SQL = "CAST(floor((utc + utc_offset) / 86400.0) AS INTEGER)"


def bump_days(conn: db.Connection, cid: int, delta: Mapping[tuple[int, int], int]) -> None:
    """Add ``delta`` ((day, offset) -> change) to ``day_counts``; in the caller's transaction."""
    items = [(cid, day, offset, n) for (day, offset), n in delta.items() if n]
    if not items:
        return
    conn.executemany(
        "INSERT INTO day_counts (collection_id, day, utc_offset, n) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (collection_id, day, utc_offset) DO UPDATE SET n = n + excluded.n",
        items,
    )
    if any(item[3] < 0 for item in items):
        conn.execute("DELETE FROM day_counts WHERE collection_id = ? AND n <= 0", (cid,))


def _offset_at(tz: tzinfo, utc: float) -> int:
    return timeutil.offset_seconds(datetime.fromtimestamp(utc, tz))


def count_by_day(conn: db.Connection, cid: int, zone: tzinfo) -> dict[date, int]:
    """Frames per local day in ``zone`` for collection row ``cid``, in day order."""
    rows = conn.execute(
        "SELECT day, utc_offset, n FROM day_counts WHERE collection_id = ? AND n > 0 ORDER BY day",
        (cid,),
    ).fetchall()
    counts: Counter[int] = Counter()
    for day, offset, n in rows:
        start = day * 86400 - offset  # the UTC span of this wall-clock day in this offset
        end = start + 86400
        if _offset_at(zone, start) == offset == _offset_at(zone, end - 1):
            counts[day] += n
        else:
            counts.update(_exact_days(conn, cid, zone, offset, start, end))
    return {date.fromordinal(_EPOCH_ORDINAL + d): counts[d] for d in sorted(counts)}


def count_range(conn: db.Connection, cid: int, lo: float | None, hi: float | None) -> int:
    """Frames of collection row ``cid`` with ``lo <= utc < hi`` (None: no bound).

    Whole days inside the range are read from ``day_counts``; only the days cut by a bound
    are counted frame by frame, so a count over years costs about as much as over days.
    """
    if lo is not None and hi is not None and hi - lo <= SHORT_RANGE:
        where, params = range_where(cid, lo, hi)
        return int(
            conn.execute(f"SELECT COUNT(*) FROM frames f WHERE {where}", params).fetchone()[0]
        )
    total = 0
    for day, offset, n in conn.execute(
        "SELECT day, utc_offset, n FROM day_counts WHERE collection_id = ? AND n > 0", (cid,)
    ):
        first = day * 86400 - offset  # the UTC span of this (day, offset) group
        stop = first + 86400
        if (lo is None or lo <= first) and (hi is None or stop <= hi):
            total += n
        elif (lo is None or lo < stop) and (hi is None or first < hi):
            a, b = (
                max(first, lo if lo is not None else first),
                min(stop, hi if hi is not None else stop),
            )
            total += conn.execute(
                "SELECT COUNT(*) FROM frames WHERE collection_id = ? AND utc >= ? AND utc < ? "
                "AND utc_offset = ?",
                (cid, a, b, offset),
            ).fetchone()[0]
    return total


def _exact_days(
    conn: db.Connection, cid: int, zone: tzinfo, offset: int, start: float, end: float
) -> Counter[int]:
    """Days in ``zone`` of the frames stored with ``offset`` whose UTC lies in [start, end)."""
    utcs = [
        r[0]
        for r in conn.execute(
            "SELECT utc FROM frames WHERE collection_id = ? AND utc >= ? AND utc < ? "
            "AND utc_offset = ?",
            (cid, start, end, offset),
        )
    ]
    first, last = _offset_at(zone, start), _offset_at(zone, end - 1)
    change = end if first == last else _transition(zone, start, end - 1, first)
    out: Counter[int] = Counter()
    for utc in utcs:
        out[day_of(utc, first if utc < change else last)] += 1
    return out


def _transition(zone: tzinfo, lo: float, hi: float, before: int) -> float:
    """The first second in (lo, hi] where ``zone``'s offset is no longer ``before``."""
    lo_i, hi_i = int(lo), int(hi)
    while hi_i - lo_i > 1:
        mid = (lo_i + hi_i) // 2
        if _offset_at(zone, mid) == before:
            lo_i = mid
        else:
            hi_i = mid
    return float(hi_i)
