"""The sun: event times per day (sunrise, sunset, solar noon, civil / nautical / astronomical dawn
and dusk), points relative to them ("sunset - 30 min"), windows between two points ("civil dawn -
30 min to civil dusk + 30 min", "sunset + 1 h to sunrise - 1 h"), and the days where an event
does not happen (polar day or night), each with its reason.

Everything is computed with astral 3 (``astral.sun.time_of_transit``, the same formula as
``astral.sun.sunrise``/``sunset``/``dawn``/``dusk``), for a place given as latitude, longitude and
an IANA zone. Like the rest of :mod:`pylapse.selection` it works on plain numbers and never touches
the index.

Which event belongs to a day
    A day ``D`` is a calendar date in the zone. Its **solar noon** is the sun's highest point on
    ``D`` (the one whose local date is ``D``). Its **rising** events (dawns, sunrise) are the
    crossings in the 12 hours before that noon, its **setting** events (sunset, dusks) the
    crossings in the 12 hours after it. So day ``D``'s sunset may fall after midnight (at 68°N in
    May the sun sets at 00:30): it still belongs to ``D``, and every day has at most one of each
    event, never two. astral's own ``sunset(observer, D)`` answers with the event whose *local
    date* is ``D`` instead, which near the polar circle skips a day and repeats another.

    A day without the crossing (the sun stays above, or below, that angle all day: polar day,
    polar night, white nights for the dusks) has no event: a :class:`SunGap` says why, e.g.
    ``no sunset on 2026-06-21 at 78.2°N: the sun stays up``.

Points and offsets
    A :class:`SunPoint` is an event and an offset (``sunset-30m`` is 30 minutes before sunset),
    added as elapsed time: on a DST day "sunrise + 2 h" is two real hours after sunrise, whatever
    the wall clock does in between. All instants are timezone-aware.

Windows
    :func:`sun_window` gives the window that *starts* on day ``D``: from ``start`` on ``D`` to
    the first ``end`` after it (on ``D``, or on ``D + 1`` when ``end`` on ``D`` is not later, as
    for a night: sunset of ``D`` + 1 h to sunrise of ``D + 1`` - 1 h). A missing event does not
    always empty the window: when the sun stays on the window's *inside* of that event (a day
    window bounded by sunrise and sunset during polar day, a night window during polar night) the
    window runs to the edge of that solar day (12 h either side of solar noon, or noon to the next
    noon for a window that starts at a setting event). When the sun stays on the outside (a day
    window in polar night) the day has no window: a :class:`SunGap`. So "capture only by day"
    captures all day long under the midnight sun and not at all in the polar night.

Usage::

    from datetime import date
    from zoneinfo import ZoneInfo
    from pylapse.selection.sun import NIGHT, SunGap, sun_window

    window = sun_window(date(2026, 3, 28), 52.52, 13.40, ZoneInfo("Europe/Berlin"), *NIGHT)
    if isinstance(window, SunGap):
        print(window)                    # why there is no night window that day
    else:
        start, end = window              # aware datetimes in Europe/Berlin
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pylapse.selection.targets import SelectionError

if TYPE_CHECKING:
    from astral import Observer

__all__ = [
    "DAY",
    "NAMED_WINDOWS",
    "NIGHT",
    "SunEvent",
    "SunGap",
    "SunPoint",
    "event_time",
    "in_windows",
    "keep_frames_in_windows",
    "keep_in_windows",
    "parse_window",
    "sun_targets",
    "sun_time",
    "sun_window",
    "window_spans",
    "window_text",
]


class SunEvent(StrEnum):
    """The events of a day; a value is also the name accepted in text (``"civil_dawn"``)."""

    ASTRONOMICAL_DAWN = "astronomical_dawn"
    NAUTICAL_DAWN = "nautical_dawn"
    CIVIL_DAWN = "civil_dawn"
    SUNRISE = "sunrise"
    NOON = "noon"
    SUNSET = "sunset"
    CIVIL_DUSK = "civil_dusk"
    NAUTICAL_DUSK = "nautical_dusk"
    ASTRONOMICAL_DUSK = "astronomical_dusk"

    @property
    def label(self) -> str:
        """How a message names it: "civil dusk", "solar noon"."""
        return "solar noon" if self is SunEvent.NOON else self.value.replace("_", " ")

    @property
    def rising(self) -> bool:
        return self in _RISING

    @property
    def setting(self) -> bool:
        return self in _SETTING


_RISING = frozenset({
    SunEvent.ASTRONOMICAL_DAWN, SunEvent.NAUTICAL_DAWN, SunEvent.CIVIL_DAWN, SunEvent.SUNRISE,
})  # fmt: skip
_SETTING = frozenset({
    SunEvent.SUNSET, SunEvent.CIVIL_DUSK, SunEvent.NAUTICAL_DUSK, SunEvent.ASTRONOMICAL_DUSK,
})  # fmt: skip
# Degrees the sun's centre is below the horizon at the event; sunrise/sunset as astral: the
# upper limb on the horizon (half of the sun's 32' disc), refraction added by astral.
_DEPRESSION = {
    SunEvent.SUNRISE: 32.0 / 120.0,
    SunEvent.SUNSET: 32.0 / 120.0,
    SunEvent.CIVIL_DAWN: 6.0,
    SunEvent.CIVIL_DUSK: 6.0,
    SunEvent.NAUTICAL_DAWN: 12.0,
    SunEvent.NAUTICAL_DUSK: 12.0,
    SunEvent.ASTRONOMICAL_DAWN: 18.0,
    SunEvent.ASTRONOMICAL_DUSK: 18.0,
}
_ALIASES = {
    "solar_noon": SunEvent.NOON,
    "midday": SunEvent.NOON,
    "dawn": SunEvent.CIVIL_DAWN,
    "dusk": SunEvent.CIVIL_DUSK,
    "astro_dawn": SunEvent.ASTRONOMICAL_DAWN,
    "astro_dusk": SunEvent.ASTRONOMICAL_DUSK,
}
_HALF_DAY = timedelta(hours=12)
# A crossing computed from a neighbouring date's declination can land a few minutes past the
# half day; a day's next event of the same kind is always about 24 h away, so this is safe.
_SLACK = timedelta(minutes=30)


# --- points ----------------------------------------------------------------------------------

_UNIT = {"h": 3600, "m": 60, "s": 1}
_POINT = re.compile(
    r"^\s*(?P<event>[a-z]+(?:[_ -][a-z]+)*)\s*(?:(?P<sign>[+\-−])\s*(?P<amount>.+))?$"
)
_PIECE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\s*", re.I
)


def _event(name: str) -> SunEvent:
    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return SunEvent(key)
    except ValueError:
        known = ", ".join(e.value for e in SunEvent)
        raise SelectionError(f"sun: {name!r} is not a sun event; accepted: {known}") from None


def _duration(text: str, whole: str) -> timedelta:
    text = text.strip()
    clock = re.fullmatch(r"(\d+):(\d{2})(?::(\d{2}))?", text)
    if clock:
        h, m, s = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        return timedelta(hours=h, minutes=m, seconds=s)
    pos, seconds = 0, 0.0
    for piece in _PIECE.finditer(text):
        if piece.start() != pos:
            break
        seconds += float(piece[1]) * _UNIT[piece[2][0].lower()]
        pos = piece.end()
    if pos != len(text) or not text:
        raise SelectionError(
            f"sun: {whole!r}: the offset {text!r} is not a duration (accepted: 30m, 1h, 1h30m, "
            "90s, 1:30)"
        )
    return timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class SunPoint:
    """An event and an offset from it: ``SunPoint(SunEvent.SUNSET, timedelta(minutes=-30))`` is
    30 minutes before sunset. :meth:`parse` reads ``"sunset-30m"``, ``"civil dawn + 1h30m"``,
    ``"noon"``; ``str()`` writes it back in that form."""

    event: SunEvent
    offset: timedelta = timedelta(0)

    @classmethod
    def parse(cls, value: SunPoint | str | tuple[SunEvent | str, timedelta]) -> SunPoint:
        if isinstance(value, SunPoint):
            return value
        if isinstance(value, tuple):
            event, offset = value
            return cls(_event(str(event)), offset)
        match = _POINT.match(str(value).lower())
        if not match:
            raise SelectionError(
                f"sun: {value!r} is not a sun point (accepted: an event and an optional offset, "
                "e.g. 'sunset-30m', 'solar_noon', 'civil_dawn+1h')"
            )
        offset = timedelta(0)
        if match["amount"] is not None:
            offset = _duration(match["amount"], str(value))
            if match["sign"] != "+":
                offset = -offset
        return cls(_event(match["event"]), offset)

    def __str__(self) -> str:
        if not self.offset:
            return self.event.value
        seconds = int(abs(self.offset.total_seconds()))
        h, rest = divmod(seconds, 3600)
        m, s = divmod(rest, 60)
        amount = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
        return f"{self.event.value}{'-' if self.offset < timedelta(0) else '+'}{amount}"


#: The day window of the issue: civil dawn - 30 min to civil dusk + 30 min.
DAY = (SunPoint(SunEvent.CIVIL_DAWN, timedelta(minutes=-30)),
       SunPoint(SunEvent.CIVIL_DUSK, timedelta(minutes=30)))  # fmt: skip
#: The night window (the night light stack's): sunset + 1 h to sunrise - 1 h of the next day.
NIGHT = (SunPoint(SunEvent.SUNSET, timedelta(hours=1)),
         SunPoint(SunEvent.SUNRISE, timedelta(hours=-1)))  # fmt: skip
NAMED_WINDOWS = {"day": DAY, "night": NIGHT}


def parse_window(value: str | tuple[SunPoint | str, SunPoint | str]) -> tuple[SunPoint, SunPoint]:
    """``"day"``, ``"night"``, ``"civil_dawn-30m..civil_dusk+30m"`` (or ``"... to ..."``), or a
    pair of points, as a ``(start, end)`` pair."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise SelectionError(f"sun window: {value!r} is not a (start, end) pair")
        return SunPoint.parse(value[0]), SunPoint.parse(value[1])
    text = str(value).strip().lower()
    if text in NAMED_WINDOWS:
        return NAMED_WINDOWS[text]
    parts = re.split(r"\s*\.\.\s*|\s+to\s+", text)
    if len(parts) != 2 or not all(parts):
        raise SelectionError(
            f"sun window: {value!r} is not a window (accepted: 'day', 'night', or START..END "
            "such as 'civil_dawn-30m..civil_dusk+30m', 'sunset+1h..sunrise-1h')"
        )
    return SunPoint.parse(parts[0]), SunPoint.parse(parts[1])


