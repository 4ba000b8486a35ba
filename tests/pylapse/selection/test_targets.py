"""Target generation fast paths: DST days by bisection, the spacing bound, regular days."""

from __future__ import annotations

import io
import itertools
import random
import struct
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylapse.selection import targets
from pylapse.selection.targets import (
    CronRule,
    SelectionError,
    clock_seconds,
    cron_targets,
    day_targets,
    local_days,
    resolve_range,
    target_grid,
)
from tests.pylapse.reference import ref_capture_day_targets, ref_day_targets, ref_wall_instants

# Zones with offset changes of every kind: an hour either way, 30 minutes (Lord Howe), Morocco's
# Ramadan changes, a southern-hemisphere zone, a zone that dropped DST, and historic rules.
ZONES = [
    ("Europe/Berlin", [1945, 1980, 2024]),
    ("America/New_York", [1918, 2024]),
    ("Australia/Lord_Howe", [1990, 2024]),
    ("Africa/Casablanca", [2012, 2024]),
    ("America/Santiago", [2016, 2024]),
    ("America/Sao_Paulo", [2018]),
    ("Europe/Moscow", [2011, 2014]),
    ("Pacific/Apia", [2011]),  # skipped a whole day (2011-12-30)
    ("Europe/Amsterdam", [1937]),  # +00:19:32 to +00:20 at midnight: 28 seconds skipped
    ("Africa/Monrovia", [1972]),  # -00:44:30 to UTC
]


def _changing_days(tz, year):
    """Local dates on either side of each UTC-offset change in ``year``, found with zoneinfo
    alone (not with the module's own test for a regular day)."""
    days = set()
    for change in _transitions(tz, year):
        days.add(datetime.fromtimestamp(change - 1, tz).date())
        days.add(datetime.fromtimestamp(change, tz).date())
    return sorted(days)


def _transitions(tz, year):
    """UTC seconds at which ``tz``'s offset changes during ``year`` (to the second)."""
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())

    def offset(u):
        return datetime.fromtimestamp(u, tz).utcoffset()

    found, step = [], 900
    for u in range(start, start + 366 * 86400, step):
        if offset(u) != offset(u + step):
            lo, hi = u, u + step
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            found.append(hi)
    return found


@pytest.mark.parametrize(("zone", "years"), ZONES)
def test_dst_days_by_bisection_equal_per_target_lookups(zone, years):
    tz = ZoneInfo(zone)
    rng = random.Random(zone)
    checked = 0
    for year in years:
        for day in _changing_days(tz, year):
            picks = set(rng.sample(range(86400), 200))
            picks |= {0, 1, 86399} | {h * 3600 + m for h in range(5) for m in (0, 1799, 1800)}
            seconds = [float(s) for s in sorted(picks)]
            for both in (True, False):
                expected = ref_day_targets(day, seconds, tz, both)
                assert day_targets(day, seconds, tz, both_folds=both) == expected, (day, both)
                fast = targets._changing_day_targets(day, seconds, tz, both_folds=both)
                slow = targets._per_target_day_targets(day, seconds, tz, both_folds=both)
                assert fast == slow == expected, (day, both)
                checked += 1
    assert checked >= 2 * len(years)  # both folds of at least one changing day a year


def test_regular_days_add_to_midnight():
    tz = ZoneInfo("Asia/Kolkata")  # +05:30 all year
    day = date(2025, 6, 1)
    assert day_targets(day, [0, 45, 86399], tz, both_folds=True) == [
        datetime(2025, 6, 1, tzinfo=tz).timestamp() + s for s in (0, 45, 86399)
    ]
    assert targets._regular_base(date(2024, 3, 31), ZoneInfo("Europe/Berlin")) is None


