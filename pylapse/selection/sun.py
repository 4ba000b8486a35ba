"""The sun: event times per day (sunrise, sunset, solar noon, civil / nautical / astronomical dawn
and dusk), points relative to them ("sunset - 30 min"), windows between two points ("civil dawn -
30 min to civil dusk + 30 min", "sunset + 1 h to sunrise - 1 h"), and the days where an event
does not happen (polar day or night), each with its reason.

This module is the one import path for all of it; each part lives in its own module, which
says how it decides:

- :mod:`pylapse.selection.sun_events`: the events, which one belongs to a day (a day's sunset
  may fall after midnight), when it happens (astral 3), and :class:`SunGap`.
- :mod:`pylapse.selection.sun_points`: :class:`SunPoint` (an event and an offset of elapsed
  time), :data:`DAY`, :data:`NIGHT`, windows as text, :func:`sun_time`.
- :mod:`pylapse.selection.sun_windows`: :func:`sun_window`, the window that starts on a day,
  and what polar day and night do to it.
- :mod:`pylapse.selection.sun_ranges`: windows and sun points over a range of UTC seconds, for
  selections and the capture trigger.

Like the rest of :mod:`pylapse.selection` it works on plain numbers and never touches the index.

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

from pylapse.selection.sun_events import SunEvent, SunGap, event_time
from pylapse.selection.sun_points import (
    DAY,
    NAMED_WINDOWS,
    NIGHT,
    SunPoint,
    parse_window,
    sun_time,
    window_text,
)
from pylapse.selection.sun_ranges import (
    in_windows,
    keep_frames_in_windows,
    keep_in_windows,
    sun_targets,
    window_spans,
)
from pylapse.selection.sun_windows import sun_window

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
