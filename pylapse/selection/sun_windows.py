"""The sun window of a day: from one :class:`~pylapse.selection.sun_points.SunPoint` on the day
to the first of another after it, as two aware instants, or the
:class:`~pylapse.selection.sun_events.SunGap` saying why the day has none.

Which window belongs to a day
    :func:`sun_window` gives the window that *starts* on day ``D``: from ``start`` on ``D`` to
    the first ``end`` after it (on ``D``, or on ``D + 1`` when ``end`` on ``D`` is not later, as
    for a night: sunset of ``D`` + 1 h to sunrise of ``D + 1`` - 1 h). A missing event does not
    always empty the window: when the sun stays on the window's *inside* of that event (a day
    window bounded by sunrise and sunset during polar day, a night window during polar night) the
    window runs to the edge of that solar day (12 h either side of solar noon, or noon to the next
    noon for a window that starts at a setting event). When the sun stays on the outside (a day
    window in polar night) the day has no window: a :class:`SunGap`. So "capture only by day"
    captures all day long under the midnight sun and not at all in the polar night.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from pylapse.selection.sun_events import (
    HALF_DAY,
    SunEvent,
    SunGap,
    event_at,
    make_observer,
    solar_noon,
)
from pylapse.selection.sun_points import SunPoint, shift, window_text

if TYPE_CHECKING:
    from astral import Observer

__all__ = ["sun_window", "window_of"]


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
    at = event_at(observer, day, zone, point.event, latitude)
    if not isinstance(at, SunGap):
        return shift(at, point.offset, zone)
    # Which side of the event is inside the window: after a rising start or before a setting
    # end the sun is up; after a setting start or before a rising end it is down.
    inside_up = point.event.rising if is_start else point.event.setting
    if at.up != inside_up:
        return at
    noon = solar_noon(observer, window_day, zone)
    if night:  # a window from a setting event: noon of its day to the next day's noon
        edge = noon if is_start else solar_noon(observer, window_day + timedelta(days=1), zone)
    else:
        edge = noon - HALF_DAY if is_start else noon + HALF_DAY
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
    observer = make_observer(latitude, longitude)
    return window_of(observer, day, zone, s, e, latitude)


def window_of(
    observer: Observer, day: date, zone: tzinfo, s: SunPoint, e: SunPoint, latitude: float
) -> tuple[datetime, datetime] | SunGap:
    """:func:`sun_window` of parsed points for an observer made once (spans ask for many days)."""
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
        at = event_at(observer, d, zone, e.event, latitude)
        if not isinstance(at, SunGap):
            at = shift(at, e.offset, zone)
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