def window_text(start: SunPoint, end: SunPoint) -> str:
    """A window as :func:`parse_window` reads it back."""
    return f"{start}..{end}"


# --- gaps ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SunGap:
    """A day without the asked-for event or window, and why: ``str()`` is the message, e.g.
    ``no sunset on 2026-06-21 at 78.2°N: the sun stays up``. ``up`` says on which side of the
    event's angle the sun stays (True: above, as in polar day; False: below)."""

    day: date
    what: str  # "sunset", "civil dusk", "window sunset+1h..sunrise-1h"
    latitude: float
    reason: str
    up: bool

    def __str__(self) -> str:
        return f"no {self.what} on {self.day.isoformat()} at {_lat(self.latitude)}: {self.reason}"


def _lat(latitude: float) -> str:
    return f"{abs(latitude):.1f}°{'N' if latitude >= 0 else 'S'}"


def _reason(event: SunEvent, up: bool) -> str:
    if event in (SunEvent.SUNRISE, SunEvent.SUNSET):
        return "the sun stays up" if up else "the sun stays down"
    depth = f"{_DEPRESSION[event]:g}°"
    if up:
        return f"the sun never gets {depth} below the horizon"
    return f"the sun stays more than {depth} below the horizon"


# --- events of a day -------------------------------------------------------------------------


