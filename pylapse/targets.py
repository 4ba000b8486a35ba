"""Target instants: cron rules compiled to wall-clock seconds of a day, and date ranges.

Cron fields use APScheduler's syntax and defaults (fields finer than the finest one given default
to their minimum, coarser ones to ``*``), parsed by APScheduler's own field classes so a rule
means here what it means to the capture scheduler. Matching a rule against a day costs a few
field checks; expanding a day is one addition per target unless the day has a UTC-offset change.

Targets on DST days are every instant whose wall clock matches: the skipped hour of a 23-hour day
has none, the repeated hour of a 25-hour day has both occurrences (``both_folds=True``, used by
cron selections) or only the first (``both_folds=False``, used by day slices).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from pylapse import timeutil

__all__ = [
    "CRON_FIELDS",
    "MAX_TARGETS",
    "CronRule",
    "DaySpan",
    "SelectionError",
    "clock_seconds",
    "cron_targets",
    "day_targets",
    "local_days",
    "resolve_range",
]

CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
_DAY_FIELDS = ("year", "month", "day", "week", "day_of_week")
_ACCEPTED = {
    "year": "a year such as 2026 or '2025-2026'",
    "month": "1-12 or jan-dec, e.g. '3-10'",
    "day": "1-31, 'last', '1st mon', e.g. '1,15'",
    "week": "an ISO week 1-53",
    "day_of_week": "0-6 or mon-sun (0 = Monday), e.g. 'mon-fri'",
    "hour": "0-23, e.g. '6-20' or '*/2'",
    "minute": "0-59, e.g. '*/15'",
    "second": "0-59, e.g. '*/10'",
}


MAX_TARGETS = 15_000_000  # ~4.5 years at one target every 10 s


class SelectionError(ValueError):
    """A selection request that cannot be answered; the message names the field and the fix."""


# --- cron rules ------------------------------------------------------------------------------


class CronRule:
    """One set of cron fields, compiled to a day test and the sorted seconds of a day it hits."""

    def __init__(self, fields: Mapping[str, int | str | None]) -> None:
        from apscheduler.triggers.cron import CronTrigger  # imported here: keeps import cheap

        given = {k: v for k, v in fields.items() if v is not None and v != ""}
        unknown = sorted(set(given) - set(CRON_FIELDS))
        if unknown:
            raise SelectionError(
                f"unknown cron field {unknown[0]!r}; accepted: {', '.join(CRON_FIELDS)}"
            )
        if not given:
            raise SelectionError("a cron rule needs at least one of " + ", ".join(CRON_FIELDS))
        for name, value in given.items():  # one field at a time, so the error can name it
            try:
                CronTrigger(**{name: value}, timezone=UTC)
            except (ValueError, TypeError) as exc:
                raise SelectionError(
                    f"{name}: {value!r} is not a valid cron expression ({exc}); "
                    f"accepted: {_ACCEPTED[name]}"
                ) from None
        trigger = CronTrigger(**given, timezone=UTC)
        self.fields = {k: str(v) for k, v in given.items()}
        by_name = {f.name: f for f in trigger.fields}
        self._day_fields = [by_name[n] for n in _DAY_FIELDS if not _is_star(by_name[n])]
        hours = _values(by_name["hour"], 24)
        minutes = _values(by_name["minute"], 60)
        seconds = _values(by_name["second"], 60)
        self.seconds: list[int] = [
            h * 3600 + m * 60 + s for h in hours for m in minutes for s in seconds
        ]

    def matches_day(self, day: date) -> bool:
        if not self._day_fields:
            return True
        probe = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return all(f.get_next_value(probe) == f.get_value(probe) for f in self._day_fields)

    def __repr__(self) -> str:
        return f"CronRule({self.fields!r})"


def _is_star(field: Any) -> bool:
    return all(type(e).__name__ == "AllExpression" and e.step is None for e in field.expressions)


def _values(field: Any, count: int) -> list[int]:
    """The values 0..count-1 an hour/minute/second field accepts."""
    out = []
    for v in range(count):
        probe = datetime(
            2000,
            1,
            1,
            v if field.name == "hour" else 0,
            v if field.name == "minute" else 0,
            v if field.name == "second" else 0,
            tzinfo=UTC,
        )
        if field.get_next_value(probe) == v:
            out.append(v)
    return out


# --- ranges and targets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaySpan:
    """A half-open range of UTC seconds ``[start, stop)``; ``None`` is unbounded."""

    start: float | None
    stop: float | None


def local_days(tz: tzinfo, first: float, last: float) -> Iterator[date]:
    """Dates in ``tz`` from the one holding instant ``first`` to the one holding ``last``."""
    day = datetime.fromtimestamp(first, tz).date()
    end = datetime.fromtimestamp(last, tz).date()
    while day <= end:
        yield day
        day += timedelta(days=1)


def _instant(value: date | datetime, tz: tzinfo, *, end: bool) -> float:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else timeutil.localize(value, tz)
        ts = aware.timestamp()
        return math.nextafter(ts, math.inf) if end else ts  # an inclusive datetime end
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value  # a date end includes its whole day
        return timeutil.localize(datetime.combine(day, time()), tz).timestamp()
    raise SelectionError(f"expected a date or datetime, got {value!r}")


def resolve_range(
    date_from: date | datetime | str | None, date_to: date | datetime | str | None, tz: tzinfo
) -> DaySpan:
    """The inclusive ``date_from``..``date_to`` as a half-open span of UTC seconds."""
    start = _instant(_parse_when(date_from, "date_from"), tz, end=False) if date_from else None
    stop = _instant(_parse_when(date_to, "date_to"), tz, end=True) if date_to else None
    if start is not None and stop is not None and stop <= start:
        raise SelectionError(f"date_to ({date_to}) is before date_from ({date_from})")
    return DaySpan(start, stop)


def _parse_when(value: date | datetime | str | None, name: str) -> date | datetime:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
    except ValueError:
        raise SelectionError(
            f"{name}: {value!r} is not a date (accepted: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]"
            "[+HH:MM])"
        ) from None


def day_targets(day: date, seconds: Sequence[int], tz: tzinfo, *, both_folds: bool) -> list[float]:
    """UTC instants of the wall-clock ``seconds`` of ``day`` in ``tz``, sorted.

    Ordinary days are one addition per target. A day with a UTC-offset change is resolved per
    target through the zone database: a wall time that does not exist is dropped, a repeated one
    gives both instants (``both_folds``) or only the first.
    """
    midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - wall clock, made aware below
    wall0 = midnight.replace(tzinfo=UTC).timestamp()
    first = timeutil.localize(midnight, tz)
    nxt = timeutil.localize(midnight + timedelta(days=1), tz)
    off0 = first.utcoffset()
    off1 = datetime.fromtimestamp(nxt.timestamp() - 1, tz).utcoffset()
    if off0 == off1 and nxt.timestamp() - first.timestamp() == 86400:
        base = wall0 - off0.total_seconds()  # type: ignore[union-attr]
        return list(map(base.__add__, seconds))  # C-speed: a year of 10 s targets in ~0.1 s
    out: set[float] = set()
    for s in seconds:
        h, rest = divmod(s, 3600)
        m, sec = divmod(rest, 60)
        for fold in (0, 1) if both_folds else (0,):
            wall = datetime(day.year, day.month, day.day, h, m, sec, fold=fold, tzinfo=tz)
            u = wall.timestamp()
            back = datetime.fromtimestamp(u, tz)
            if (back.hour, back.minute, back.second, back.date()) == (h, m, sec, day):
                out.add(u)
    return sorted(out)


def cron_targets(rules: Sequence[CronRule], tz: tzinfo, first: float, last: float) -> list[float]:
    """Sorted, distinct target instants of ``rules`` with ``first <= t <= last``.

    Refuses (before allocating) more than :data:`MAX_TARGETS`: "every second for ten years" is a
    typo, not a timelapse, and would take gigabytes.
    """
    days = (last - first) / 86400 + 2
    estimate = days * max(len(r.seconds) for r in rules)
    if estimate > MAX_TARGETS:
        raise SelectionError(
            f"about {estimate:,.0f} targets ({days:,.0f} days x up to "
            f"{max(len(r.seconds) for r in rules):,} a day) is more than {MAX_TARGETS:,}; "
            "narrow the date range or use a coarser rule"
        )
    targets: list[float] = []
    for day in local_days(tz, first, last):
        todays = [r.seconds for r in rules if r.matches_day(day)]
        if not todays:
            continue
        seconds = todays[0] if len(todays) == 1 else sorted(set().union(*todays))
        targets.extend(day_targets(day, seconds, tz, both_folds=True))
    lo = bisect_left(targets, first)
    hi = bisect_right(targets, last)
    return targets[lo:hi] if lo or hi < len(targets) else targets


def clock_seconds(times: time | str | Iterable[time | str]) -> list[int]:
    """Sorted distinct seconds of the day of clock times given as ``time`` or ``"HH:MM[:SS]"``."""
    values = [times] if isinstance(times, time | str) else list(times)
    out = set()
    for value in values:
        if isinstance(value, str):
            try:
                value = time.fromisoformat(value.strip())
            except ValueError:
                raise SelectionError(
                    f"times: {value!r} is not a clock time (accepted: HH:MM or HH:MM:SS)"
                ) from None
        if not isinstance(value, time):
            raise SelectionError(f"times: {value!r} is not a clock time (accepted: HH:MM)")
        out.add(value.hour * 3600 + value.minute * 60 + value.second)
    if not out:
        raise SelectionError("times: give at least one clock time, e.g. '12:00'")
    return sorted(out)
