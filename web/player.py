"""What the day player and the calendar show: a day's frames as compact arrays (ids, times, mean
brightness, sizes, flagged time statuses), the gaps between them, the night from the camera's
location, and how many frames a day should have by the camera's schedules.

Everything comes from the index and the config, never from listing folders, so a day of 8,640
frames costs one indexed range query. The arrays are parallel (index ``i`` of each is frame
``i``) so the page can binary-search times and the JSON stays a few hundred kB for such a day.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from pylapse.config.cameras import CameraConfig, Schedule
from pylapse.index.frame import Frame

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.runtime import Runtime

FLAGGED = ("conflict", "implausible")  # the time statuses a frame is flagged with
GAP_FACTOR = 3.0  # a pause longer than this many usual steps between frames is a gap
MIN_GAP = 60.0  # seconds: shorter pauses are never gaps (a camera's jitter)
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in ``zone`` (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def camera_of(runtime: Runtime, collection_id: str) -> CameraConfig | None:
    """The camera that fills the collection (its ``camera``, or a camera of the same id)."""
    declared = runtime.config.collections.get(collection_id)
    camera_id = declared.camera if declared else collection_id
    return runtime.config.cameras.get(camera_id) if camera_id else None


# -- gaps and night ------------------------------------------------------------------------------


def gaps(times: Sequence[float]) -> list[tuple[float, float]]:
    """``(last frame before, first frame after)`` of each pause longer than :data:`GAP_FACTOR`
    usual steps (the median step between frames) and at least :data:`MIN_GAP` seconds."""
    if len(times) < 3:
        return []
    steps = [b - a for a, b in pairwise(times)]
    limit = max(MIN_GAP, GAP_FACTOR * statistics.median(steps))
    return [(times[i], times[i + 1]) for i, step in enumerate(steps) if step > limit]


def night_spans(
    day: date, zone: tzinfo, latitude: float | None, longitude: float | None
) -> dict[str, list[tuple[float, float]]]:
    """``{"night": [...], "twilight": [...]}``: UTC second spans of the day when the sun is
    more than 6° below the horizon, and between that and sunrise/sunset. Empty without a
    location; a polar day or night is one span or none."""
    if latitude is None or longitude is None:
        return {"night": [], "twilight": []}
    from astral import Observer
    from astral.sun import dawn, dusk, elevation, sunrise, sunset

    observer = Observer(latitude=latitude, longitude=longitude)
    start, end = day_bounds(day, zone)
    lo, hi = start.timestamp(), end.timestamp()

    def when(fn: Any) -> float | None:
        try:
            return float(fn(observer, day, tzinfo=zone).timestamp())
        except ValueError:  # the sun never reaches that elevation on this day
            return None

    d, r, s, k = when(dawn), when(sunrise), when(sunset), when(dusk)
    noon = elevation(observer, datetime.combine(day, time(12), tzinfo=zone))
    if r is None or s is None:  # polar: no sunrise or sunset
        whole = [(lo, hi)]
        return {"night": whole, "twilight": []} if noon < 0 else {"night": [], "twilight": []}
    night = [(lo, d if d is not None else r), (k if k is not None else s, hi)]
    twilight = [(d, r)] if d is not None else []
    if k is not None:
        twilight.append((s, k))
    clip = [(max(lo, a), min(hi, b)) for a, b in night if min(hi, b) > max(lo, a)]
    return {"night": clip, "twilight": [(a, b) for a, b in twilight if b > a]}


def hour_ticks(start: float, end: float, zone: tzinfo) -> list[tuple[float, int]]:
    """``(UTC second, local hour)`` of each whole hour of the day (23 or 25 on DST days)."""
    # from local midnight, not UTC hours: a +05:30 zone's hours start at :30 past UTC's
    count = round((end - start) / 3600)
    return [
        (start + k * 3600, datetime.fromtimestamp(start + k * 3600, UTC).astimezone(zone).hour)
        for k in range(count)
    ]


# -- a day's frames ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayFrames:
    """A day's frames and what the timeline draws, ready for JSON."""

    day: date
    zone: str
    start: float  # UTC seconds of the day's first instant in the zone
    end: float
    frames: list[Frame]
    zone_offsets: list[int]  # each frame's UTC offset in the zone (seconds): its local time
    previous_day: date | None
    next_day: date | None
    location: tuple[float, float] | None

    def as_json(self) -> dict[str, Any]:
        frames = self.frames
        times = [f.utc for f in frames]
        flags = {
            str(i): {"status": f.time_status, "reason": f.time_reason or ""}
            for i, f in enumerate(frames)
            if f.time_status in FLAGGED
        }
        return {
            "day": self.day.isoformat(),
            "zone": self.zone,
            "start": self.start,
            "end": self.end,
            "count": len(frames),
            "ids": [f.id for f in frames],
            "t": times,
            "offset": self.zone_offsets,
            "luma": [None if f.luma is None else round(f.luma, 1) for f in frames],
            "bytes": [f.size for f in frames],
            "width": [f.width for f in frames],
            "height": [f.height for f in frames],
            "flags": flags,
            "gaps": gaps(times),
            "hours": hour_ticks(self.start, self.end, _zone(self.zone)),
            **night_spans(self.day, _zone(self.zone), *(self.location or (None, None))),
            "previous_day": self.previous_day.isoformat() if self.previous_day else None,
            "next_day": self.next_day.isoformat() if self.next_day else None,
            "location": list(self.location) if self.location else None,
        }


