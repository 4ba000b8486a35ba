"""One indexed frame: where it is and the instant it was taken, with the offset that applied."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pylapse import timeutil

__all__ = [
    "FRAME_COLUMNS",
    "Frame",
    "TimeBound",
    "bound_seconds",
    "frames_from_rows",
    "range_where",
]

TimeBound = datetime | float | int | None
# What frames_from_rows reads: a frame row ``f`` joined with its folder ``d``, in Frame's order.
FRAME_COLUMNS = (
    "f.id, d.path, f.name, f.utc, f.utc_offset, f.size, f.mtime, f.width, f.height, f.luma, "
    "f.source, f.sharpness, f.contrast, f.noise, f.time_source, f.offset_source, "
    "f.time_status, f.time_reason, f.clip_high, f.clip_low, f.dhash, f.hash_distance"
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One indexed frame. ``time`` is its wall clock in the offset that applied when taken."""

    id: int
    collection: str
    path: Path
    utc: float
    offset: int
    size: int | None
    mtime: float | None
    width: int | None
    height: int | None
    luma: float | None
    source: str = ""
    sharpness: float | None = None
    contrast: float | None = None
    noise: float | None = None
    # where the wall clock and the offset came from, and how sure (None: indexed before these
    # were recorded); see pylapse.filetime for the values
    time_source: str | None = None
    offset_source: str | None = None
    time_status: str | None = None
    time_reason: str | None = None
    # quality scores (pylapse.imaging.quality): shares 0-1 of clipped pixels at each end of the
    # histogram, the 64-bit dHash (signed, as SQLite stores it) and its distance in bits to the
    # previous frame's; None: not scored yet
    clip_high: float | None = None
    clip_low: float | None = None
    dhash: int | None = None
    hash_distance: int | None = None

    @property
    def time(self) -> datetime:
        return timeutil.from_utc(self.utc, self.offset)

    @property
    def name(self) -> str:
        return self.path.name


def bound_seconds(bound: TimeBound, what: str) -> float | None:
    """UTC seconds of a query bound: an aware datetime or a number of seconds."""
    if bound is None:
        return None
    if isinstance(bound, datetime):
        if bound.tzinfo is None:
            raise ValueError(f"{what}={bound.isoformat()} is naive; pass an aware datetime")
        return bound.timestamp()
    return float(bound)


def frames_from_rows(collection: str, rows: Iterable[tuple[Any, ...]]) -> list[Frame]:
    folders: dict[str, Path] = {}
    out = []
    for row in rows:  # id, folder, name, then the Frame fields from utc on, in order
        base = folders.get(row[1])
        if base is None:
            base = folders[row[1]] = Path(row[1])
        out.append(Frame(row[0], collection, base / row[2], *row[3:]))
    return out


def range_where(cid: int, lo: float | None, hi: float | None) -> tuple[str, tuple[Any, ...]]:
    """``(where, params)`` of the frames ``f`` of collection row ``cid`` with ``lo <= utc < hi``
    (either bound optional)."""
    where = ["f.collection_id = ?"]
    params: list[float] = [cid]
    if lo is not None:
        where.append("f.utc >= ?")
        params.append(lo)
    if hi is not None:
        where.append("f.utc < ?")
        params.append(hi)
    return " AND ".join(where), tuple(params)
