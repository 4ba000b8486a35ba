"""The sun in a collection's selections: the place they need (an error saying where to set it)
and a sun window's spans over a selection's range."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta, tzinfo

from pylapse.selection.sun import SunGap, parse_window, window_spans
from pylapse.selection.targets import DaySpan, SelectionError

__all__ = ["require_place", "sun_window_spans"]


def require_place(
    name: str, latitude: float | None, longitude: float | None
) -> tuple[float, float]:
    """Collection ``name``'s latitude and longitude, or a :class:`SelectionError` if unset."""
    if latitude is None or longitude is None:
        raise SelectionError(
            f"collection {name!r} has no latitude/longitude: sun selections need them "
            "(set latitude and longitude on the collection or its camera in the config, or "
            "pass Collection(..., latitude=, longitude=))"
        )
    return latitude, longitude


def sun_window_spans(
    window: str | tuple[str, str],
    place: Callable[[], tuple[float, float]],
    zone: tzinfo,
    span: DaySpan,
    utcs: Sequence[float],
    tolerance: timedelta | float,
) -> tuple[list[tuple[float, float]], list[SunGap]]:
    """The sun window's spans over the range (or the frames' extent, ``utcs`` padded by the
    ``tolerance``) at ``place()``, and its gap days."""
    start, end = parse_window(window)  # a bad window is reported before a missing place
    lat, lon = place()
    pad = tolerance.total_seconds() if isinstance(tolerance, timedelta) else float(tolerance)
    first = span.start if span.start is not None else (utcs[0] - pad if utcs else None)
    last = span.stop if span.stop is not None else (utcs[-1] + pad if utcs else None)
    if first is None or last is None:
        return [], []
    return window_spans(lat, lon, zone, start, end, first, last)
