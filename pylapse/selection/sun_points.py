"""Points relative to the sun's events, and pairs of them as windows in text: a
:class:`SunPoint` is an event and an offset (``"sunset-30m"``), :data:`DAY` and :data:`NIGHT` the
two usual windows, :func:`parse_window` reads ``"civil_dawn-30m..civil_dusk+30m"``, and
:func:`sun_time` says when a point falls on a day.

Points and offsets
    A :class:`SunPoint` is an event and an offset (``sunset-30m`` is 30 minutes before sunset),
    added as elapsed time: on a DST day "sunrise + 2 h" is two real hours after sunrise, whatever
    the wall clock does in between. All instants are timezone-aware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from pylapse.selection.sun_events import SunEvent, SunGap, event_time, parse_event
from pylapse.selection.targets import SelectionError

__all__ = [
    "DAY",
    "NAMED_WINDOWS",
    "NIGHT",
    "SunPoint",
    "parse_window",
    "shift",
    "sun_time",
    "window_text",
]

_UNIT = {"h": 3600, "m": 60, "s": 1}
_POINT = re.compile(
    r"^\s*(?P<event>[a-z]+(?:[_ -][a-z]+)*)\s*(?:(?P<sign>[+\-−])\s*(?P<amount>.+))?$"
)
_PIECE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\s*", re.I
)


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
            return cls(parse_event(str(event)), offset)
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
        return cls(parse_event(match["event"]), offset)

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


def sun_time(
    day: date, latitude: float, longitude: float, zone: tzinfo, point: SunPoint | str
) -> datetime | SunGap:
    """``point`` (an event plus its offset) on ``day``, or why the event does not happen."""
    p = SunPoint.parse(point)
    at = event_time(day, latitude, longitude, zone, p.event)
    return at if isinstance(at, SunGap) else shift(at, p.offset, zone)


def shift(at: datetime, offset: timedelta, zone: tzinfo) -> datetime:
    """``at`` moved by ``offset`` of elapsed time (aware arithmetic in one zone would move the
    wall clock instead, an hour off across a DST change)."""
    return (at.astimezone(UTC) + offset).astimezone(zone)
