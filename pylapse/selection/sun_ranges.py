"""The sun over a range of instants rather than one day: the windows touching a range of UTC
seconds as merged spans, the frames (sorted UTC seconds, parallel ids) kept inside them, and the
instants of sun points over the range as selection targets. This is what selections and the
capture trigger use; like the rest of :mod:`pylapse.selection` it works on plain arrays and
never touches the index.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from pylapse.selection.sun_events import SunGap, event_at, make_observer
from pylapse.selection.sun_points import SunPoint
from pylapse.selection.sun_windows import window_of
from pylapse.selection.targets import SelectionError

__all__ = [
    "in_windows",
    "keep_frames_in_windows",
    "keep_in_windows",
    "sun_targets",
    "window_spans",
]


def window_spans(
    latitude: float,
    longitude: float,
    zone: tzinfo,
    start: SunPoint | str,
    end: SunPoint | str,
    first: float,
    last: float,
) -> tuple[list[tuple[float, float]], list[SunGap]]:
    """The windows touching the UTC seconds ``first..last`` as sorted, merged half-open
    ``(start, stop)`` spans of UTC seconds, and the gaps of the days from ``first``'s day to
    ``last``'s (the day before is looked at too: its night window reaches into ``first``'s
    day)."""
    s, e = SunPoint.parse(start), SunPoint.parse(end)
    observer = make_observer(latitude, longitude)
    spans: list[tuple[float, float]] = []
    gaps: list[SunGap] = []
    first_day = _day_of(first, zone)
    for day in _days(zone, first, last, before=1):
        w = window_of(observer, day, zone, s, e, latitude)
        if isinstance(w, SunGap):
            if day >= first_day:
                gaps.append(w)
            continue
        a, b = w[0].timestamp(), w[1].timestamp()
        if b <= first or a > last:
            continue
        if spans and a <= spans[-1][1]:  # touching or overlapping (polar edges): one span
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return spans, gaps


def in_windows(utcs: Sequence[float], spans: Sequence[tuple[float, float]]) -> list[int]:
    """Positions of the sorted ``utcs`` inside the half-open ``spans`` (sorted, disjoint)."""
    out: list[int] = []
    for a, b in spans:
        out.extend(range(bisect_left(utcs, a), bisect_left(utcs, b)))
    return out


def keep_in_windows(utcs: array[float], spans: Sequence[tuple[float, float]]) -> array[float]:
    """The sorted ``utcs`` inside the half-open ``spans`` (cut by slices, in C)."""
    out = array("d")
    for a, b in spans:
        out += utcs[bisect_left(utcs, a) : bisect_left(utcs, b)]
    return out


def keep_frames_in_windows(
    ids: Sequence[int], utcs: Sequence[float], spans: Sequence[tuple[float, float]]
) -> tuple[Any, Any]:
    """``(ids, utcs)`` of the frames inside ``spans`` (``utcs`` sorted, ``ids`` parallel), as
    slices of the same type (an ``array`` stays an array: a year of 10 s frames is cut in C)."""
    out_ids: Any = ids[0:0]
    out_utcs: Any = utcs[0:0]
    for a, b in spans:
        lo, hi = bisect_left(utcs, a), bisect_left(utcs, b)
        out_ids += ids[lo:hi]
        out_utcs += utcs[lo:hi]
    return out_ids, out_utcs


def _day_of(utc: float, zone: tzinfo) -> date:
    """The local date of the UTC seconds ``utc``, floored to the second first: an inclusive end
    just below midnight (``nextafter(stop, -inf)``) would round up into the next day."""
    return datetime.fromtimestamp(utc // 1, zone).date()


def _days(zone: tzinfo, first: float, last: float, *, before: int = 0) -> Iterable[date]:
    day = _day_of(first, zone) - timedelta(days=before)
    end = _day_of(last, zone)
    while day <= end:
        yield day
        day += timedelta(days=1)


# --- targets ---------------------------------------------------------------------------------


def sun_targets(
    latitude: float,
    longitude: float,
    zone: tzinfo,
    points: Sequence[SunPoint | str],
    first: float,
    last: float,
) -> tuple[array[float], list[SunGap]]:
    """Sorted distinct UTC seconds of every point on every day with ``first <= t <= last``, and
    the gaps (days in ``first``'s to ``last``'s day where a point's event does not happen).

    The days looked at reach one day either side, so "sunset + 3 h" of the day before lands in
    range when it falls after midnight; a gap is reported only for days inside the range.
    """
    parsed = [SunPoint.parse(p) for p in points]
    if not parsed:
        raise SelectionError("sun: give at least one sun point, e.g. 'sunset-30m'")
    observer = make_observer(latitude, longitude)
    first_day, last_day = _day_of(first, zone), _day_of(last, zone)
    out: set[float] = set()
    gaps: list[SunGap] = []
    events = list(dict.fromkeys(p.event for p in parsed))  # each once, in the order given
    for day in _days(zone, first - 86400, last + 86400):
        at = {ev: event_at(observer, day, zone, ev, latitude) for ev in events}
        if first_day <= day <= last_day:
            gaps.extend(g for g in at.values() if isinstance(g, SunGap))
        for p in parsed:
            when = at[p.event]
            if isinstance(when, SunGap):
                continue
            t = when.timestamp() + p.offset.total_seconds()
            if first <= t <= last:
                out.add(t)
    targets = array("d", sorted(out))
    return targets, gaps