# Rules with what they mean written out by hand (hours, minutes, seconds, weekdays; 0 = Monday),
# so the reference below does not read the rule through the module under test.
ALL = range(60)
RULES = [
    ({"second": "*/10", "hour": "1-3"}, [1, 2, 3], ALL, range(0, 60, 10), None),
    ({"minute": "*/7", "second": 30}, range(24), range(0, 60, 7), [30], None),
    ({"minute": "0,1", "hour": "*/5"}, range(0, 24, 5), [0, 1], [0], None),
    ({"day_of_week": "sun", "hour": 2, "minute": "*/20"}, [2], [0, 20, 40], [0], {6}),
    ({"second": 59, "minute": 59, "hour": 23}, [23], [59], [59], None),
    # On a day the clocks go back, 02:00, 02:50 and again 02:00 are 50 and 10 minutes apart:
    # the day's own steps are shorter than any regular day's (50 minutes, 23 h 10 min).
    ({"hour": 2, "minute": "0,50"}, [2], [0, 50], [0], None),
    # On a day the clocks go forward, 01:00 and 03:00 are one hour apart, not two.
    ({"hour": "1,3", "minute": 0}, [1, 3], [0], [0], None),
    # the day's smallest step is its last one (23:30 to 23:59)
    ({"hour": 23, "minute": "0,30,59"}, [23], [0, 30, 59], [0], None),
    # every other day of the month
    ({"day": "*/2", "hour": 12}, [12], [0], [0], "odd days"),
]
# Days around which 2024 changes its offset in the zones below (and one ordinary day).
DST_2024 = [date(2024, 3, 10), date(2024, 3, 31), date(2024, 4, 7), date(2024, 10, 6),
            date(2024, 10, 27), date(2024, 11, 3), date(2024, 6, 1)]  # fmt: skip


def _fixed(fields):
    """A rule at fixed times (capture fires it once in a repeated hour and shifts it out of a
    skipped one), read by hand: hour given and not a wildcard, and minute given and not a
    wildcard, or left out together with second (then it is 0)."""
    hour, minute = str(fields.get("hour", "*")), fields.get("minute")
    if "hour" not in fields or hour.startswith("*"):
        return False
    if minute is None:
        return "second" not in fields
    return not str(minute).startswith("*")


def _reference_targets(rules, tz, first, last):
    """Every instant in ``[first, last]`` at which a rule's wall clock reads in ``tz``."""
    out = set()
    day = datetime.fromtimestamp(first, tz).date() - timedelta(days=1)
    end = datetime.fromtimestamp(last, tz).date() + timedelta(days=1)
    while day <= end:
        for _fields, hours, minutes, seconds, weekdays in rules:
            if weekdays == "odd days":
                ok = day.day % 2 == 1
            else:
                ok = weekdays is None or day.weekday() in weekdays
            if ok:
                wall = [h * 3600 + m * 60 + s for h in hours for m in minutes for s in seconds]
                out.update(ref_capture_day_targets(day, wall, tz, _fixed(_fields)))
        day += timedelta(days=1)
    return sorted(u for u in out if first <= u <= last)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["Europe/Berlin", "Australia/Lord_Howe", "America/New_York", "UTC"]),
    st.lists(st.sampled_from(RULES), min_size=1, max_size=3),
    st.sampled_from(DST_2024),
    st.integers(-3, 1),
    st.integers(0, 86399),
)
def test_targets_and_their_spacing_against_a_reference(zone, rules, around, days, shift):
    tz = ZoneInfo(zone)
    first = datetime.combine(around + timedelta(days=days), datetime.min.time(), tz).timestamp()
    first += shift  # ranges start and end anywhere in a day
    last = first + 3 * 86400
    compiled = [CronRule(fields) for fields, *_ in rules]
    grid, spacing = target_grid(compiled, tz, first, last)
    expected = _reference_targets(rules, tz, first, last)
    assert list(grid) == expected
    assert list(cron_targets(compiled, tz, first, last)) == expected
    # the lower bound of the spacing the matcher's block path relies on
    steps = [b - a for a, b in itertools.pairwise(expected)]
    assert 0 < spacing <= min(steps, default=float("inf"))


