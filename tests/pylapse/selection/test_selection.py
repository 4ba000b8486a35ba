"""Selection: cron targets against a brute-force reference, day slices, the Selection object."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylapse import timeutil
from pylapse.selection.matching import match_nearest
from pylapse.selection.selection import Selection, select_all, select_cron, select_day_slice
from pylapse.selection.targets import (
    CronRule,
    DaySpan,
    SelectionError,
    cron_targets,
    day_targets,
    resolve_range,
)
from tests.pylapse.reference import ref_capture_day_targets, ref_match

BERLIN = ZoneInfo("Europe/Berlin")

# Days with a UTC-offset change (23- or 25-hour days; Lord Howe moves by 30 minutes).
DST_DAYS = [
    ("Europe/Berlin", date(2024, 3, 31)),
    ("Europe/Berlin", date(2024, 10, 27)),
    ("America/New_York", date(2024, 3, 10)),
    ("America/New_York", date(2024, 11, 3)),
    ("Australia/Lord_Howe", date(2024, 4, 7)),
    ("Australia/Lord_Howe", date(2024, 10, 6)),
    ("Asia/Tokyo", date(2024, 6, 1)),
    ("UTC", date(2024, 2, 29)),
]


# --- the reference: obviously right, quadratic --------------------------------------------------


def ref_targets(hours, minutes, seconds, tz, days, lo, hi, *, fixed=False):
    """Every instant whose wall clock in ``tz`` reads one of the h:m:s, within [lo, hi]; for a
    ``fixed`` rule also the first skipped time at its shifted instant, as capture fires it."""
    if fixed:
        wall = [h * 3600 + m * 60 + s for h in hours for m in minutes for s in seconds]
        out = {u for day in days for u in ref_capture_day_targets(day, wall, tz, True)}
        return sorted(u for u in out if lo <= u <= hi)
    out = set()
    for day in days:
        for h in hours:
            for m in minutes:
                for s in seconds:
                    for fold in (0, 1):
                        wall = datetime(day.year, day.month, day.day, h, m, s, fold=fold, tzinfo=tz)
                        u = wall.timestamp()
                        back = datetime.fromtimestamp(u, tz)
                        if (back.date(), back.hour, back.minute, back.second) == (day, h, m, s):
                            out.add(u)
    return sorted(u for u in out if lo <= u <= hi)


def _days_around(u_lo, u_hi, tz):
    day = datetime.fromtimestamp(u_lo, tz).date() - timedelta(days=1)
    end = datetime.fromtimestamp(u_hi, tz).date() + timedelta(days=1)
    while day <= end:
        yield day
        day += timedelta(days=1)


@st.composite
def frame_sets(draw):
    zone_name, day = draw(st.sampled_from(DST_DAYS))
    tz = timeutil.zone(zone_name)
    start = timeutil.localize(datetime.combine(day - timedelta(days=1), time()), tz).timestamp()
    span = 3 * 86400
    near = [86400 * k + d for k in (0, 1, 2, 3) for d in (-120, -1, 0, 1, 90)]  # around midnights
    near += [86400 + 3600 * h for h in (1, 2, 3)]  # around the change (1-3 h local)
    seconds = draw(
        st.lists(
            st.one_of(st.integers(0, span), st.sampled_from(near)),
            max_size=60,
        )
    )
    utcs = [start + s + draw(st.sampled_from([0.0, 0.0, 0.25, 0.5])) for s in seconds]
    # pairs equally far either side of a whole minute: ties for minute targets
    marks = st.tuples(st.integers(0, 71), st.sampled_from([0, 2]), st.integers(1, 400))
    for hour, minute, d in draw(st.lists(marks, max_size=6)):
        mark = start + hour * 3600 + minute * 60
        utcs += [mark - d, mark + d]
    dupes = draw(st.lists(st.sampled_from(utcs), max_size=5)) if utcs else []
    utcs = sorted(utcs + dupes)  # several frames in one second, even at the same instant
    return tz, day, utcs


RULES = st.fixed_dictionaries(
    {
        "hours": st.lists(st.integers(0, 23), min_size=1, max_size=6, unique=True),
        "step": st.sampled_from([1, 5, 15, 30, 50]),
        "offset": st.sampled_from([0, 2]),
    }
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame_sets(), st.lists(RULES, min_size=1, max_size=2), st.sampled_from([0, 30, 300, 1800]))
def test_cron_selection_matches_brute_force(data, rules, tol):
    tz, _day, utcs = data
    ids = list(range(100, 100 + len(utcs)))
    fields = [
        {"hour": ",".join(map(str, r["hours"])), "minute": f"{r['offset']}-59/{r['step']}"}
        for r in rules
    ]
    selection = select_cron(ids, utcs, fields, tz, tolerance=tol)
    if not utcs:
        assert selection.counts.targets == 0 and len(selection) == 0
        return
    lo, hi = utcs[0] - tol, utcs[-1] + tol
    expected_targets = sorted(
        set().union(
            *(
                ref_targets(
                    r["hours"],
                    range(r["offset"], 60, r["step"]),
                    [0],
                    tz,
                    _days_around(lo, hi, tz),
                    lo,
                    hi,
                    fixed=True,  # "h1,h2" and "2-59/5": neither starts with "*"
                )
                for r in rules
            )
        )
    )
    assert list(selection.targets) == expected_targets
    expected = ref_match(utcs, expected_targets, tol)
    assert list(selection.positions) == expected
    chosen = []
    for p in expected:
        if p >= 0 and (not chosen or chosen[-1] != ids[p]):
            chosen.append(ids[p])
    assert selection.ids == chosen  # the union has no duplicates and keeps time order
    assert selection.counts.gaps == expected.count(-1)
    assert selection.gap_utcs == [
        t for t, p in zip(expected_targets, expected, strict=True) if p < 0
    ]


@settings(max_examples=60, deadline=None)
@given(frame_sets(), st.integers(0, 3), st.integers(0, 3))
def test_date_range_limits_frames_and_targets(data, a, b):
    tz, day, utcs = data
    first_day = day - timedelta(days=1)
    d_from, d_to = first_day + timedelta(days=min(a, b)), first_day + timedelta(days=max(a, b))
    ids = list(range(len(utcs)))
    span = resolve_range(d_from, d_to, tz)
    sel = select_cron(ids, utcs, [{"minute": "*/20"}], tz, tolerance=600, span=span)
    start = timeutil.localize(datetime.combine(d_from, time()), tz).timestamp()
    stop = timeutil.localize(datetime.combine(d_to + timedelta(days=1), time()), tz).timestamp()
    inside = [u for u in utcs if start <= u < stop]
    assert all(start <= u < stop for u in sel.utcs)
    assert all(start <= t < stop for t in sel.targets)
    hours = range(24)
    expected_targets = ref_targets(
        hours, range(0, 60, 20), [0], tz, _days_around(start, stop, tz), start, stop - 1e-6
    )
    assert list(sel.targets) == expected_targets
    assert sel.counts.considered == len(inside)


def test_dst_days_have_23_and_25_hours_of_targets():
    spring = day_targets(date(2024, 3, 31), range(0, 86400, 600), BERLIN, both_folds=True)
    autumn = day_targets(date(2024, 10, 27), range(0, 86400, 600), BERLIN, both_folds=True)
    assert len(spring) == 23 * 6  # 02:00-02:59 never happened
    assert len(autumn) == 25 * 6  # 02:00-02:59 happened twice
    assert all(b - a == 600 for a, b in itertools.pairwise(autumn))  # real time stays regular
    walls = {datetime.fromtimestamp(u, BERLIN).strftime("%H:%M") for u in spring}
    assert "02:30" not in walls and "03:00" in walls
    first_only = day_targets(date(2024, 10, 27), [2 * 3600 + 1800], BERLIN, both_folds=False)
    assert [datetime.fromtimestamp(u, BERLIN).isoformat() for u in first_only] == [
        "2024-10-27T02:30:00+02:00"
    ]


def test_midnight_target_takes_the_previous_day_frame():
    day = date(2024, 5, 2)
    midnight = datetime(2024, 5, 2, tzinfo=BERLIN).timestamp()
    utcs = [midnight - 120, midnight + 200, midnight + 12 * 3600]
    sel = select_cron([1, 2, 3], utcs, [{"hour": 0}], BERLIN, tolerance=300)
    assert sel.ids == [1]  # 23:58 the day before is nearer than 00:03:20
    assert datetime.fromtimestamp(sel.utcs[0], BERLIN).date() == day - timedelta(days=1)


def test_ties_go_to_the_earlier_frame_and_first_of_same_instant():
    assert list(match_nearest([10.0, 20.0], [15.0], 10)) == [0]
    assert list(match_nearest([10.0, 10.0, 20.0], [12.0], 10)) == [0]
    assert list(match_nearest([10.0, 20.0, 20.0], [19.0], 10)) == [1]
    assert list(match_nearest([10.0, 20.0], [15.0], 4.9)) == [-1]  # tolerance is inclusive only


def test_union_of_rules_has_no_duplicates():
    utcs = [datetime(2024, 5, 1, 12, m, tzinfo=UTC).timestamp() for m in range(0, 60, 5)]
    sel = select_cron(
        list(range(12)),
        utcs,
        [{"hour": 12, "minute": "*/10"}, {"hour": 12, "minute": "*/15"}],
        UTC,
        tolerance=0,
    )
    assert [datetime.fromtimestamp(u, UTC).minute for u in sel.utcs] == [
        0,
        10,
        15,
        20,
        30,
        40,
        45,
        50,
    ]


def test_gaps_filled_repeat_the_previous_frame():
    utcs = [0.0, 10.0, 40.0]
    sel = Selection(
        "t",
        [7, 8, 9],
        utcs,
        [-10.0, 0.0, 10.0, 20.0, 30.0, 40.0],
        [-1, 0, 1, -1, -1, 2],
        UTC,
        loader=_loader(utcs, [7, 8, 9]),
    )
    assert sel.counts.gaps == 3 and len(sel) == 3
    assert len(sel.gaps) == 3 and sel.gaps[:1] == [datetime.fromtimestamp(-10, UTC)]
    assert sel.gaps[-1] == datetime.fromtimestamp(30, UTC) and sel.gaps[-1].tzinfo is UTC
    assert sel.filled_ids() == [(7, 1), (8, 3), (9, 1)]  # the leading gap has nothing to repeat
    assert [(f.id, n) for f, n in sel.with_gaps_filled()] == [(7, 1), (8, 3), (9, 1)]
    assert [f.id for f in sel.filled_frames()] == [7, 8, 8, 8, 9]
    assert sel.video_seconds(24) == 3 / 24
    assert sel.video_seconds(5, fill_gaps=True) == 1.0
    assert sel.first.id == 7 and sel.last.id == 9
    summary = sel.summary()
    assert summary["chosen"] == 3 and summary["gaps"] == 3 and summary["targets"] == 6
    assert summary["first"] == "1970-01-01T00:00:00+00:00"
    assert [f.id for f in sel.iter_frames(batch=2)] == [7, 8, 9]


class _F:
    def __init__(self, id, utc):
        self.id, self.utc = id, utc


def _loader(utcs, ids):
    calls = []

    def load(want_ids, want_utcs):
        calls.append(len(want_ids))
        by = dict(zip(ids, utcs, strict=True))
        return [_F(i, by[i]) for i in want_ids]

    load.calls = calls
    return load


def test_select_all_takes_every_frame_in_range():
    utcs = [datetime(2024, 1, d, 12, tzinfo=UTC).timestamp() for d in range(1, 11)]
    span = resolve_range("2024-01-03", "2024-01-05", UTC)
    sel = select_all(list(range(10)), utcs, UTC, span=span)
    assert sel.ids == [2, 3, 4] and sel.counts.gaps == 0


def test_day_slice_one_frame_per_day_nearest_each_time():
    rng = random.Random(4)
    utcs = []
    for d in range(1, 8):
        if d == 4:
            continue  # a day without frames
        for m in range(0, 24 * 60, 7):
            base = datetime(2024, 3, d, tzinfo=BERLIN).timestamp()
            utcs.append(base + m * 60 + rng.uniform(0, 20))
    utcs.sort()
    sel = select_day_slice(list(range(len(utcs))), utcs, ["12:00", time(6, 30)], BERLIN)
    assert sel.counts.targets == 14 and sel.counts.gaps == 2 and len(sel) == 12
    for u in sel.utcs:
        local = datetime.fromtimestamp(u, BERLIN)
        goal = local.replace(
            hour=12 if local.hour >= 9 else 6,
            minute=0 if local.hour >= 9 else 30,
            second=0,
            microsecond=0,
        )
        nearest = min(utcs, key=lambda x: abs(x - goal.timestamp()))
        assert u == nearest
    assert {g.date() for g in sel.gaps} == {date(2024, 3, 4)}


def test_day_slice_tolerance_and_dst_day():
    noon = datetime(2024, 10, 27, 12, tzinfo=BERLIN).timestamp()
    utcs = [noon - 3 * 3600, noon + 90 * 60]
    sel = select_day_slice([1, 2], utcs, "12:00", BERLIN, tolerance=timedelta(hours=1))
    assert sel.counts.gaps == 1 and len(sel) == 0
    sel = select_day_slice([1, 2], utcs, "12:00", BERLIN, tolerance=timedelta(hours=2))
    assert sel.ids == [2]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hour": "25"}, "hour: '25' is not a valid cron expression"),
        ({"minute": "*/x"}, "minute: '*/x'"),
        ({"hours": 3}, "unknown cron field 'hours'"),
        ({}, "needs at least one of"),
    ],
)
def test_bad_rules_name_the_field(fields, message):
    with pytest.raises(SelectionError, match=message.replace("*", r"\*")):
        CronRule(fields)


def test_bad_ranges_and_values():
    with pytest.raises(SelectionError, match="date_from: '03/01/2024' is not a date"):
        resolve_range("03/01/2024", None, UTC)
    with pytest.raises(SelectionError, match="before date_from"):
        resolve_range("2024-03-02", "2024-03-01", UTC)
    with pytest.raises(SelectionError, match="tolerance"):
        select_cron([], [], [{"hour": 1}], UTC, tolerance=-1)
    with pytest.raises(SelectionError, match="times: '25:00'"):
        select_day_slice([], [], "25:00", UTC)


def test_datetime_range_bounds_are_inclusive():
    utcs = [float(u) for u in range(0, 100, 10)]
    span = resolve_range(
        datetime(1970, 1, 1, 0, 0, 20, tzinfo=UTC), datetime(1970, 1, 1, 0, 0, 50, tzinfo=UTC), UTC
    )
    assert select_all(list(range(10)), utcs, UTC, span=span).ids == [2, 3, 4, 5]
    assert isinstance(span, DaySpan)


def test_absurd_target_counts_are_refused_before_allocating():
    span = resolve_range("2000-01-01", "2020-12-31", UTC)
    with pytest.raises(SelectionError, match="narrow the date range or use a coarser rule"):
        select_cron([], [], [{"second": "*"}], UTC, span=span)


@settings(max_examples=80, deadline=None)
@given(
    frame_sets(),
    st.lists(
        st.sampled_from(["00:00", "02:30", "03:00", "12:00", "23:59:30"]), min_size=1, max_size=3
    ),
    st.sampled_from([0, 60, 3600]),
)
def test_day_slice_matches_brute_force(data, times, tol):
    tz, _day, utcs = data
    ids = list(range(len(utcs)))
    sel = select_day_slice(ids, utcs, times, tz, tolerance=tol)
    if not utcs:
        assert sel.counts.targets == 0
        return
    lo, hi = utcs[0] - tol, utcs[-1] + tol
    expected = []
    for day in _days_around(lo, hi, tz):
        for text in sorted(set(times)):
            clock = time.fromisoformat(text)
            wall = datetime.combine(day, clock, tzinfo=tz)  # fold=0: the first occurrence
            back = datetime.fromtimestamp(wall.timestamp(), tz)
            if (
                back.replace(tzinfo=None) == wall.replace(tzinfo=None)
                and lo <= wall.timestamp() <= hi
            ):
                expected.append(wall.timestamp())
    expected.sort()
    assert list(sel.targets) == expected
    assert list(sel.positions) == ref_match(utcs, expected, tol)


@pytest.mark.parametrize(
    "fields",
    [
        {"day_of_week": "mon-fri", "hour": 9, "minute": "0,30"},
        {"day": "last", "hour": 12},
        {"month": 2, "day": 29, "hour": 0},
        {"week": "1,53", "hour": 6},
        {"day": "1st mon", "hour": 7},
        {"year": 2025, "month": "jun-aug", "day_of_week": "sun", "hour": "*/6"},
    ],
)
def test_day_fields_agree_with_apscheduler(fields):
    from apscheduler.triggers.cron import CronTrigger

    tz = ZoneInfo("Asia/Tokyo")
    first = datetime(2023, 12, 25, tzinfo=tz).timestamp()
    last = datetime(2025, 12, 31, 23, 59, 59, tzinfo=tz).timestamp()
    ours = cron_targets([CronRule(fields)], tz, first, last)
    trigger = CronTrigger(**fields, timezone=tz)
    theirs, fire = [], trigger.get_next_fire_time(None, datetime.fromtimestamp(first, tz))
    while fire is not None and fire.timestamp() <= last:
        theirs.append(fire.timestamp())
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert list(ours) == theirs and ours


# --- the Selection object: what it reports and how it loads frames ------------------------------


def _selection(loader=None, **kwargs) -> Selection:
    # 7 targets 10 s apart: a leading gap, frames 0-2 (frame 1 twice), two gaps, frame 3
    utcs = [10.0, 20.0, 40.0, 70.0]
    targets = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]
    positions = [-1, 0, 1, 1, 2, -1, -1, 3]
    return Selection("cron", [7, 8, 9, 10], utcs, targets, positions, UTC, loader=loader, **kwargs)


def test_summary_in_full():
    sel = _selection(tolerance=5.0)
    assert sel.summary() == {
        "kind": "cron",
        "targets": 8,
        "chosen": 4,
        "gaps": 3,
        "considered": 4,
        "first": "1970-01-01T00:00:10+00:00",
        "last": "1970-01-01T00:01:10+00:00",
        "fps": 24,
        "video_seconds": round(4 / 24, 3),
        "video_seconds_filled": round(7 / 24, 3),  # from the first frame on: 7 targets
    }
    assert (sel.summary(fps=3)["video_seconds"], sel.summary(fps=3)["video_seconds_filled"]) == (
        1.333,
        2.333,
    )
    assert sel.tolerance == 5.0 and _selection().tolerance == 0.0
    assert repr(sel) == "<Selection cron: 4 frames, 3 gaps of 8 targets, 4 considered>"
    empty = Selection("all", [], [], [], [], UTC)
    assert (empty.summary()["first"], empty.summary()["last"]) == (None, None)


def test_video_length_needs_a_positive_frame_rate():
    sel = _selection()
    assert sel.video_seconds() == 4 / 24
    for fps in (0, -1):
        with pytest.raises(SelectionError) as caught:
            sel.video_seconds(fps)
        assert str(caught.value) == f"fps: {fps} must be more than 0"


def test_a_run_can_start_on_any_frame():
    # frame 0 is never chosen: the first run starts on frame 1
    sel = Selection("t", [5, 6], [0.0, 10.0], [10.0, 20.0], [1, 1], UTC)
    assert sel.filled_ids() == [(6, 2)]


def test_a_day_slice_takes_a_repeated_wall_time_once():
    # 02:30 happened twice in Berlin on 27 October 2024: a slice takes the first (summer time)
    first = datetime(2024, 10, 27, 0, 30, tzinfo=UTC).timestamp()
    utcs = [first, first + 3600]
    sel = select_day_slice([1, 2], utcs, "02:30", BERLIN, tolerance=60)
    assert list(sel.targets) == [first] and sel.ids == [1]


def test_gap_runs_start_at_the_first_frame():
    # a frame at position 0 right after leading gaps starts the first run
    sel = Selection("t", [5, 6], [0.0, 10.0], [-10.0, 0.0, 5.0, 10.0], [-1, 0, 0, 1], UTC)
    assert sel.filled_ids() == [(5, 2), (6, 1)]
    assert _selection().filled_ids() == [(7, 1), (8, 2), (9, 3), (10, 1)]


def test_frames_load_in_batches_with_their_times():
    calls = []

    def loader(ids, utcs):
        calls.append((list(ids), list(utcs)))
        return [f"frame {i}" for i in ids]

    sel = _selection(loader)
    assert list(sel.iter_frames(batch=3)) == ["frame 7", "frame 8", "frame 9", "frame 10"]
    assert calls == [([7, 8, 9], [10.0, 20.0, 40.0]), ([10], [70.0])]
    assert list(sel) == ["frame 7", "frame 8", "frame 9", "frame 10"]  # default batch: one call
    assert len(calls) == 3
    assert sel.frames == ["frame 7", "frame 8", "frame 9", "frame 10"]
    calls.clear()
    assert list(sel.iter_frames(batch=1)) == sel.frames and calls == []  # loaded once, kept
    assert (sel.first, sel.last) == ("frame 7", "frame 10")
    with pytest.raises(SelectionError) as caught:
        _selection().frames  # noqa: B018 - the property loads
    assert str(caught.value) == "this selection has no index to load frames from"


def test_every_selection_keeps_its_kind_zone_loader_and_tolerance():
    tokyo = ZoneInfo("Asia/Tokyo")
    utcs = [datetime(2024, 5, 1, 12, m, tzinfo=tokyo).timestamp() for m in (0, 30)]
    ids = [1, 2]

    def loader(want_ids, want_utcs):
        return list(want_ids)

    made = [
        select_all(ids, utcs, tokyo, loader=loader),
        select_cron(ids, utcs, [CronRule({"minute": 0})], tokyo, tolerance=60, loader=loader),
        select_day_slice(ids, utcs, "12:00", tokyo, tolerance=60, loader=loader),
    ]
    assert [s.kind for s in made] == ["all", "cron", "day_slice"]
    assert [s.tolerance for s in made] == [0.0, 60.0, 60.0]
    assert [s.frames for s in made] == [[1, 2], [1], [1]]
    assert all(s.first_time.tzinfo is tokyo for s in made)
    assert list(made[0].targets) == utcs


def test_cron_selection_refusals():
    with pytest.raises(SelectionError) as caught:
        select_cron([1], [0.0], [], UTC)
    assert str(caught.value) == "give at least one cron rule"
    with pytest.raises(SelectionError) as caught:
        select_cron([1], [0.0], [{"hour": 1}], UTC, tolerance=timedelta(days=-1))
    assert str(caught.value) == (
        "tolerance: datetime.timedelta(days=-1) must be a finite number of seconds >= 0"
    )


def test_a_range_with_one_bound_and_no_frames_has_no_targets():
    for span in (DaySpan(0.0, None), DaySpan(None, 86400.0)):
        sel = select_cron([], [], [{"minute": 0}], UTC, span=span)
        assert (sel.counts.targets, len(sel)) == (0, 0)
    both = select_cron([], [], [{"minute": 0}], UTC, span=DaySpan(0.0, 7200.0))
    assert list(both.targets) == [0.0, 3600.0] and both.counts.gaps == 2
