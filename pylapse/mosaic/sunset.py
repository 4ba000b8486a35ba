"""The sunset mosaic ("400 sunsets"): a grid of days, each tile its own day at the same time
relative to that day's sunset (or another sun event of :mod:`pylapse.selection.sun`), played
from ``start`` to ``end`` around the event (default sunset - 60 min to sunset + 30 min).

Output frame ``k`` shows, in the tile of day ``D``, the frame nearest ``event(D) + start + k *
step`` within the tolerance; without one the tile repeats that day's last frame of the window or
stays dark (``missing``), never a frame of another day. A day without the event (polar day or
night) stays dark and is listed with sun's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from datetime import tzinfo as TzInfo

import numpy as np

from pylapse.mosaic.compose import Band, Missing
from pylapse.mosaic.layout import MAX_INPUTS, Layout, tiles
from pylapse.mosaic.sequence import MosaicPlan, PlannedTile
from pylapse.mosaic.timeline import Match, TileState, Track, instants, match, typical_step
from pylapse.selection.sun import SunEvent, SunGap, SunPoint, sun_time

__all__ = ["SunsetPlan", "days_between", "parse_offset", "sunset_plan"]


@dataclass(frozen=True, eq=False)
class SunsetPlan:
    plan: MosaicPlan
    days: list[date]
    events: list[float | None]  # each day's event (UTC seconds), None for a gap
    gaps: list[SunGap]


def parse_offset(text: str | timedelta) -> timedelta:
    """``"-60m"``, ``"30m"``, ``"+1h30m"``: an offset from the sun event (sun's own syntax)."""
    if isinstance(text, timedelta):
        return text
    value = text.strip()
    sign = "" if value.startswith(("+", "-")) else "+"
    try:
        return SunPoint.parse(f"sunset{sign}{value}").offset
    except ValueError:
        raise ValueError(
            f"offset: {text!r} is not an offset such as -60m, 30m, +1h30m, -90s"
        ) from None


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ValueError(f"to: {last} is before from: {first}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def sunset_plan(
    track: Track,
    days: list[date],
    latitude: float,
    longitude: float,
    size: tuple[int, int] = (1920, 1080),
    *,
    event: SunEvent | str = SunEvent.SUNSET,
    start: timedelta = timedelta(minutes=-60),
    end: timedelta = timedelta(minutes=30),
    step: float | None = None,
    tolerance: float | None = None,
    rows: int | None = None,
    cols: int | None = None,
    band: Band | None = None,
    missing: Missing | str = Missing.REPEAT,
    labels: bool = True,
    zone: TzInfo | None = None,
    cover: bool = True,
) -> SunsetPlan:
    """The plan: one tile per day of ``days`` (in ``zone``, default the track's), ``step``
    seconds between output frames (default: the track's typical spacing), tolerance default
    half the step; each frame (its ``band``) fills its tile, cropped evenly, unless ``cover``
    is False (then it fits inside, with black bars)."""
    if not days:
        raise ValueError("a sunset mosaic needs at least one day")
    if len(days) > MAX_INPUTS:
        raise ValueError(f"a sunset mosaic takes at most {MAX_INPUTS} days, got {len(days)}")
    if end <= start:
        raise ValueError(f"end: {end} must be after start: {start}")
    if missing not in (Missing.REPEAT, Missing.DARK, "repeat", "dark"):
        raise ValueError(f"missing: {missing!r} must be repeat or dark for a sunset mosaic")
    zone = zone or track.zone
    point = SunPoint.parse(str(event))
    rects = tiles(Layout.GRID, len(days), size, rows=rows, cols=cols)
    step = typical_step([track]) if step is None else float(step)
    tolerance = step / 2 if tolerance is None else float(tolerance)
    offsets = instants(start.total_seconds(), end.total_seconds(), step)
    events: list[float | None] = []
    gaps: list[SunGap] = []
    planned = []
    for day, rect in zip(days, rects, strict=True):
        at = sun_time(day, latitude, longitude, zone, point)
        if isinstance(at, SunGap):
            gaps.append(at)
            events.append(None)
            m = Match(np.full(len(offsets), -1, np.int64),
                      np.full(len(offsets), TileState.NONE, np.uint8))  # fmt: skip
        else:
            utc = at.astimezone(UTC).timestamp()
            events.append(utc)
            floor = utc + start.total_seconds() - tolerance  # never a frame of another day
            m = match(track.utcs, utc + offsets, tolerance, floor)
        day_track = Track(day.isoformat(), zone, track.utcs, track.paths)
        planned.append(PlannedTile(rect, day_track, m, day.isoformat() if labels else None))
    # a tile's label is its day: the time of day is all its frame adds
    plan = MosaicPlan(size, planned, offsets, Missing(missing), band, label_format="%H:%M:%S",
                      cover=cover)  # fmt: skip
    return SunsetPlan(plan, days, events, gaps)
