"""The hot path of reading times from frame names: integers and caches, no datetime objects.

An index scan reads millions of names, nearly all in one of two shapes: the default format with
its offset (``cam-2026-02-09T14-30-00+09.00.jpg``) or a camera's compact local time
(``IMG_20240115_120000.jpg``). Both are read here as ``(UTC seconds, offset seconds)`` with the
same answers as :func:`pylapse.naming.parse_name` (the property tests compare them):

* :func:`default_utc`: the 25 characters before the extension are matched in place (the prefix is
  never scanned) and each part (day, clock, offset) is looked up in a cache of values already seen;
  a collection has a few thousand distinct days, one or two offsets and at most 86,400 clocks.
* :func:`local_utc`: a name without an offset is local time in the collection's zone; the zone's
  offset is looked up once per day and reused for every frame of a day without a DST change.
  Days with a change (and any doubt) return ``None`` and the caller takes the datetime path,
  which applies :func:`pylapse.timeutil.localize`'s rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta, tzinfo

__all__ = ["civil_days", "default_utc", "local_utc"]

_FAST_LEN = 25
_FAST = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d-\d\d-\d\d)([+-]\d\d\.\d\d)")
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_CACHE_LIMIT = 200_000  # junk names cannot grow the caches without bound

_DAYS: dict[str, int | None] = {}  # "2026-02-09" -> seconds from the epoch to that midnight
_CLOCKS: dict[str, int | None] = {}  # "14-30-00" -> seconds into the day
_OFFSETS: dict[str, int | None] = {}  # "+09.00" -> offset seconds
_DAY_OFFSETS: dict[Hashable, tuple[int, int] | None] = {}  # (zone, y, m, d) -> (midnight, offset)


def civil_days(year: int, month: int, day: int) -> int | None:
    """Days from 1970-01-01 to a proleptic Gregorian date, or ``None`` if there is no such day.

    Integer-only (H. Hinnant's days-from-civil algorithm), years 1-9999 like ``datetime``.
    """
    if not 1 <= month <= 12 or day < 1 or not 1 <= year <= 9999:
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if day > (29 if month == 2 and leap else _MONTH_DAYS[month]):
        return None
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _day_seconds(text: str) -> int | None:
    days = civil_days(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    return None if days is None else days * 86400


def _clock_seconds(text: str) -> int | None:
    hour, minute, second = int(text[0:2]), int(text[3:5]), int(text[6:8])
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour * 3600 + minute * 60 + second


def _offset_seconds(text: str) -> int | None:
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        return None
    seconds = hours * 3600 + minutes * 60
    return -seconds if text[0] == "-" else seconds


def _fill(cache: dict, key: Hashable, compute: Callable[[], object]) -> object:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    value = cache[key] = compute()
    return value


def default_utc(name: str) -> tuple[int, int] | None:
    """``(utc, offset)`` of a default-format name, or ``None`` for any other name."""
    dot = name.rfind(".")
    start = dot - _FAST_LEN
    if start < 0 or (start > 0 and "0" <= name[start - 1] <= "9"):
        return None
    match = _FAST.fullmatch(name, start, dot)
    if match is None:
        return None
    date, clock, offset = match.groups()
    try:
        day = _DAYS[date]
    except KeyError:
        day = _fill(_DAYS, date, lambda: _day_seconds(date))
    try:
        sec = _CLOCKS[clock]
    except KeyError:
        sec = _fill(_CLOCKS, clock, lambda: _clock_seconds(clock))
    try:
        off = _OFFSETS[offset]
    except KeyError:
        off = _fill(_OFFSETS, offset, lambda: _offset_seconds(offset))
    if day is None or sec is None or off is None:
        return None
    return day + sec - off, off


def _steady_offset(zone: tzinfo, year: int, month: int, day: int) -> tuple[int, int] | None:
    """(midnight in epoch seconds, offset) when ``zone`` keeps one offset all day, else None."""
    days = civil_days(year, month, day)
    if days is None:
        return None
    midnight = datetime(year, month, day)  # noqa: DTZ001 - a wall clock, read in ``zone``
    offsets = {zone.utcoffset(midnight + timedelta(hours=h)) for h in (0, 6, 12, 18, 24)}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    if offset is None:
        return None
    return days * 86400, int(offset.total_seconds())


def local_utc(match: re.Match[str], zone: tzinfo) -> tuple[float, int] | None:
    """``(utc, offset)`` for a built-in-pattern match without offset or AM/PM, else ``None``.

    ``None`` also means "not sure" (a day with a DST change, an invalid date): the caller then
    takes the datetime path, which gives the definitive answer.
    """
    year, month, day, hour, minute, second, fraction, millis, ampm, offset = match.group(
        "year", "month", "day", "hour", "minute", "second", "fraction", "millis", "ampm", "offset"
    )
    if ampm or offset:
        return None
    key = (zone, year, month, day)
    try:
        steady = _DAY_OFFSETS[key]
    except KeyError:
        steady = _fill(
            _DAY_OFFSETS, key, lambda: _steady_offset(zone, int(year), int(month), int(day))
        )
    if steady is None:
        return None
    h, m, s = int(hour), int(minute), int(second)
    if h > 23 or m > 59 or s > 59:
        return None
    midnight, off = steady
    whole = midnight + h * 3600 + m * 60 + s - off
    digits = fraction or millis
    if not digits:
        return float(whole), off
    micro = int(digits[:6].ljust(6, "0"))
    return (whole * 1_000_000 + micro) / 1_000_000, off  # rounds as datetime.timestamp() does
