"""Target instants: cron rules compiled to wall-clock seconds of a day, and date ranges.

Cron fields use APScheduler's syntax and defaults (fields finer than the finest one given default
to their minimum, coarser ones to ``*``), parsed by APScheduler's own field classes so a rule
means here what it means to the capture scheduler. Matching a rule against a day costs a few
field checks; expanding an ordinary day is one C-level addition per target (into an
``array("d")``), and a day with a UTC-offset change finds the change instant with a few hundred
zone lookups and cuts its seconds by bisection, not one lookup per target.

Targets on DST days are every instant whose wall clock matches: the skipped hour of a 23-hour day
has none, the repeated hour of a 25-hour day has both occurrences (``both_folds=True``) or only the
first (``both_folds=False``, used by day slices). Cron selections target what the capture
scheduler (:mod:`pylapse.capture.triggers`) fires for the same fields, so a selection takes what
capture took, or counts a gap: the repeated hour has both copies (capture fires both for a
rule whose hour or minute is a wildcard, ``*/10``; a fixed time only the first, so its second
copy is a gap); a fixed time inside a skipped hour is targeted at its shifted instant
(02:30 -> 03:30) as capture fires it, and the rule's slots after it up to that wall time not
at all.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from operator import sub
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
    "target_grid",
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
        # as capture's WallClockCron: such a rule fires in both copies of a repeated hour
        self.wildcard = any(str(by_name[n]).startswith("*") for n in ("hour", "minute"))
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
    try:
        if isinstance(value, datetime):
            aware = value if value.tzinfo else timeutil.localize(value, tz)
            ts = aware.timestamp()
            return math.nextafter(ts, math.inf) if end else ts  # an inclusive datetime end
        if isinstance(value, date):
            day = value + timedelta(days=1) if end else value  # a date end includes its day
            return timeutil.localize(datetime.combine(day, time()), tz).timestamp()
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 as an end
        raise SelectionError(
            f"{value.isoformat()} is too close to the first or last day a calendar date can "
            "have (years 1-9999); leave it out to select from the first or last frame"
        ) from None
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


def _regular_base(day: date, tz: tzinfo) -> float | None:
    """UTC seconds at ``day``'s wall-clock midnight when the whole day has one UTC offset (and so
    86400 seconds); ``None`` for a day with an offset change, which needs per-target lookups."""
    midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - wall clock, made aware below
    first = timeutil.localize(midnight, tz)
    stop = timeutil.localize(midnight + timedelta(days=1), tz).timestamp()
    off0 = first.utcoffset()
    off1 = datetime.fromtimestamp(stop - 1, tz).utcoffset()  # in force at the day's last second
    if off0 is None or off0 != off1 or stop - first.timestamp() != 86400:
        return None
    wall0 = (day.toordinal() - _EPOCH_ORDINAL) * 86400  # integer arithmetic: exact
    return float(wall0 - int(off0.total_seconds())) if off0.microseconds == 0 else None


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_targets(day: date, seconds: Sequence[int], tz: tzinfo, *, both_folds: bool) -> list[float]:
    """UTC instants of the wall-clock ``seconds`` of ``day`` in ``tz``, sorted.

    Ordinary days are one addition per target. A day with a UTC-offset change is resolved per
    target through the zone database: a wall time that does not exist is dropped, a repeated one
    gives both instants (``both_folds``) or only the first.
    """
    base = _regular_base(day, tz)
    if base is not None:
        return list(map(base.__add__, seconds))  # C-speed: a year of 10 s targets in ~0.1 s
    return _changing_day_targets(day, seconds, tz, both_folds=both_folds)


#: Sampling step (s) when looking for a day's UTC-offset change; offsets span at most +-14 h.
_PROBE = 900
_REACH = 14 * 3600


def _changing_day_targets(
    day: date, seconds: Sequence[float], tz: tzinfo, *, both_folds: bool, shift: bool = False
) -> list[float]:
    """Targets of a day with a UTC-offset change: the wall clock reads ``second`` at
    ``midnight + second - A`` before the change instant and ``... - B`` from it on (``A``/``B``
    the offsets either side), so a skipped hour has no target and a repeated one two. About 200
    zone lookups find the change; seconds are then cut by bisection, not looked up one by one.
    A day with more than one change (none known in practice) is resolved per target."""
    wall0 = (day.toordinal() - _EPOCH_ORDINAL) * 86400
    lo, hi = wall0 - _REACH, wall0 + 86400 + _REACH  # every instant whose local date is ``day``

    def offset(u: int) -> int:
        off = datetime.fromtimestamp(u, tz).utcoffset()
        return -(2**40) if off is None or off.microseconds else int(off.total_seconds())

    probes = range(lo, hi + _PROBE, _PROBE)
    offsets = [offset(u) for u in probes]
    changes = [i for i in range(1, len(offsets)) if offsets[i] != offsets[i - 1]]
    if len(changes) != 1 or -(2**40) in offsets:
        return _per_target_day_targets(day, seconds, tz, both_folds=both_folds, shift=shift)
    i = changes[0]
    a, b = offsets[i - 1], offsets[i]
    left, right = probes[i - 1], probes[i]  # offset(left) == a, offset(right) == b
    while right - left > 1:  # transitions fall on whole seconds
        mid = (left + right) // 2
        if offset(mid) == a:
            left = mid
        else:
            right = mid
    change = right  # the first instant with offset b
    first_a = bisect_left(seconds, change - wall0 + a)  # seconds before it: offset a
    first_b = bisect_left(seconds, change - wall0 + b)  # seconds from it on: offset b
    if not both_folds:
        first_b = max(first_b, first_a)  # a repeated wall time counts once, the first time
    out = list(map(float(wall0 - a).__add__, seconds[:first_a]))
    if shift and first_a < first_b and b > a:
        # capture fires the first skipped slot at its shifted instant, then goes on from the
        # wall time it reached: the slots up to it are passed over
        skipped = seconds[first_a]
        out.append(float(wall0 - a) + skipped)
        first_b = bisect_right(seconds, skipped + (b - a), first_b)
    out += map(float(wall0 - b).__add__, seconds[first_b:])
    return out


def _per_target_day_targets(
    day: date, seconds: Sequence[float], tz: tzinfo, *, both_folds: bool, shift: bool = False
) -> list[float]:
    """The reference: each wall time of ``day`` through the zone database, both folds (and, with
    ``shift``, a skipped slot at its shifted instant when no earlier target reached past it)."""
    out: set[float] = set()
    reached = -math.inf  # the wall time (s of the day) a shifted slot moved the clock to
    for s in seconds:
        if s <= reached:
            continue
        h, rest = divmod(int(s), 3600)
        m, sec = divmod(rest, 60)
        for fold in (0, 1) if both_folds else (0,):
            wall = datetime(day.year, day.month, day.day, h, m, sec, fold=fold, tzinfo=tz)
            u = wall.timestamp()
            back = datetime.fromtimestamp(u, tz)
            if (back.hour, back.minute, back.second, back.date()) == (h, m, sec, day):
                out.add(u)
            elif shift and fold == 0 and back.date() == day:
                out.add(u)
                reached = back.hour * 3600 + back.minute * 60 + back.second
    return sorted(out)


def cron_targets(rules: Sequence[CronRule], tz: tzinfo, first: float, last: float) -> array[float]:
    """Sorted, distinct target instants of ``rules`` with ``first <= t <= last``, as an
    ``array("d")`` (8 bytes a target, no float objects kept)."""
    return target_grid(rules, tz, first, last)[0]


def target_grid(
    rules: Sequence[CronRule], tz: tzinfo, first: float, last: float
) -> tuple[array[float], float]:
    """:func:`cron_targets` and a lower bound of the distance between consecutive targets (the
    matcher's fast path needs it and would otherwise measure it again).

    Refuses (before allocating) more than :data:`MAX_TARGETS`: "every second for ten years" is a
    typo, not a timelapse, and would take gigabytes. An ordinary day costs one C-level addition
    per target; only days with a UTC-offset change look up the zone per target.
    """
    days = (last - first) / 86400 + 2
    estimate = days * max(len(r.seconds) for r in rules)
    if estimate > MAX_TARGETS:
        raise SelectionError(
            f"about {estimate:,.0f} targets ({days:,.0f} days x up to "
            f"{max(len(r.seconds) for r in rules):,} a day) is more than {MAX_TARGETS:,}; "
            "narrow the date range or use a coarser rule"
        )
    targets = array("d")
    put = targets.fromlist
    spacing = math.inf
    previous = -math.inf  # the last target so far
    # The seconds of a day depend only on which rules match it: merge each combination once
    # (a union of two every-10-s rules would otherwise sort 17,280 seconds per day), as floats
    # (float + float is the fast addition) with its smallest spacing.
    grids: dict[tuple[int, ...], tuple[list[float], float]] = {}
    for day in local_days(tz, first, last):
        key = tuple(i for i, r in enumerate(rules) if r.matches_day(day))
        if not key:
            continue
        grid = grids.get(key)
        if grid is None:
            union = [float(x) for x in sorted(set().union(*(rules[i].seconds for i in key)))]
            grid = grids[key] = (union, _min_step(union))
        base = _regular_base(day, tz)
        if base is not None:
            todays = list(map(base.__add__, grid[0]))
            spacing = min(spacing, grid[1], todays[0] - previous)
        else:
            todays = _capture_day_targets(day, [rules[i] for i in key], tz)
            if not todays:
                continue
            spacing = min(spacing, _min_step(todays), todays[0] - previous)
        put(todays)
        previous = todays[-1]
    lo = bisect_left(targets, first)
    hi = bisect_right(targets, last)
    return (targets[lo:hi] if lo or hi < len(targets) else targets), spacing


def _capture_day_targets(day: date, rules: Sequence[CronRule], tz: tzinfo) -> list[float]:
    """A day with an offset change: each rule's targets as capture fires them (see the module
    docstring), merged."""
    if len(rules) == 1:
        rule = rules[0]
        # A wildcard rule: every matching wall time (capture's shifted first skipped slot lands
        # on one of its own slots when the gap is a whole number of its steps, as for an hour's
        # gap and */10). Both copies of a repeated wall time for every rule: capture fires a
        # fixed time once, so its second copy counts as a gap rather than vanishing.
        return _changing_day_targets(
            day, [float(x) for x in rule.seconds], tz, both_folds=True, shift=not rule.wildcard
        )
    merged: set[float] = set()
    for rule in rules:
        merged.update(_capture_day_targets(day, [rule], tz))
    return sorted(merged)


def _min_step(values: Sequence[float]) -> float:
    """The smallest difference between neighbours of sorted ``values`` (inf for fewer than 2)."""
    return min(map(sub, values[1:], values[:-1]), default=math.inf)


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
