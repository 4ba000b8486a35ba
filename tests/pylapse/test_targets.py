"""Target generation fast paths: DST days by bisection, the spacing bound, regular days."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylapse import targets
from pylapse.targets import CronRule, cron_targets, day_targets, target_grid

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
]


def _changing_days(tz, year):
    day = date(year, 1, 1)
    while day.year == year:
        if targets._regular_base(day, tz) is None:
            yield day
        day += timedelta(days=1)


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
                fast = targets._changing_day_targets(day, seconds, tz, both_folds=both)
                slow = targets._per_target_day_targets(day, seconds, tz, both_folds=both)
                assert fast == slow, (day, both)
                checked += 1
    assert checked >= 2


def test_regular_days_add_to_midnight():
    tz = ZoneInfo("Asia/Kolkata")  # +05:30 all year
    day = date(2025, 6, 1)
    assert day_targets(day, [0, 45, 86399], tz, both_folds=True) == [
        datetime(2025, 6, 1, tzinfo=tz).timestamp() + s for s in (0, 45, 86399)
    ]
    assert targets._regular_base(date(2024, 3, 31), ZoneInfo("Europe/Berlin")) is None


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["Europe/Berlin", "Australia/Lord_Howe", "America/New_York", "UTC"]),
    st.lists(
        st.sampled_from(
            [
                {"second": "*/10", "hour": "1-3"},
                {"minute": "*/7", "second": 30},
                {"minute": "0,1", "hour": "*/5"},
                {"day_of_week": "sun", "hour": 2, "minute": "*/20"},
                {"second": 59, "minute": 59, "hour": 23},
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 400),
)
def test_spacing_is_a_lower_bound_of_the_target_spacing(zone, rules, start_day):
    tz = ZoneInfo(zone)
    first = datetime(2024, 1, 1, tzinfo=tz).timestamp() + start_day * 86400
    last = first + 9 * 86400  # DST days of 2024 fall inside for some start days
    compiled = [CronRule(r) for r in rules]
    grid, spacing = target_grid(compiled, tz, first, last)
    assert list(grid) == list(cron_targets(compiled, tz, first, last))
    assert list(grid) == sorted(set(grid))
    steps = [b - a for a, b in itertools.pairwise(grid)]
    assert spacing <= min(steps, default=float("inf"))
    assert spacing > 0  # (a Sunday 2:00 rule on a spring-forward Sunday has no targets)
