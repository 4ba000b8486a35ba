"""The sun's events of a day: which events there are (sunrise, sunset, solar noon, civil /
nautical / astronomical dawn and dusk), when each happens on a day, and the :class:`SunGap` of a
day where it does not (polar day or night), with its reason.

Computed with astral 3 (``astral.sun.time_of_transit``, the same formula as
``astral.sun.sunrise``/``sunset``/``dawn``/``dusk``) for a place given as latitude, longitude and
a zone. Points relative to these events are :mod:`pylapse.selection.sun_points`, windows between
two points :mod:`pylapse.selection.sun_windows`; :mod:`pylapse.selection.sun` offers them all.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING

from pylapse.selection.targets import SelectionError

if TYPE_CHECKING:
    from astral import Observer

__all__ = [
    "HALF_DAY",
    "SunEvent",
    "SunGap",
    "event_at",
    "event_time",
    "make_observer",
    "parse_event",
    "solar_noon",
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
# A day's rising events are in the half day before its solar noon, its setting ones after.
HALF_DAY = timedelta(hours=12)
# A crossing computed from a neighbouring date's declination can land a few minutes past the
# half day; a day's next event of the same kind is always about 24 h away, so this is safe.
_SLACK = timedelta(minutes=30)


def parse_event(name: str) -> SunEvent:
    """An event by its name in text: ``"civil dawn"``, ``"sunset"``, or an alias (``"dusk"``)."""
    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return SunEvent(key)
    except ValueError:
        known = ", ".join(e.value for e in SunEvent)
        raise SelectionError(f"sun: {name!r} is not a sun event; accepted: {known}") from None


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


def make_observer(latitude: float, longitude: float) -> Observer:
    """astral's observer at the place, the coordinates checked."""
    from astral import Observer  # imported here: keeps `import pylapse.selection` cheap

    if not -90 <= latitude <= 90:
        raise SelectionError(f"latitude: {latitude!r} must be between -90 and 90")
    if not -180 <= longitude <= 180:
        raise SelectionError(f"longitude: {longitude!r} must be between -180 and 180")
    return Observer(latitude=latitude, longitude=longitude)


def solar_noon(observer: Observer, day: date, zone: tzinfo) -> datetime:
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
    lo, hi = (noon - HALF_DAY - _SLACK, noon) if event.rising else (noon, noon + HALF_DAY + _SLACK)
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


def event_at(
    observer: Observer, day: date, zone: tzinfo, event: SunEvent, latitude: float
) -> datetime | SunGap:
    """:func:`event_time` for an observer made once (windows and targets ask for many days)."""
    noon = solar_noon(observer, day, zone)
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
    observer = make_observer(latitude, longitude)
    return event_at(observer, day, zone, parse_event(str(event)), latitude)
