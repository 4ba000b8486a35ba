"""Which frames a collection's pages list: the day asked for (a ``YYYY-MM-DD`` query, the last
frame's day, a frame's own day), that day's thumbnails a page at a time, and the frames whose time
is flagged, a page at a time. Each page is one indexed time-range or flagged query, never a
folder listing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from web.routes import _media as m

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.index.frame import Frame
    from pylapse.runtime import Runtime

__all__ = [
    "DAY_PAGE_SIZES",
    "FLAGGED_PAGE",
    "day_context",
    "day_of",
    "flagged_context",
    "frame_of",
    "last_day",
]

DAY_PAGE_SIZES = (24, 48, 96, 192)
FLAGGED_PAGE = 100  # flagged frames listed per page


def day_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"day {text!r} is not YYYY-MM-DD, e.g. 2026-02-09") from None


def last_day(runtime: Runtime, coll: Collection) -> date | None:
    last = runtime.index.last(coll.key)
    return last.time.astimezone(coll.zone).date() if last else None


def frame_of(runtime: Runtime, coll: Collection, frame_id: int) -> Frame:
    found = runtime.index.get(frame_id)
    if found is None or found.collection != coll.key:
        raise HTTPException(404, f"no frame {frame_id} in this collection")
    return found


# -- a day's thumbnails --------------------------------------------------------------------------


def _day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def day_context(
    runtime: Runtime,
    collection_id: str,
    coll: Collection,
    day: date | None,
    page: int,
    per_page: int,
) -> dict[str, Any]:
    if per_page not in DAY_PAGE_SIZES:
        raise HTTPException(422, f"per_page must be one of {', '.join(map(str, DAY_PAGE_SIZES))}")
    context: dict[str, Any] = {"collection_id": collection_id, "day": day, "frames": [],
                               "day_sizes": DAY_PAGE_SIZES, "zone": coll.zone}  # fmt: skip
    status = coll.folder_status()
    if status.missing:  # thumbnails of files that cannot be read would all be broken
        context["pager"] = m.pager(0, 1, per_page, DAY_PAGE_SIZES)
        context["missing"] = status.problem
        return context
    if day is None:
        context["pager"] = m.pager(0, 1, per_page, DAY_PAGE_SIZES)
        return context
    start, end = _day_bounds(day, coll.zone)
    total = runtime.index.count(coll.key, start, end)
    p = m.pager(total, page, per_page, DAY_PAGE_SIZES)
    context["pager"] = p
    context["frames"] = runtime.index.frames(
        coll.key, start, end, limit=p.per_page, offset=p.offset
    )
    return context


# -- flagged times -------------------------------------------------------------------------------


def flagged_context(
    runtime: Runtime, collection_id: str, coll: Collection, page: int
) -> dict[str, Any]:
    """The frames whose time is flagged, a page at a time, in time order."""
    total = runtime.index.count_flagged(coll.key)
    p = m.pager(total, page, FLAGGED_PAGE, (FLAGGED_PAGE,))
    frames = runtime.index.flagged(coll.key, limit=p.per_page, offset=p.offset)
    return {"collection_id": collection_id, "flagged_only": True, "flagged_frames": frames,
            "pager": p, "zone": coll.zone}  # fmt: skip