def test_the_spacing_counts_a_dst_days_own_steps():
    berlin = ZoneInfo("Europe/Berlin")
    autumn = datetime(2024, 10, 26, tzinfo=berlin).timestamp()
    grid, spacing = target_grid([CronRule({"hour": 2, "minute": "0,50"})], berlin, autumn,
                                autumn + 3 * 86400)  # fmt: skip
    assert min(b - a for a, b in itertools.pairwise(grid)) == 600 == spacing
    spring = datetime(2024, 3, 30, tzinfo=berlin).timestamp()
    grid, spacing = target_grid([CronRule({"hour": "1,3", "minute": 0})], berlin, spring,
                                spring + 3 * 86400)  # fmt: skip
    assert min(b - a for a, b in itertools.pairwise(grid)) == 3600 == spacing
    # once a day: the step into the spring day is an hour short of a day
    once = CronRule({"hour": 23, "minute": 59, "second": 59})
    grid, spacing = target_grid([once], berlin, spring, spring + 3 * 86400)
    assert min(b - a for a, b in itertools.pairwise(grid)) == 82800 == spacing
    # a DST day with long steps after a day with short ones keeps the short ones' bound
    saturday = CronRule({"day_of_week": "sat", "hour": 12, "minute": "*/5"})
    six_hourly = CronRule({"hour": "*/6", "minute": 0})
    grid, spacing = target_grid([saturday, six_hourly], berlin, spring, spring + 2 * 86400 - 1)
    assert min(b - a for a, b in itertools.pairwise(grid)) == 300 == spacing
    # over whole regular days the bound is the smallest step itself, so the block path can use it
    june = datetime(2024, 6, 3, tzinfo=berlin).timestamp()
    _grid, spacing = target_grid([CronRule({"minute": "*/20"})], berlin, june, june + 86399)
    assert spacing == 1200


# --- instants against every second of the wall clock ---------------------------------------------

# (zone, the day before an offset change): hour changes, 30-minute changes, changes at midnight
# (Santiago and Casablanca move their clocks at 00:00, so a day starts at 01:00 or repeats
# 23:00-24:00), and Amsterdam's 1937 change from +00:19:32 to +00:20, which skipped the first
# 28 seconds of 1 July.
CHANGES = [
    ("Europe/Berlin", date(2024, 3, 30)),
    ("Europe/Berlin", date(2024, 10, 26)),
    ("Australia/Lord_Howe", date(2024, 4, 6)),
    ("America/Santiago", date(2024, 4, 5)),
    ("America/Santiago", date(2024, 9, 7)),
    ("Africa/Casablanca", date(2011, 4, 2)),
    ("Africa/Casablanca", date(2011, 7, 29)),
    ("Europe/Amsterdam", date(1937, 6, 30)),
]


@pytest.mark.parametrize(("zone", "before"), CHANGES)
def test_a_ten_second_rule_hits_every_tenth_wall_clock_second(zone, before):
    tz = ZoneInfo(zone)
    first = datetime.combine(before, time(12), tz).timestamp()  # noon the day before
    last = first + 2 * 86400 - 1
    got = list(cron_targets([CronRule({"second": "*/10"})], tz, first, last))
    assert got == ref_wall_instants(tz, first, last, lambda local: local.second % 10 == 0)


def test_a_dst_day_without_targets_inside_a_range():
    # Sundays at 02:00, 02:20, 02:40 in Berlin: on 31 March 2024 02:00-02:59 never happened.
    tz = ZoneInfo("Europe/Berlin")
    first = datetime(2024, 3, 17, tzinfo=tz).timestamp()
    last = datetime(2024, 4, 14, 23, 59, tzinfo=tz).timestamp()
    rule = CronRule({"day_of_week": "sun", "hour": 2, "minute": "*/20"})
    got, spacing = target_grid([rule], tz, first, last)

    def wanted(local):
        return local.weekday() == 6 and local.hour == 2 and local.minute % 20 == 0

    expected = ref_wall_instants(tz, first, last, wanted, step=60)
    assert list(got) == expected and len(expected) == 4 * 3  # 17, 24 March, 7, 14 April
    days = sorted({datetime.fromtimestamp(u, tz).day for u in got})
    assert days == [7, 14, 17, 24]  # the targets go on after the empty day
    assert spacing == 1200


