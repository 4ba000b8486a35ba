"""When schedules fire: APScheduler triggers evaluated on the camera's own wall clock.

Cron fields mean wall-clock times in the camera's zone ("07:00" is 07:00 in Tokyo, and 07:00 in
Berlin in winter and in summer). APScheduler 3.x's own ``CronTrigger`` gets the DST nights wrong
with ``zoneinfo`` zones: it returns wall times that do not exist (02:30 on the spring-forward
night) and, on the fall-back night, repeats or even goes back in time (``*/30`` yields 01:30 EDT
after 01:00 EST). :class:`WallClockCron` avoids that by doing the field arithmetic on a DST-free
clock and mapping each result onto the zone with :func:`pylapse.timeutil.localize`'s rule:

* a wall time skipped by spring-forward fires at the shifted instant (02:30 -> 03:30 CEST), once;
* on the fall-back night, as classic (Vixie) cron does: a schedule whose ``minute`` or ``hour``
  is a wildcard (``*``, ``*/10``; an unset hour above a set minute is one) fires through both
  occurrences of the repeated hour, since it means "every so often" and a camera must not go
  blind for an hour; a schedule at fixed times (``hour=2, minute=30``) fires once, at the first
  occurrence (summer time);
* fire times are always strictly increasing.

Every search is bounded: a cron that can never fire (31 February) or not for centuries (a year
field far ahead) reports "no fire time" after looking :data:`HORIZON_YEARS` ahead, instead of
walking APScheduler's calendar to the year 9999 (0.1 s per call, paid by every page that shows
the schedule).

Interval schedules are real elapsed time (APScheduler's ``IntervalTrigger`` works on timestamps)
anchored at ``start_date``.

A schedule with a ``sun_window`` ("day", "night", "civil_dawn-30m..civil_dusk+30m") fires only
inside that window of each day (:class:`SunWindowTrigger`, windows from
:mod:`pylapse.selection.sun`): its own trigger's fire times outside a window are skipped, the next
one being the first at or after the next window's start. Under the midnight sun a day window is
the whole day and a night window none (and the other way round in the polar night).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import islice
from typing import TYPE_CHECKING

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from pylapse import timeutil
from pylapse.selection.sun import parse_window, window_spans

if TYPE_CHECKING:
    from pylapse.config.cameras import Schedule

__all__ = [
    "HORIZON_YEARS",
    "INTERVAL_ANCHOR",
    "SunWindowTrigger",
    "WallClockCron",
    "build_trigger",
    "fire_times",
    "next_fire_times",
]

INTERVAL_ANCHOR = datetime(2000, 1, 1)  # noqa: DTZ001 - a wall clock, localized per camera
_TICK = timedelta(microseconds=1)
_MAX_STEPS = 100_000  # bound on skipping repeated-hour slots (3600 for a per-second cron)
# The Gregorian calendar (leap days, weekdays, ISO weeks) repeats every 400 years, so a cron
# without a year field that finds no slot within that long never fires at all.
HORIZON_YEARS = 400


class WallClockCron(BaseTrigger):  # type: ignore[misc]  # apscheduler 3 is untyped (Any)
    """Cron fields on the wall clock of ``tz`` (see the module docstring for DST nights)."""

    def __init__(self, fields: dict[str, int | str], tz: tzinfo) -> None:
        self.tz = tz
        self.fields = dict(fields)
        # UTC has no DST, so this is pure calendar arithmetic on naive wall-clock values.
        self._cron = CronTrigger(**fields, timezone=UTC)
        self._bounded: dict[int, CronTrigger] = {}  # the same fields, ending at a horizon year
        # Vixie cron's MIN_STAR / HR_STAR: such a job runs in both copies of a repeated hour.
        self.wildcard = any(
            f.name in ("hour", "minute") and str(f).startswith("*") for f in self._cron.fields
        )

    def __repr__(self) -> str:
        return f"<WallClockCron {self.fields} in {self.tz}>"

    def _within_horizon(self, wall: datetime) -> CronTrigger:
        """The cron fields ending :data:`HORIZON_YEARS` (or a little more) after ``wall``:
        APScheduler stops its calendar walk at a trigger's ``end_date``."""
        year = min(wall.year + HORIZON_YEARS + 1, 9999)
        bounded = self._bounded.get(year)
        if bounded is None:
            end = datetime(year, 1, 1, tzinfo=UTC)
            bounded = self._bounded[year] = CronTrigger(**self.fields, timezone=UTC, end_date=end)
        return bounded

    def _next_wall(self, wall: datetime) -> datetime | None:
        """The first cron slot at or after the wall clock ``wall`` (tagged UTC), if any within
        the horizon."""
        nxt: datetime | None = self._within_horizon(wall).get_next_fire_time(None, wall)
        return nxt

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz).replace(tzinfo=UTC, fold=0)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # APScheduler's contract: the first fire time after previous_fire_time (if given),
        # else the first at or after now.
        # In UTC: adding to (or comparing) datetimes of one zone drops ``fold``, which would put
        # a slot of the repeated hour's second copy back into its first.
        now = now.astimezone(UTC)
        start = now if previous_fire_time is None else min(now, _after(previous_fire_time))
        found = self._next_after(start)
        if self.wildcard:
            again = self._next_in_repeat(start)
            if again is not None and (found is None or again.timestamp() < found.timestamp()):
                return again
        return found

    def _next_after(self, start: datetime) -> datetime | None:
        """The first slot at or after the instant ``start``, walking the wall clock forward."""
        wall = self._wall(start)
        for _ in range(_MAX_STEPS):
            nxt = self._next_wall(wall)
            if nxt is None:
                return None
            naive = nxt.replace(tzinfo=None)
            aware = timeutil.localize(naive, self.tz)
            # compare instants: datetimes sharing a tzinfo compare by wall clock, ignoring fold
            if aware.timestamp() >= start.timestamp():
                return aware
            if self.wildcard and _repeated(naive, self.tz):
                return naive.replace(tzinfo=self.tz, fold=1)  # its second occurrence is ahead
            wall = nxt + _TICK  # a slot of the repeated hour already past: the next one
        return None

    def _next_in_repeat(self, start: datetime) -> datetime | None:
        """When ``start`` is in the first copy of a repeated hour, the first slot of the second
        copy (its wall clock restarts at the hour's beginning), else None."""
        local = start.astimezone(self.tz)
        naive = local.replace(tzinfo=None, fold=0)
        if local.fold or not _repeated(naive, self.tz):
            return None
        first = _repeat_start(naive, self.tz)
        nxt = self._next_wall(first.replace(tzinfo=UTC))
        if nxt is None or not _repeated(nxt.replace(tzinfo=None), self.tz):
            return None
        return nxt.replace(tzinfo=self.tz, fold=1)


