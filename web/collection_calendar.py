"""A collection's calendar: a month, or the twelve months of a year, of per-day frame counts.

Each day is coloured by how many of the frames it should have it holds (a level 0-4) and marked
short below :data:`SHORT_DAY` of them: what a day should have is the camera's schedules when it
has enabled ones, else the archive's median day (:mod:`web.player`). Read from the index's
per-day counts only, so a month of a years-long archive costs what a month of a new one does.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from pylapse import timeutil
from web import player

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.runtime import Runtime

__all__ = ["SHORT_DAY", "WEEKDAYS", "Cell", "calendar_context", "year_context"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Cell:
    day: date
    count: int
    in_month: bool
    level: int  # 0 (none) .. 4 (all the frames the day should have)
    expected: float | None = None  # frames the day should have (schedule or median day)
    short: bool = False  # fewer than SHORT_DAY of the expected frames: a day with gaps

    @property
    def title(self) -> str:
        text = f"{self.count:,} frames on {self.day.isoformat()}"
        if self.expected:
            text += f" of {self.expected:,.0f} expected ({self.count / self.expected:.0%})"
        return text


SHORT_DAY = 0.9  # a day with less than this share of its expected frames is marked short


def _month_of(text: str | None, fallback: date) -> date:
    if not text:
        return fallback.replace(day=1)
    try:
        return datetime.strptime(text, "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no time
    except ValueError:
        raise HTTPException(422, f"month {text!r} is not YYYY-MM, e.g. 2026-02") from None


class _Yardstick:
    """How many frames a day should have: the camera's schedules when it has enabled ones,
    else the median day of the archive. Only days from the archive's first day can be short:
    up to its last day, or for a camera that is capturing up to yesterday (a camera that
    stopped weeks ago has missed those weeks; today is not over)."""

    def __init__(
        self, runtime: Runtime, collection_id: str, coll: Collection, counts: dict[date, int]
    ) -> None:
        self.camera = player.camera_of(runtime, collection_id)
        self.median = player.median_day(counts)
        self.first = min(counts) if counts else None
        self.last = max(counts) if counts else None
        self.by_schedule = bool(self.camera and any(s.enabled for s in self.camera.schedules))
        if self.last and self.by_schedule and self.camera and self.camera.enabled:
            yesterday = timeutil.now(coll.zone).date() - timedelta(days=1)
            self.last = max(self.last, yesterday)

    def cells(self, days: list[date], counts: dict[date, int], month: int | None) -> list[Cell]:
        expected = player.expected_counts(self.camera, days) if self.by_schedule else {}
        out = []
        for d in days:
            n = counts.get(d, 0)
            want = expected.get(d) if self.by_schedule else self.median
            inside = bool(self.first and self.last and self.first <= d <= self.last)
            short = bool(want and inside and n < SHORT_DAY * want)
            out.append(Cell(d, n, month is None or d.month == month, player.level(n, want),
                            want, short))  # fmt: skip
        return out


def calendar_context(
    runtime: Runtime,
    collection_id: str,
    coll: Collection,
    month: str | None,
    day: date | None = None,
) -> dict[str, Any]:
    counts = runtime.index.count_by_day(coll.key, coll.zone)
    latest = max(counts) if counts else timeutil.now(coll.zone).date()
    first_day = _month_of(month, day or latest)
    months = sorted({d.replace(day=1) for d in counts})
    in_month = [
        n for d, n in counts.items() if (d.year, d.month) == (first_day.year, first_day.month)
    ]
    yardstick = _Yardstick(runtime, collection_id, coll, counts)
    grid = calendar.Calendar(0).monthdatescalendar(first_day.year, first_day.month)
    flat = yardstick.cells([d for week in grid for d in week], counts, first_day.month)
    weeks = [flat[i : i + 7] for i in range(0, len(flat), 7)]
    earlier = [mo for mo in months if mo < first_day]
    later = [mo for mo in months if mo > first_day]
    return {
        "collection_id": collection_id,
        "view": "month",
        "month": first_day,
        "weeks": weeks,
        "weekdays": WEEKDAYS,
        "months": months,
        "years": sorted({mo.year for mo in months}),
        "month_total": sum(in_month),
        "month_days": len(in_month),
        "short_days": sum(1 for c in flat if c.short and c.in_month),
        "by_schedule": yardstick.by_schedule,
        "prev_month": earlier[-1] if earlier else None,
        "next_month": later[0] if later else None,
        "selected_day": day,
        "days_with_frames": len(counts),
    }


def year_context(
    runtime: Runtime, collection_id: str, coll: Collection, year: int | None
) -> dict[str, Any]:
    """Twelve small months of one year, each day coloured like the month view: the shape of a
    long archive at a glance (a day links to the month view of that day)."""
    counts = runtime.index.count_by_day(coll.key, coll.zone)
    years = sorted({d.year for d in counts})
    shown = year if year is not None else (years[-1] if years else timeutil.now(coll.zone).year)
    yardstick = _Yardstick(runtime, collection_id, coll, counts)
    cal = calendar.Calendar(0)
    months = []
    for mo in range(1, 13):
        grid = cal.monthdatescalendar(shown, mo)
        flat = yardstick.cells([d for week in grid for d in week], counts, mo)
        months.append((date(shown, mo, 1), [flat[i : i + 7] for i in range(0, len(flat), 7)]))
    in_year = {d: n for d, n in counts.items() if d.year == shown}
    return {
        "collection_id": collection_id,
        "view": "year",
        "year": shown,
        "years": years,
        "year_months": months,
        "weekdays": WEEKDAYS,
        "year_total": sum(in_year.values()),
        "year_days": len(in_year),
        "by_schedule": yardstick.by_schedule,
        "days_with_frames": len(counts),
    }