def _observer(latitude: float, longitude: float) -> Observer:
    from astral import Observer  # imported here: keeps `import pylapse.selection` cheap

    if not -90 <= latitude <= 90:
        raise SelectionError(f"latitude: {latitude!r} must be between -90 and 90")
    if not -180 <= longitude <= 180:
        raise SelectionError(f"longitude: {longitude!r} must be between -180 and 180")
    return Observer(latitude=latitude, longitude=longitude)


def _noon(observer: Observer, day: date, zone: tzinfo) -> datetime:
    """Solar noon whose local date is ``day`` (astral's noon is for a UTC date: the day's own,
    or a neighbour's where the zone is far from UTC). Zones keep solar noon within a few hours
    of 12:00, so one of three consecutive noons falls on ``day``; for a place far from its
    zone's meridian (a longitude typed with the wrong sign) the one nearest 12:00 stands in."""
    from astral.sun import noon

    found = [noon(observer, day + timedelta(days=k), UTC).astimezone(zone) for k in (-1, 0, 1)]
    on_day = [at for at in found if at.date() == day]
    if on_day:
        return on_day[0]
    twelve = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
    return min(found, key=lambda at: abs(at - twelve))


def _crossing(observer: Observer, noon: datetime, event: SunEvent) -> datetime | None:
    """The event's crossing in the half day before (rising) or after (setting) ``noon``."""
    from astral import SunDirection
    from astral.sun import time_of_transit

    direction = SunDirection.RISING if event.rising else SunDirection.SETTING
    zenith = 90.0 + _DEPRESSION[event]
    lo, hi = (
        (noon - _HALF_DAY - _SLACK, noon) if event.rising else (noon, noon + _HALF_DAY + _SLACK)
    )
    base = noon.astimezone(UTC).date()
    found: list[datetime] = []
    for k in (-1, 0, 1):
        d = base + timedelta(days=k)
        try:
            at = time_of_transit(observer, d, zenith, direction)
        except ValueError:  # astral: the sun does not reach that angle on that date
            continue
        if lo < at < hi:
            if at.date() == d:
                # Neighbouring dates' formulas find the same crossing seconds apart: the one
                # computed for the crossing's own (UTC) date is astral's sunrise()/sunset().
                return at
            found.append(at)
    return found[0] if found else None