def _after(instant: datetime) -> datetime:
    """The instant a microsecond after ``instant`` (in UTC, so its ``fold`` counts)."""
    return instant.astimezone(UTC) + _TICK


def _offsets(naive: datetime, tz: tzinfo) -> tuple[timedelta, timedelta]:
    early = naive.replace(tzinfo=tz, fold=0).utcoffset()
    late = naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert early is not None and late is not None
    return early, late


def _repeated(naive: datetime, tz: tzinfo) -> bool:
    """Whether the wall time ``naive`` happens twice in ``tz`` (fall-back; a skipped time's
    offsets differ the other way round)."""
    early, late = _offsets(naive, tz)
    return early > late


def _repeat_start(naive: datetime, tz: tzinfo) -> datetime:
    """The first wall time of the repeated stretch that holds ``naive`` (found by bisection:
    zoneinfo does not expose its transitions)."""
    early, late = _offsets(naive, tz)
    lo, hi = naive - (early - late), naive  # lo is just before the stretch, hi inside it
    while hi - lo > _TICK:
        mid = lo + (hi - lo) / 2
        if _repeated(mid, tz):
            hi = mid
        else:
            lo = mid
    return hi


_WINDOW_CHUNK = 7 * 86400.0  # seconds of windows computed at a time
_WINDOW_HORIZON = 2 * 366 * 86400.0  # no fire inside a window this long after now: none at all


class SunWindowTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler 3 is untyped (Any)
    """``inner``'s fire times that fall inside the sun window (``window``: "day", "night" or
    "START..END") of each day at ``latitude``/``longitude`` in ``tz``."""

    def __init__(
        self, inner: BaseTrigger, window: str, latitude: float, longitude: float, tz: tzinfo
    ) -> None:
        self.inner = inner
        self.window = window
        self.start, self.end = parse_window(window)
        self.latitude, self.longitude, self.tz = latitude, longitude, tz
        # the windows of the chunk looked at last and the time range they cover: a fire every
        # 10 s (or a skip over day after day) would otherwise compute the sun every time
        self._spans: list[tuple[float, float]] = []
        self._covered = (0.0, 0.0)

    def __repr__(self) -> str:
        return f"<SunWindowTrigger {self.window} of {self.inner!r}>"

    def window_after(self, utc: float) -> tuple[float, float] | None:
        """The first window (UTC seconds, half-open) that ends after ``utc``, or None when
        there is none for about two years."""
        first = utc
        while first < utc + _WINDOW_HORIZON:
            lo, hi = self._covered
            if not lo <= first < hi:
                spans, _gaps = window_spans(
                    self.latitude, self.longitude, self.tz, self.start, self.end,
                    first, first + _WINDOW_CHUNK,
                )  # fmt: skip
                self._spans, self._covered = spans, (first, first + _WINDOW_CHUNK)
                lo, hi = self._covered
            for a, b in self._spans:
                if b > utc and a < hi:
                    return a, b
            first = hi
        return None

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        nxt: datetime | None = self.inner.get_next_fire_time(previous_fire_time, now)
        give_up = now.timestamp() + _WINDOW_HORIZON  # a schedule never inside the window
        for _ in range(_MAX_STEPS):
            if nxt is None or nxt.timestamp() > give_up:
                return None
            span = self.window_after(nxt.timestamp())
            if span is None:
                return None
            if nxt.timestamp() >= span[0]:
                return nxt
            # the first fire at or after the window opens (later than previous_fire_time too)
            nxt = self.inner.get_next_fire_time(None, datetime.fromtimestamp(span[0], UTC))
        return None


def build_trigger(schedule: Schedule, tz: tzinfo) -> BaseTrigger:
    """The trigger for ``schedule`` in ``tz``.

    Interval schedules without a ``start_date`` are anchored at midnight (camera zone) of
    2000-01-01, so "every 10 minutes" fires at :00, :10, ... rather than at start-up + 10 min.
    A schedule with a ``sun_window`` fires only inside it (:class:`SunWindowTrigger`).
    """
    trigger: BaseTrigger
    if schedule.type == "interval":
        start = timeutil.localize(schedule.start_date or INTERVAL_ANCHOR, tz)
        amount = {schedule.interval_unit: schedule.interval_amount}
        trigger = IntervalTrigger(**amount, start_date=start, timezone=tz)
    else:
        trigger = WallClockCron(schedule.cron_fields(), tz)
    place = schedule.sun_place()
    if schedule.sun_window and place is not None:
        trigger = SunWindowTrigger(trigger, schedule.sun_window, *place, tz)
    return trigger


def fire_times(trigger: BaseTrigger, after: datetime) -> Iterator[datetime]:
    """Every fire time of ``trigger`` at or after ``after``, in order (lazily)."""
    previous = None
    while True:
        nxt = trigger.get_next_fire_time(previous, after if previous is None else _after(previous))
        if nxt is None or (previous is not None and nxt.timestamp() <= previous.timestamp()):
            return
        yield nxt
        previous = nxt


def next_fire_times(
    schedule: Schedule, tz: tzinfo, count: int = 5, after: datetime | None = None
) -> list[datetime]:
    """The next ``count`` times ``schedule`` fires at or after ``after`` (default now), in
    ``tz``."""
    trigger = build_trigger(schedule, tz)
    start = after or timeutil.now(tz)
    times = islice(fire_times(trigger, start), count)
    return [t.astimezone(UTC).astimezone(tz) for t in times]