@pytest.mark.parametrize(("zone", "before"), [c for c in CHANGES if c[0] != "Europe/Amsterdam"])
@pytest.mark.parametrize(
    ("fields", "wanted"),
    [
        ({"minute": "*/30"}, lambda t: t.minute % 30 == 0 and t.second == 0),
        ({"hour": 0, "minute": "*/15"}, lambda t: t.hour == 0 and t.minute % 15 == t.second == 0),
        ({"hour": 23, "minute": "*/15"}, lambda t: t.hour == 23 and t.minute % 15 == t.second == 0),
    ],
    ids=["every-30-min", "midnight-hour", "last-hour"],
)
def test_minute_rules_around_offset_changes(zone, before, fields, wanted):
    tz = ZoneInfo(zone)
    first = datetime.combine(before, time(), tz).timestamp()
    last = first + 3 * 86400
    got = list(cron_targets([CronRule(fields)], tz, first, last))
    assert got == ref_wall_instants(tz, first, last, wanted, step=60)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/Santiago", date(2024, 9, 8)),  # starts at 01:00: midnight never happened
        ("America/Santiago", date(2024, 4, 6)),  # 23:00-23:59 twice: 25 hours
        ("Africa/Casablanca", date(2011, 4, 3)),
        ("Africa/Casablanca", date(2011, 7, 30)),
        ("Europe/Amsterdam", date(1937, 7, 1)),  # starts at 00:00:28
    ],
)
def test_days_whose_change_falls_at_midnight(zone, day):
    tz = ZoneInfo(zone)
    # a day slice (first occurrence only) and cron targets (both) at the day's edges
    seconds = [0, 20, 30, 900, 3600, 23 * 3600, 23 * 3600 + 1800, 86399]
    for both in (True, False):
        assert day_targets(day, seconds, tz, both_folds=both) == ref_day_targets(
            day, seconds, tz, both
        )
    # a date range of that day holds exactly the instants whose local date is that day
    span = resolve_range(day, day, tz)
    assert datetime.fromtimestamp(span.start, tz).date() == day
    assert datetime.fromtimestamp(span.start - 1, tz).date() < day
    assert datetime.fromtimestamp(span.stop - 1, tz).date() == day
    assert datetime.fromtimestamp(span.stop, tz).date() > day
    assert list(local_days(tz, span.start, span.stop - 1)) == [day]


@pytest.mark.parametrize(
    "date_from,date_to", [("0001-01-01", None), (None, "9999-12-31"), (date(1, 1, 1), None)]
)
def test_dates_at_the_ends_of_the_calendar_are_a_selection_error(date_from, date_to):
    # east of UTC, the first day starts before 0001-01-01 UTC; the last day's end is past 9999
    with pytest.raises(SelectionError, match="years 1-9999"):
        resolve_range(date_from, date_to, ZoneInfo("Asia/Tokyo"))


def _zone(transitions: list[int], offsets: list[int], rule: bytes) -> ZoneInfo:
    """A zone from a TZif file made here: ``offsets[0]`` until ``transitions[0]`` (UTC
    seconds), ``offsets[k + 1]`` from ``transitions[k]`` on, then the POSIX ``rule``."""
    names = b"".join(f"<{o:+05d}>\x00".encode() for o in offsets)
    body = b"".join(struct.pack(">q", t) for t in transitions)
    body += bytes(range(1, len(transitions) + 1))
    body += b"".join(struct.pack(">lBB", off, 0, 7 * i) for i, off in enumerate(offsets))
    body += names
    header = b"TZif2" + bytes(15)
    v1 = header + struct.pack(">6l", 0, 0, 0, 0, 1, 1) + struct.pack(">lBB", 0, 0, 0) + b"\x00"
    counts = struct.pack(">6l", 0, 0, 0, len(transitions), len(offsets), len(names))
    return ZoneInfo.from_file(io.BytesIO(v1 + header + counts + body + b"\n" + rule + b"\n"))