def _stays_up(observer: Observer, noon: datetime, event: SunEvent) -> bool:
    """Whether the sun stays above the event's angle (polar day) rather than below it."""
    from astral.sun import elevation

    return bool(elevation(observer, noon, with_refraction=False) > -_DEPRESSION[event])


def _event_at(
    observer: Observer, day: date, zone: tzinfo, event: SunEvent, latitude: float
) -> datetime | SunGap:
    noon = _noon(observer, day, zone)
    if event is SunEvent.NOON:
        return noon
    at = _crossing(observer, noon, event)
    if at is not None:
        return at.astimezone(zone)
    up = _stays_up(observer, noon, event)
    return SunGap(day, event.label, latitude, _reason(event, up), up)


def event_time(
    day: date, latitude: float, longitude: float, zone: tzinfo, event: SunEvent | str
) -> datetime | SunGap:
    """When ``event`` happens on ``day`` (an aware datetime in ``zone``), or why it does not."""
    return _event_at(_observer(latitude, longitude), day, zone, _event(str(event)), latitude)


def sun_time(
    day: date, latitude: float, longitude: float, zone: tzinfo, point: SunPoint | str
) -> datetime | SunGap:
    """``point`` (an event plus its offset) on ``day``, or why the event does not happen."""
    p = SunPoint.parse(point)
    at = event_time(day, latitude, longitude, zone, p.event)
    return at if isinstance(at, SunGap) else _shift(at, p.offset, zone)


def _shift(at: datetime, offset: timedelta, zone: tzinfo) -> datetime:
    """``at`` moved by ``offset`` of elapsed time (aware arithmetic in one zone would move the
    wall clock instead, an hour off across a DST change)."""
    return (at.astimezone(UTC) + offset).astimezone(zone)


# --- windows ---------------------------------------------------------------------------------


def _bound(
    observer: Observer,
    day: date,
    zone: tzinfo,
    point: SunPoint,
    latitude: float,
    *,
    is_start: bool,
    night: bool,
    window_day: date,
) -> datetime | SunGap:
    """One end of the window of ``window_day``, from ``point`` on ``day`` (that day or the
    next); a missing event on the window's inside becomes the edge of the window day's solar
    day (see the module docstring), on its outside a gap."""
    at = _event_at(observer, day, zone, point.event, latitude)
    if not isinstance(at, SunGap):
        return _shift(at, point.offset, zone)
    # Which side of the event is inside the window: after a rising start or before a setting
    # end the sun is up; after a setting start or before a rising end it is down.
    inside_up = point.event.rising if is_start else point.event.setting
    if at.up != inside_up:
        return at
    noon = _noon(observer, window_day, zone)
    if night:  # a window from a setting event: noon of its day to the next day's noon
        edge = noon if is_start else _noon(observer, window_day + timedelta(days=1), zone)
    else:
        edge = noon - _HALF_DAY if is_start else noon + _HALF_DAY
    return edge.astimezone(zone)


