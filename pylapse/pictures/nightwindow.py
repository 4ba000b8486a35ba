"""The night window of a stack: sunset + 1 h to the next sunrise - 1 h (issue 18).

A private stand-in computed with astral until ``pylapse.selection.sun`` offers the window.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from astral import Observer
from astral.sun import sunrise, sunset

from pylapse.pictures.kinds import PictureError

__all__ = ["MARGIN", "night"]

MARGIN = timedelta(hours=1)


def night(day: date, latitude: float, longitude: float, zone: tzinfo) -> tuple[datetime, datetime]:
    """The night after ``day``'s sunset, in ``zone``; :class:`PictureError` when the sun does
    not set or rise (polar day or night) or the window is empty."""
    where = Observer(latitude=latitude, longitude=longitude)
    try:
        start = sunset(where, day, tzinfo=zone) + MARGIN
        stop = sunrise(where, day + timedelta(days=1), tzinfo=zone) - MARGIN
    except ValueError as exc:  # astral: the sun never reaches the horizon that day
        raise PictureError(
            f"no night window after {day} at latitude {latitude}, longitude {longitude}: {exc}"
        ) from None
    if stop <= start:
        raise PictureError(f"the night after {day} is shorter than two hours: no night window")
    return start, stop