def test_a_day_with_two_offset_changes_is_resolved_target_by_target():
    # No real zone changes twice within two days; one made here goes +01 -> +03 at 01:00 UTC
    # and +03 -> +02 at 04:00 UTC on 1 June 2030: 02:00-03:59 never happens, 06:00-06:59 twice.
    day = date(2030, 6, 1)
    midnight = int(datetime(2030, 6, 1, tzinfo=UTC).timestamp())
    tz = _zone([midnight + 3600, midnight + 4 * 3600], [3600, 10800, 7200], b"<+02>-2")
    seconds = list(range(0, 86400, 600))
    for both, count in ((True, 144 - 12 + 6), (False, 144 - 12)):
        got = day_targets(day, seconds, tz, both_folds=both)
        assert got == ref_day_targets(day, seconds, tz, both)
        assert len(got) == count
    first, last = midnight - 86400, midnight + 2 * 86400
    got = list(cron_targets([CronRule({"minute": "*/10"})], tz, first, last))
    assert got == ref_wall_instants(
        tz, first, last, lambda t: t.minute % 10 == 0 and t.second == 0, step=60
    )


# --- rules, ranges and clock times: what is accepted and what the refusals say -----------------


def test_empty_cron_fields_are_left_out():
    rule = CronRule({"hour": 12, "minute": None, "second": ""})
    assert rule.fields == {"hour": "12"}
    assert rule.seconds == [12 * 3600]
    assert repr(rule) == "CronRule({'hour': '12'})"


def test_cron_refusals_name_the_fields_accepted():
    with pytest.raises(SelectionError) as caught:
        CronRule({"hours": 3})
    assert str(caught.value) == (
        "unknown cron field 'hours'; accepted: year, month, day, week, day_of_week, hour, "
        "minute, second"
    )
    with pytest.raises(SelectionError) as caught:
        CronRule({"hour": None})
    assert str(caught.value) == (
        "a cron rule needs at least one of year, month, day, week, day_of_week, hour, minute, "
        "second"
    )


@pytest.mark.parametrize(
    ("date_from", "date_to", "start", "stop"),
    [
        (None, None, None, None),
        ("", "", None, None),
        ("2024-03-01", None, datetime(2024, 3, 1), None),
        (None, "2024-03-01", None, datetime(2024, 3, 2)),  # a date includes its whole day
        ("2024-03-01T06:30", "2024-03-01T18:00:00", datetime(2024, 3, 1, 6, 30), None),
        (datetime(2024, 3, 1, 6, 30), None, datetime(2024, 3, 1, 6, 30), None),  # naive: wall
        (date(2024, 3, 1), None, datetime(2024, 3, 1), None),
        ("20240301T1200", None, datetime(2024, 3, 1, 12), None),  # ISO basic format
        ("20240301T12", None, datetime(2024, 3, 1, 12), None),  # 11 characters: a datetime
    ],
)
def test_ranges_in_the_collections_zone(date_from, date_to, start, stop):
    berlin = ZoneInfo("Europe/Berlin")
    span = resolve_range(date_from, date_to, berlin)
    want_start = None if start is None else start.replace(tzinfo=berlin).timestamp()
    assert span.start == want_start
    if stop is not None:
        assert span.stop == stop.replace(tzinfo=berlin).timestamp()
    elif isinstance(date_to, str) and "T" in date_to:  # a datetime end is inclusive
        end = datetime.fromisoformat(date_to).replace(tzinfo=berlin).timestamp()
        assert span.stop is not None and end < span.stop < end + 1e-3
    else:
        assert span.stop is None