def _zone(name: str) -> tzinfo:
    from pylapse import timeutil

    return timeutil.zone(name)


def day_frames(
    runtime: Runtime, collection_id: str, coll: Collection, day: date, zone_name: str
) -> DayFrames:
    """Every frame of ``day`` (local to the collection's zone) in time order, and the nearest
    days before and after it that have frames."""
    zone = coll.zone
    start, end = day_bounds(day, zone)
    frames = runtime.index.frames(coll.key, start, end)
    offsets = [_offset(zone, f.utc) for f in frames]
    days = sorted(runtime.index.count_by_day(coll.key, zone))
    before = [d for d in days if d < day]
    after = [d for d in days if d > day]
    camera = camera_of(runtime, collection_id)
    location = (
        (camera.latitude, camera.longitude)
        if camera and camera.latitude is not None and camera.longitude is not None
        else None
    )
    return DayFrames(
        day, zone_name, start.timestamp(), end.timestamp(), frames, offsets,
        before[-1] if before else None, after[0] if after else None, location,
    )  # fmt: skip


def _offset(zone: tzinfo, utc: float) -> int:
    delta = datetime.fromtimestamp(utc, UTC).astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


# -- what a day should have ----------------------------------------------------------------------


def expected_counts(camera: CameraConfig | None, days: Iterable[date]) -> dict[date, float]:
    """Frames each of ``days`` should have by the camera's enabled schedules (cron: the
    distinct seconds of the day its matching rules hit; interval: a day over the interval).
    Days no schedule covers are left out; so is everything when there is no camera."""
    if camera is None:
        return {}
    schedules = [s for s in camera.schedules if s.enabled]
    if not schedules:
        return {}
    from pylapse.selection.targets import CronRule, SelectionError

    rules: list[CronRule] = []
    per_day_interval: list[tuple[Schedule, float]] = []
    for s in schedules:
        if s.type == "interval" and s.interval_amount:
            step = s.interval_amount * _UNIT_SECONDS[s.interval_unit]
            per_day_interval.append((s, 86400 / step))
        elif s.type == "cron":
            try:
                rules.append(CronRule(s.cron_fields()))
            except SelectionError:  # a rule capture cannot run either: it expects nothing
                continue
    out: dict[date, float] = {}
    for day in days:
        seconds: set[int] = set()
        for rule in rules:
            if rule.matches_day(day):
                seconds.update(rule.seconds)
        n = float(len(seconds))
        for s, per_day in per_day_interval:
            if s.start_date is None or s.start_date.date() <= day:
                n += per_day
        if n:
            out[day] = n
    return out


LEVELS = 4


def level(count: int, expected: float | None) -> int:
    """0 (no frames) .. :data:`LEVELS` (all the frames the day should have, or more)."""
    if not count:
        return 0
    if not expected:
        return LEVELS
    return max(1, min(LEVELS, int(count / expected * LEVELS + 0.02)))


def median_day(counts: dict[date, int]) -> float | None:
    """The median frames of a day with frames: the yardstick without a schedule."""
    values = [n for n in counts.values() if n]
    return float(statistics.median(values)) if values else None
