"""A photo's GPS block as evidence of its UTC offset: the camera's wall clock minus the fix's UTC
time, and whether that reading can be trusted.

The block is the GPS IFD's tags, number -> value (:attr:`pylapse.exif.FileMeta.gps`). The
difference must land within :data:`GPS_SLACK` of a real offset (:func:`real_offset`); a fix at
0,0 or with a zero date is a placeholder, one further from the clock than any offset is stale,
and a fix with a time but no readable date gives the offset modulo a day (the reading that is an
offset, and when two are, the one the zones agree with). :func:`zone_disagreement` checks an
offset against the zone at the fix's position (tzfpy) and the collection's zone. How this weighs
against the file's other evidence is :mod:`pylapse.filetime`'s rule 4; it imports nothing of
pylapse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "GPS_SLACK",
    "MAX_OFFSET",
    "MIN_OFFSET",
    "nearest_real",
    "offset_from_fix",
    "real_offset",
    "show_offset",
    "text",
    "zone_disagreement",
]

#: How far GPS-derived offsets may sit from a real offset (camera clocks drift).
GPS_SLACK = timedelta(minutes=2)
MIN_OFFSET, MAX_OFFSET = -12 * 3600, 14 * 3600
_DAY = 86400
_LAT_REF, _LAT, _LON_REF, _LON, _TIME, _DATE = 1, 2, 3, 4, 7, 29  # GPS IFD tag numbers


def real_offset(seconds: int) -> bool:
    """True for an offset some zone uses: -12:00..+14:00 in whole quarter hours."""
    return MIN_OFFSET <= seconds <= MAX_OFFSET and seconds % 900 == 0


def nearest_real(raw: float) -> int | None:
    """The real offset within :data:`GPS_SLACK` of ``raw`` seconds, or None."""
    nearest = round(raw / 900) * 900
    if abs(raw - nearest) > GPS_SLACK.total_seconds() or not real_offset(nearest):
        return None
    return nearest


def show_offset(seconds: int) -> str:
    """``seconds`` east of UTC as ``+09:00`` (``+09:00:30`` when not whole minutes)."""
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    shown = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{shown}:{secs:02d}" if secs else shown


def text(value: object, *, strip: bool = True) -> str:
    """A tag's value as text: bytes read as ASCII, NUL padding dropped."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    out = str(value).replace("\x00", "")
    return out.strip() if strip else out


def offset_from_fix(
    gps: Mapping[int, object], local: datetime, zone: tzinfo | None
) -> tuple[float, str] | str | None:
    """(wall clock minus GPS time in seconds, label), a reason it cannot be used, or None.

    ``local`` is the photo's naive wall clock; ``zone`` (the collection's, or None) decides
    between two time-only readings together with the zone at the fix's position.
    """
    clock = gps.get(_TIME)
    if not isinstance(clock, tuple) or len(clock) != 3:
        return None
    try:
        h, m, s = (float(v) for v in clock)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if any(math.isnan(v) for v in (h, m, s)):
        return None
    seconds_of_day = h * 3600 + m * 60 + s
    where = position(gps)
    if where == (0.0, 0.0):
        return "placeholder GPS fix at 0,0 (not a real position)"
    stamp = text(gps.get(_DATE, ""))
    fix_day = _gps_date(stamp)
    if stamp.replace(":", "").strip("0 ") == "" and stamp:
        return f"placeholder GPS date {stamp!r}"
    if fix_day is not None:
        fix = datetime.combine(fix_day, datetime.min.time()) + timedelta(seconds=seconds_of_day)
        raw = (local - fix).total_seconds()
        shown = f"GPS fix {fix:%Y-%m-%d %H:%M:%S} UTC"
        if not MIN_OFFSET - 120 <= raw <= MAX_OFFSET + 120:
            return f"stale GPS fix: {shown} is {_span(raw)} from the photo's clock {local}"
        return raw, f"GPS: {local:%H:%M:%S} minus {shown} = {show_offset(round(raw))}"
    # Time only: the difference is known modulo a day; take the reading that is an offset,
    # and when two are (-12..-10 h is also +12..+14 h), the one the zones agree with.
    base = (local - datetime.combine(local.date(), datetime.min.time())).total_seconds()
    diff = (base - seconds_of_day) % _DAY
    choices = [d for d in (diff, diff - _DAY) if MIN_OFFSET - 120 <= d <= MAX_OFFSET + 120]
    if len(choices) > 1:
        agreeing = [
            d
            for d in choices
            if (n := nearest_real(d)) is not None and not zone_disagreement(gps, local, n, zone)
        ]
        choices = agreeing if len(agreeing) == 1 else [d for d in choices if d <= 12 * 3600]
    raw = choices[0]
    note = f" (GPS date {stamp!r} unreadable)" if stamp else " (no GPS date)"
    return raw, f"GPS time only{note}: {show_offset(round(raw))} modulo 24 h"


def position(gps: Mapping[int, object]) -> tuple[float, float] | None:
    """The fix's (latitude, longitude) in degrees, south and west negative, or None."""
    lat, lon = _degrees(gps.get(_LAT)), _degrees(gps.get(_LON))
    if lat is None or lon is None:
        return None
    if text(gps.get(_LAT_REF, "N")).upper().startswith("S"):
        lat = -lat
    if text(gps.get(_LON_REF, "E")).upper().startswith("W"):
        lon = -lon
    return lat, lon


def zone_disagreement(
    gps: Mapping[int, object], local: datetime, seconds: int, zone: tzinfo | None
) -> str:
    """Why ``seconds`` disagrees with the zone at the fix's position or ``zone``, or ''."""
    where = position(gps)
    if where is not None:
        name = _zone_at(*where)
        if name:
            there = _offset_in(ZoneInfo(name), local)
            if there and seconds not in there:
                return f"the location's zone {name} is {show_offset(there[0])} then"
    if zone is not None:
        there = _offset_in(zone, local)
        if there and seconds not in there:
            return f"the collection's zone is {show_offset(there[0])} then"
    return ""


def _span(seconds: float) -> str:
    hours = abs(seconds) / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def _gps_date(stamp: str) -> date | None:
    match = re.fullmatch(r"(\d{4})[:\-](\d{2})[:\-](\d{2})", stamp.strip())
    if match is None:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _degrees(value: object) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    total = d + m / 60 + s / 3600
    return None if math.isnan(total) else total


def _zone_at(lat: float, lon: float) -> str:
    """The IANA zone at a position ('' for open sea, unknown or unusable zones)."""
    import tzfpy  # loads its boundary data on first use (about 50 ms), so only when needed

    name = tzfpy.get_tz(lon, lat)
    if not name or name.startswith("Etc/"):
        return ""  # open sea: nautical zones say nothing about a camera's clock
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


def _offset_in(zone: tzinfo, local: datetime) -> list[int]:
    """The offsets ``zone`` may have at wall clock ``local`` (two in a repeated hour)."""
    out = []
    for fold in (0, 1):
        delta = local.replace(tzinfo=zone, fold=fold).utcoffset()
        if delta is not None and int(delta.total_seconds()) not in out:
            out.append(int(delta.total_seconds()))
    return out