def sun_window(
    day: date,
    latitude: float,
    longitude: float,
    zone: tzinfo,
    start: SunPoint | str,
    end: SunPoint | str,
) -> tuple[datetime, datetime] | SunGap:
    """The window from ``start`` on ``day`` to the first ``end`` after it, as two aware datetimes
    in ``zone`` (start inclusive, end exclusive), or a :class:`SunGap` saying why ``day`` has no
    such window.

    ``start``/``end`` are :class:`SunPoint` s or their text (``"sunset+1h"``); :data:`DAY` and
    :data:`NIGHT` are the two usual pairs (``sun_window(day, lat, lon, zone, *NIGHT)``). A night
    window (``end`` not after ``start`` on the same day) ends on the next day: the night of
    2026-03-28 in Berlin runs from sunset + 1 h on the 28th to sunrise - 1 h on the 29th, across
    the DST change (offsets are elapsed time, the datetimes carry each end's own UTC offset).

    Polar day and night: a missing event on the window's inside widens the window to the edge of
    the solar day (the day window under the midnight sun is the whole day); on the outside the
    day has no window (a gap: "no window sunset+1h..sunrise-1h on 2026-06-21 at 78.2°N: the sun
    stays up"). A window that comes out empty (at 60°N in June, sunset + 1 h is later than the
    next sunrise - 1 h) is a gap too, saying so.
    """
    s, e = SunPoint.parse(start), SunPoint.parse(end)
    observer = _observer(latitude, longitude)
    return _window(observer, day, zone, s, e, latitude)


def _window(
    observer: Observer, day: date, zone: tzinfo, s: SunPoint, e: SunPoint, latitude: float
) -> tuple[datetime, datetime] | SunGap:
    what = f"window {window_text(s, e)}"
    night = _is_night(s, e)
    begin = _bound(observer, day, zone, s, latitude, is_start=True, night=night, window_day=day)
    if isinstance(begin, SunGap):
        return SunGap(day, what, latitude, f"{begin.what}: {begin.reason}", begin.up)
    # The end is the first real ``e`` within a day after the start, on this day or the next
    # (a night's sunrise is tomorrow's, also when tonight began at the polar night's edge);
    # only without one does a missing event widen the window to the solar day's edge.
    finish: datetime | SunGap | None = None
    for d in (day, day + timedelta(days=1)):
        at = _event_at(observer, d, zone, e.event, latitude)
        if not isinstance(at, SunGap):
            at = _shift(at, e.offset, zone)
            if begin < at <= begin + timedelta(days=1):
                finish = at
                break
    if finish is None:
        finish = _bound(
            observer, day, zone, e, latitude, is_start=False, night=night, window_day=day
        )
    if not isinstance(finish, SunGap) and finish <= begin:
        finish = _bound(
            observer, day + timedelta(days=1), zone, e, latitude,
            is_start=False, night=night, window_day=day,
        )  # fmt: skip
    if isinstance(finish, SunGap):
        return SunGap(day, what, latitude, f"{finish.what}: {finish.reason}", finish.up)
    if finish <= begin:
        return SunGap(
            day,
            what,
            latitude,
            f"the window is empty ({s} at {begin:%H:%M} is not before {e} at {finish:%H:%M})",
            night,  # an empty night window: the sun is up too long
        )
    return begin, finish


def _is_night(start: SunPoint, end: SunPoint) -> bool:
    """A window that starts at a setting event and ends at a rising one (or another setting
    event earlier in the order of a day): the sun is down inside it."""
    order = list(SunEvent)
    return order.index(end.event) < order.index(start.event) or (
        start.event.setting and end.event.rising
    )


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
    observer = _observer(latitude, longitude)
    spans: list[tuple[float, float]] = []
    gaps: list[SunGap] = []
    first_day = _day_of(first, zone)
    for day in _days(zone, first, last, before=1):
        w = _window(observer, day, zone, s, e, latitude)
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
    observer = _observer(latitude, longitude)
    first_day, last_day = _day_of(first, zone), _day_of(last, zone)
    out: set[float] = set()
    gaps: list[SunGap] = []
    events = list(dict.fromkeys(p.event for p in parsed))  # each once, in the order given
    for day in _days(zone, first - 86400, last + 86400):
        at = {ev: _event_at(observer, day, zone, ev, latitude) for ev in events}
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