def test_an_aware_range_bound_keeps_its_own_offset():
    span = resolve_range("2024-03-01T12:00+05:00", "2024-03-01T13:00Z", ZoneInfo("Asia/Tokyo"))
    assert span.start == datetime(2024, 3, 1, 7, tzinfo=UTC).timestamp()
    assert span.stop is not None and span.stop > datetime(2024, 3, 1, 13, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_a_bad_range_bound_is_named(name):
    args = {"date_from": None, "date_to": None, name: "31/12/2024"}
    with pytest.raises(SelectionError) as caught:
        resolve_range(args["date_from"], args["date_to"], UTC)
    assert str(caught.value) == (
        f"{name}: '31/12/2024' is not a date (accepted: YYYY-MM-DD or "
        "YYYY-MM-DDTHH:MM[:SS][+HH:MM])"
    )


def test_a_range_at_the_calendars_edge_is_refused_by_name():
    with pytest.raises(SelectionError) as caught:
        resolve_range("9999-12-31", "9999-12-31", UTC)  # its end is the day after
    assert str(caught.value) == (
        "9999-12-31 is too close to the first or last day a calendar date can have (years "
        "1-9999); leave it out to select from the first or last frame"
    )


def test_clock_times():
    assert clock_seconds("12:00") == [43200]
    assert clock_seconds(["12:00", time(6, 30), " 06:30:00 ", "23:59:59"]) == [
        23400,
        43200,
        86399,
    ]
    with pytest.raises(SelectionError) as caught:
        clock_seconds([])
    assert str(caught.value) == "times: give at least one clock time, e.g. '12:00'"
    with pytest.raises(SelectionError) as caught:
        clock_seconds([12])
    assert str(caught.value) == "times: 12 is not a clock time (accepted: HH:MM)"
    with pytest.raises(SelectionError) as caught:
        clock_seconds("noon")
    assert str(caught.value) == "times: 'noon' is not a clock time (accepted: HH:MM or HH:MM:SS)"


def test_too_many_targets_are_refused_with_the_estimate():
    with pytest.raises(SelectionError) as caught:
        target_grid([CronRule({"second": "*"})], UTC, 0.0, 365 * 86400.0)
    assert str(caught.value) == (
        "about 31,708,800 targets (367 days x up to 86,400 a day) is more than 15,000,000; "
        "narrow the date range or use a coarser rule"
    )


# --- capture and selection agree on DST nights (issue 14, item 5) ------------------------------


@pytest.mark.parametrize(
    ("zone", "night"),
    [
        ("Europe/Berlin", date(2026, 3, 29)),  # spring forward: 02:00-02:59 does not exist
        ("Europe/Berlin", date(2026, 10, 25)),  # fall back: 02:00-02:59 happens twice
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
    ],
)
@pytest.mark.parametrize(
    "fields",
    [{"hour": 2, "minute": 30}, {"minute": "*/10"}, {"hour": "1-3", "minute": "*/10"}],
    ids=["02:30 every day", "every 10 minutes", "every 10 minutes 01-03"],
)
def test_a_selection_takes_what_the_same_capture_schedule_took(zone, night, fields):
    from pylapse.capture.triggers import next_fire_times
    from pylapse.config.cameras import Schedule
    from pylapse.selection.selection import select_cron

    tz = ZoneInfo(zone)
    start = datetime.combine(night - timedelta(days=1), time(12), tz)
    end = datetime.combine(night + timedelta(days=1), time(12), tz).timestamp()
    fired = [t.timestamp() for t in next_fire_times(Schedule(id="s", **fields), tz, 2000, start)]
    captured = [t for t in fired if t <= end]
    selection = select_cron(
        list(range(len(captured))), captured, [fields], tz, tolerance=timedelta(minutes=1)
    )
    # every frame capture took is selected (on the spring-forward night too, where a fixed
    # 02:30 fires at 03:30)...
    assert selection.utcs == captured
    # ... and a target without a frame is only the second copy of a repeated fixed time, which
    # capture fires once: counted as a gap, not lost silently
    gaps = [datetime.fromtimestamp(u, tz) for u in selection.gap_utcs]
    repeated = night.month > 6 and zone == "Europe/Berlin"  # 02:xx repeats; New York's 01:xx
    if _fixed(fields) and repeated:
        assert [g.isoformat() for g in gaps] == [f"{night.isoformat()}T02:30:00+01:00"]
    else:
        assert gaps == []
