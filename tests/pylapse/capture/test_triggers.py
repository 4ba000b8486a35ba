"""Trigger arithmetic, driven directly (no waiting): cron on the camera's wall clock across DST
nights in both directions, every cron field, intervals anchored at start_date."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from pylapse.capture.triggers import (
    HORIZON_YEARS,
    WallClockCron,
    build_trigger,
    next_fire_times,
)
from pylapse.config.cameras import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def _local(times):
    return [t.strftime("%m-%d %H:%M:%S%z") for t in times]


def test_daily_cron_keeps_local_time_across_spring_forward():
    times = next_fire_times(
        Schedule(id="morning", hour=7, minute=0), BERLIN, 4, datetime(2026, 3, 27, 8, tzinfo=BERLIN)
    )
    assert _local(times) == [
        "03-28 07:00:00+0100",
        "03-29 07:00:00+0200",
        "03-30 07:00:00+0200",
        "03-31 07:00:00+0200",
    ]
    assert [t.astimezone(ZoneInfo("UTC")).hour for t in times] == [6, 5, 5, 5]


def test_hourly_cron_on_the_spring_forward_night():
    times = next_fire_times(
        Schedule(id="h", minute=30), BERLIN, 4, datetime(2026, 3, 29, 0, 40, tzinfo=BERLIN)
    )
    # 02:30 does not exist that night: it fires once, at the shifted instant 03:30 CEST
    assert _local(times) == [
        "03-29 01:30:00+0100",
        "03-29 03:30:00+0200",
        "03-29 04:30:00+0200",
        "03-29 05:30:00+0200",
    ]


def test_a_wildcard_cron_fires_through_both_copies_of_the_repeated_hour():
    times = next_fire_times(
        Schedule(id="h", minute="*/30"), NEW_YORK, 7, datetime(2026, 11, 1, 0, 40, tzinfo=NEW_YORK)
    )
    assert _local(times) == [
        "11-01 01:00:00-0400",
        "11-01 01:30:00-0400",
        "11-01 01:00:00-0500",  # the clocks went back: the hour runs again, and so does capture
        "11-01 01:30:00-0500",
        "11-01 02:00:00-0500",
        "11-01 02:30:00-0500",
        "11-01 03:00:00-0500",
    ]
    stamps = [t.timestamp() for t in times]
    assert stamps == sorted(stamps) and len(set(stamps)) == 7
    assert all(b - a == 1800 for a, b in pairwise(stamps))
    # starting inside the second copy (01:10 EST) never goes back to 01:30 EDT
    during = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NEW_YORK)
    assert _local(next_fire_times(Schedule(id="h", minute="*/30"), NEW_YORK, 2, during)) == [
        "11-01 01:30:00-0500",
        "11-01 02:00:00-0500",
    ]
    # starting late in the first copy (01:40 EDT), the second copy's 01:00 comes next
    late = datetime(2026, 11, 1, 1, 40, tzinfo=NEW_YORK)
    assert _local(next_fire_times(Schedule(id="h", minute="*/30"), NEW_YORK, 1, late)) == [
        "11-01 01:00:00-0500"
    ]


def _run_like_apscheduler(trigger, start: datetime, until: datetime) -> list[datetime]:
    """Fire times as APScheduler's loop asks for them: the next after the previous run, asked
    a second after that run."""
    runs, previous = [], None
    now = start
    while True:
        nxt = trigger.get_next_fire_time(previous, now)
        if nxt is None or nxt.timestamp() > until.timestamp():
            return runs
        runs.append(nxt)
        previous, now = nxt, datetime.fromtimestamp(nxt.timestamp() + 1, BERLIN)


def test_every_ten_minutes_on_both_dst_nights_in_berlin_and_new_york():
    every10 = Schedule(id="e", minute="*/10")
    for zone, fall, spring in [
        (BERLIN, datetime(2026, 10, 25), datetime(2026, 3, 29)),
        (NEW_YORK, datetime(2026, 11, 1), datetime(2026, 3, 8)),
    ]:
        trigger = build_trigger(every10, zone)
        start, end = fall.replace(tzinfo=zone), (fall + timedelta(days=1)).replace(tzinfo=zone)
        runs = _run_like_apscheduler(trigger, start, end)
        # 25 hours of real time, one frame every 10 minutes of real time, none lost or doubled
        assert len(runs) == 25 * 6 + 1
        stamps = [r.timestamp() for r in runs]
        assert all(b - a == 600 for a, b in pairwise(stamps))
        start, end = spring.replace(tzinfo=zone), (spring + timedelta(days=1)).replace(tzinfo=zone)
        runs = _run_like_apscheduler(trigger, start, end)
        assert len(runs) == 23 * 6 + 1  # the skipped hour has no wall times to fire at
        stamps = [r.timestamp() for r in runs]
        assert all(b - a == 600 for a, b in pairwise(stamps))
    # a fixed time fires once on the fall-back night, at its first occurrence (summer time)
    fixed = build_trigger(Schedule(id="f", hour=2, minute=30), BERLIN)
    night = _run_like_apscheduler(
        fixed, datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN)
    )
    assert _local(night) == ["10-25 02:30:00+0200"]
    daily = next_fire_times(
        Schedule(id="d", hour=1, minute=30),
        NEW_YORK,
        2,
        datetime(2026, 10, 31, 12, tzinfo=NEW_YORK),
    )
    assert _local(daily) == ["11-01 01:30:00-0400", "11-02 01:30:00-0500"]


def test_cron_every_field_in_the_camera_zone():
    schedule = Schedule(
        id="all",
        year=2027,
        month="2",
        day="last",
        day_of_week="sun",
        hour="6-7",
        minute=15,
        second=30,
    )
    times = next_fire_times(schedule, TOKYO, 3, datetime(2026, 1, 1, tzinfo=TOKYO))
    # 2027-02-28 is the last day of February and a Sunday
    assert _local(times) == ["02-28 06:15:30+0900", "02-28 07:15:30+0900"]
    assert times[0].year == 2027
    week = next_fire_times(
        Schedule(id="w", week=10, hour=12), TOKYO, 1, datetime(2026, 1, 1, tzinfo=TOKYO)
    )
    assert week[0].isocalendar().week == 10


def test_interval_anchored_at_start_date_in_camera_zone():
    schedule = Schedule(
        id="i",
        type="interval",
        interval_amount=10,
        interval_unit="minutes",
        start_date=datetime(2026, 1, 1, 0, 5),
    )
    times = next_fire_times(schedule, TOKYO, 3, datetime(2026, 6, 1, 12, 7, tzinfo=TOKYO))
    assert _local(times) == ["06-01 12:15:00+0900", "06-01 12:25:00+0900", "06-01 12:35:00+0900"]
    # no start_date: aligned on the clock (midnight anchor), not on start-up time
    plain = Schedule(id="p", type="interval", interval_amount=15, interval_unit="minutes")
    times = next_fire_times(plain, BERLIN, 2, datetime(2026, 6, 1, 12, 7, 13, tzinfo=BERLIN))
    assert _local(times) == ["06-01 12:15:00+0200", "06-01 12:30:00+0200"]


def test_interval_is_elapsed_time_across_dst():
    plain = Schedule(id="p", type="interval", interval_amount=1, interval_unit="hours")
    times = next_fire_times(plain, BERLIN, 3, datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN))
    assert _local(times) == ["03-29 01:00:00+0100", "03-29 03:00:00+0200", "03-29 04:00:00+0200"]


def test_apscheduler_contract_next_after_previous():
    """The scheduler asks for the first time after the previous one, even when 'now' is later
    (that is how it finds runs missed while the machine slept)."""
    trigger = build_trigger(Schedule(id="m", minute="*/10"), BERLIN)
    assert isinstance(trigger, WallClockCron)
    previous = datetime(2026, 6, 1, 12, 0, tzinfo=BERLIN)
    later = datetime(2026, 6, 1, 12, 35, tzinfo=BERLIN)
    assert _local([trigger.get_next_fire_time(previous, later)]) == ["06-01 12:10:00+0200"]
    assert _local([trigger.get_next_fire_time(None, later)]) == ["06-01 12:40:00+0200"]
    past = build_trigger(Schedule(id="y", year=2020, hour=1), BERLIN)
    assert past.get_next_fire_time(None, later) is None


def test_a_cron_that_never_fires_gives_no_times_after_a_bounded_search():
    """31 February cannot be saved, but an old file or a hand-built schedule may hold it: the
    search stops at the horizon instead of walking the calendar to the year 9999."""
    never = Schedule.model_construct(id="n", type="cron", month=2, day=31, hour=7)
    assert next_fire_times(never, BERLIN, 5) == []
    assert (
        next_fire_times(Schedule.model_construct(id="w", month=2, day=30, minute="*"), NEW_YORK)
        == []
    )


def test_the_search_looks_as_far_as_the_horizon_and_no_further():
    start = datetime(2026, 6, 1, tzinfo=BERLIN)
    rare = Schedule(id="r", month=2, day=29, day_of_week="mon", hour=7)  # 2044, 2072, 2112
    assert [t.year for t in next_fire_times(rare, BERLIN, 3, start)] == [2044, 2072, 2112]
    inside = Schedule(id="i", year=2026 + HORIZON_YEARS - 10, hour=1)
    assert next_fire_times(inside, BERLIN, 1, start)[0].year == 2026 + HORIZON_YEARS - 10
    beyond = Schedule(id="b", year=2026 + HORIZON_YEARS + 10, hour=1)
    assert next_fire_times(beyond, BERLIN, 1, start) == []


def test_a_sub_second_interval_fires_twice_a_second():
    half = Schedule(id="h", type="interval", interval_amount=0.5, interval_unit="seconds")
    start = datetime(2026, 6, 1, 12, 0, 0, 100_000, tzinfo=BERLIN)
    times = next_fire_times(half, BERLIN, 4, start)
    assert [t.strftime("%S.%f") for t in times] == ["00.500000", "01.000000", "01.500000",
                                                    "02.000000"]  # fmt: skip
