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
* :func:`default_batch`: a whole folder's default-format names at once, with C-level passes
  (``str.translate``, ``map`` over ``itemgetter`` slices, sets) instead of one Python call per
  name: what lets a cold scan keep up with the directory listing. Same answers as
  :func:`default_utc` for the names it accepts; the rest go back to the caller.

Every time :func:`default_utc` and :func:`default_batch` return carries a real UTC offset written
in the name (:func:`real_offset`): for the index, both its instant and its offset come from the
name (``pylapse.naming.NameKind.OFFSET``). Names whose digits after the clock are a counter, or
``-00.00`` (UTC, local offset unknown), are left to :mod:`pylapse.naming`'s general rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta, tzinfo
from functools import partial
from itertools import compress
from operator import itemgetter
from typing import NamedTuple, TypeVar, cast

__all__ = [
    "DayBatch",
    "civil_days",
    "default_batch",
    "default_utc",
    "is_utc_mark",
    "local_utc",
    "real_offset",
]

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


def real_offset(text: str) -> int | None:
    """Seconds east of UTC of an offset written ``±HH``, ``±HHMM`` or ``±HH[.:]MM[[.:]SS]``,
    when it is a real one; ``None`` for digits that only look like an offset (a counter).

    Real: -12:00 to +14:00, a multiple of 15 minutes, and a negative offset of at least one hour
    (no zone has ever been 15, 30 or 45 minutes west of UTC, while burst counters such as
    ``-0001``..``-0045`` are common). ``-00:00`` is not an offset either: it marks a UTC time
    whose local offset is unknown (RFC 3339, see :func:`is_utc_mark`). One exception: an offset
    written with separated seconds (``-00.44.30``), which only :func:`pylapse.timeutil.offset_text`
    writes, for a zone's local mean time before 1972; no counter looks like that.
    """
    sign, digits = text[:1], text[1:].replace(".", "").replace(":", "")
    if sign not in ("+", "-") or len(digits) not in (2, 4, 6) or not digits.isascii():
        return None
    if not digits.isdigit():
        return None
    hours, minutes, secs = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if minutes > 59 or secs > 59:
        return None
    seconds = hours * 3600 + minutes * 60 + secs
    if secs or minutes % 15:  # only pyLapse's own "±HH.MM.SS" for local mean time
        historical = len(text) == 9 and text[3] == text[6] and text[3] in ".:"
        if not historical or secs == 0 or seconds > 43200:
            return None
    elif sign == "-" and seconds < 3600:
        return None
    if sign == "-":
        return -seconds if seconds <= 43200 else None
    return seconds if seconds <= 50400 else None


def is_utc_mark(text: str) -> bool:
    """``-00:00`` (any way of writing it): the time is UTC, the local offset unknown (RFC 3339).

    Not ``Z``, which ISO 8601 makes the same as ``+00:00``, a real offset.
    """
    digits = text[1:].replace(".", "").replace(":", "")
    return text[:1] == "-" and len(digits) in (2, 4, 6) and digits.strip("0") == ""


def _offset_seconds(text: str) -> int | None:
    # The default format's "+09.00"; anything not a real offset leaves the fast path, so the
    # general rules decide (a counter is a wall clock, "-00.00" a UTC time).
    return real_offset(text)


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def _fill(cache: dict[_K, _V], key: _K, compute: Callable[[], _V]) -> _V:
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


class DayBatch(NamedTuple):
    """Default-format names of one shape sharing one date and one offset, in the caller's order.

    One shape: the names differ only in ASCII digits (see :func:`default_batch`).

    A name's UTC seconds are ``day * 86400 + seconds[i] - offset``; its wall-clock day (the
    ``day_counts`` key) is ``day``.
    """

    day: int  # days from 1970-01-01 of the names' date
    offset: int  # seconds east of UTC
    names: list[str]
    seconds: list[int]  # seconds into the day of each name's clock


# Every ASCII digit becomes "0": names of one shape differ only in their digits.
_TO_SHAPE = bytes.maketrans(b"123456789", b"000000000")
_BLOCKS = ("0000-00-00T00-00-00+00.00", "0000-00-00T00-00-00-00.00")


def _block_start(shape: str) -> int | None:
    """Where the 25-character time block starts in names of ``shape``, if they are default."""
    dot = shape.rfind(".")
    start = dot - _FAST_LEN
    if start < 0 or (start > 0 and shape[start - 1] == "0") or shape[start:dot] not in _BLOCKS:
        return None
    return start


def _lookup(
    cache: dict[str, int | None], keys: list[str], compute: Callable[[str], int | None]
) -> list[int | None]:
    """``cache[k]`` for each key (``None`` for an invalid one), filling the cache per new key."""
    values = list(map(cache.get, keys))
    if None in values:  # new keys (or invalid ones, cached as None)
        for key in set(keys).difference(cache):
            _fill(cache, key, partial(compute, key))
        values = list(map(cache.get, keys))
        if None in values:  # invalid keys, or keys evicted by a cache clear just above
            values = [compute(k) if v is None else v for k, v in zip(keys, values, strict=True)]
    return values


def default_batch(names: Sequence[str]) -> tuple[list[DayBatch], list[str]]:
    """Read many default-format names at once: ``(batches, rest)``.

    Every name of a batch has exactly the time :func:`default_utc` gives it; ``rest`` holds the
    names this did not read (other formats, invalid dates, non-ASCII digits) for the
    per-name path. Names are grouped by shape (digits blanked), so the time block sits at one
    position per group and is cut out of every name by C-level slicing.
    """
    if not names:
        return [], []
    # One translate over all names joined ("/" is in no file name) instead of one per name.
    raw = "/".join(names).encode("utf-8", "surrogateescape")
    blanked = raw.translate(_TO_SHAPE)
    width = len(names[0])
    if raw.isascii() and blanked + b"/" == blanked[: width + 1] * len(names):
        # The usual folder: one shape, every name `width` bytes, so one column of the joined
        # bytes is one character position in every name.
        shape = blanked[:width].decode("ascii")
        start = _block_start(shape)
        if start is None:
            return [], list(names)
        stride, fixed = width + 1, (0, 1, 2, 3, 5, 6, 8, 9, 20, 21, 23, 24)  # date, offset
        columns = (raw[start + i :: stride] for i in fixed)
        if all(col.count(col[0]) == len(col) for col in columns):
            first = names[0]
            parts = {(first[start : start + 10], first[start + 19 : start + 25]): list(names)}
        else:
            parts = _parts(names, start)
        return _read_parts(parts, start)
    shapes = blanked.decode("utf-8", "surrogateescape").split("/")
    batches: list[DayBatch] = []
    rest: list[str] = []
    for shape in dict.fromkeys(shapes):
        group = list(compress(names, map(shape.__eq__, shapes)))
        start = _block_start(shape)
        if start is None:
            rest.extend(group)
            continue
        more, left = _read_parts(_parts(group, start), start)
        batches.extend(more)
        rest.extend(left)
    return batches, rest


def _parts(group: Sequence[str], start: int) -> dict[tuple[str, str], list[str]]:
    """Names of one shape by (date, offset) text."""
    dates = list(map(itemgetter(slice(start, start + 10)), group))
    offsets = list(map(itemgetter(slice(start + 19, start + 25)), group))
    if dates.count(dates[0]) == len(dates) and offsets.count(offsets[0]) == len(offsets):
        return {(dates[0], offsets[0]): list(group)}
    parts: dict[tuple[str, str], list[str]] = {}
    for name, date, offset in zip(group, dates, offsets, strict=True):
        parts.setdefault((date, offset), []).append(name)
    return parts


def _read_parts(
    parts: dict[tuple[str, str], list[str]], start: int
) -> tuple[list[DayBatch], list[str]]:
    batches: list[DayBatch] = []
    rest: list[str] = []
    for (date, offset_text), members in parts.items():
        day = _lookup(_DAYS, [date], _day_seconds)[0]
        offset = _lookup(_OFFSETS, [offset_text], _offset_seconds)[0]
        if day is None or offset is None:
            rest.extend(members)
            continue
        clocks = list(map(itemgetter(slice(start + 11, start + 19)), members))
        seconds = _lookup(_CLOCKS, clocks, _clock_seconds)
        if None in seconds:
            rest.extend(compress(members, [s is None for s in seconds]))
            keep = [s is not None for s in seconds]
            members, seconds = list(compress(members, keep)), list(compress(seconds, keep))
        if members:
            clock = cast(list[int], seconds)  # the Nones were taken out just above
            batches.append(DayBatch(day // 86400, offset, members, clock))
    return batches, rest


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
    takes the datetime path, which gives the definitive answer. Digits after the seconds that
    are not a real offset (a counter, see :func:`real_offset`) do not stop the fast path.
    """
    year, month, day, hour, minute, second, fraction, millis, ampm, offset = match.group(
        "year", "month", "day", "hour", "minute", "second", "fraction", "millis", "ampm", "offset"
    )
    if ampm or (
        offset and (offset == "Z" or is_utc_mark(offset) or real_offset(offset) is not None)
    ):
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
    h, m, s = int(hour), int(minute), int(second) if second else 0  # 0.2's names lack seconds
    if h > 23 or m > 59 or s > 59:
        return None
    midnight, off = steady
    whole = midnight + h * 3600 + m * 60 + s - off
    digits = fraction or millis
    if not digits:
        return float(whole), off
    micro = int(digits[:6].ljust(6, "0"))
    return (whole * 1_000_000 + micro) / 1_000_000, off  # rounds as datetime.timestamp() does
