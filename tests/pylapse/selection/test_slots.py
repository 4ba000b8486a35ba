"""The slot grid's locked-cadence rule on jittered cadences, gaps, bursts and ranges."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylapse.selection.slots import assign_slots, select_slot_grid
from pylapse.selection.targets import DaySpan, SelectionError, resolve_range

W = 10.0
BASE = 1_700_000_000.0  # a multiple of 10: slot number BASE / W


def _frames(phase, jitters, missing=frozenset()):
    """Frame k at BASE + k*W + phase + jitter_k, frames in ``missing`` not captured."""
    return [(k, BASE + k * W + phase + j) for k, j in enumerate(jitters) if k not in missing]


@st.composite
def jittered(draw, max_phase):
    count = draw(st.integers(3, 300))
    phase = draw(st.floats(-max_phase, max_phase))
    jitters = draw(st.lists(st.floats(-1.0, 1.0), min_size=count, max_size=count))
    # missing runs of at least two frames (a single missing frame is treated in its own test)
    missing = set()
    for start, length in draw(
        st.lists(st.tuples(st.integers(1, count - 2), st.integers(2, 12)), max_size=4)
    ):
        run = range(start, min(start + length, count - 1))
        if len(run) >= 2:
            missing.update(run)
    return phase, jitters, missing


@settings(max_examples=150, deadline=None)
@given(jittered(max_phase=W / 2 - 1.5))
def test_each_slot_gets_its_frame_and_gaps_stay_empty(case):
    phase, jitters, missing = case
    frames = _frames(phase, jitters, missing)
    utcs = [u for _, u in frames]
    sel = select_slot_grid(list(range(len(utcs))), utcs, UTC)
    first_slot = round(BASE / W)
    # slot k holds frame k exactly; every missing frame is a gap; nothing doubled or dropped
    expected = {first_slot + k: i for i, (k, _) in enumerate(frames)}
    got = {round(t / W): p for t, p in zip(sel.targets, sel.positions, strict=True) if p >= 0}
    assert got == expected
    assert sel.counts.gaps == len(missing)
    assert sel.counts.targets == len(jitters)
    assert len(sel) == len(frames)


@settings(max_examples=100, deadline=None)
@given(st.integers(20, 400), st.floats(4.0, 6.0), st.integers(0, 2**32))
def test_frames_near_the_half_slot_point_neither_skip_nor_double(count, phase, seed):
    rng = random.Random(seed)
    utcs = [BASE + k * W + phase + rng.uniform(-1.0, 1.0) for k in range(count)]  # 8-12 s apart
    slots, placed = assign_slots(utcs, W)
    assert placed == list(range(count))  # every frame placed
    assert slots == list(range(slots[0], slots[0] + count))  # consecutive: no skip, no double


def test_plain_rounding_would_skip_and_double_here():
    """The case the locked cadence exists for (keeps the test above honest)."""
    utcs = [BASE + k * W + 5 + (0.3 if k % 2 else -0.3) for k in range(10)]
    rounded = [math.floor(u / W + 0.5) for u in utcs]
    assert len(set(rounded)) < len(rounded)  # rounding doubles
    slots, _ = assign_slots(utcs, W)
    assert slots == list(range(slots[0], slots[0] + 10))


def test_jittery_9_to_11_second_spacing():
    rng = random.Random(7)
    t, utcs = BASE + 3.0, []
    for _ in range(5000):
        utcs.append(t)
        t += rng.uniform(9.0, 11.0)
        t += (BASE + len(utcs) * W + 3.0 - t) * 0.5  # a camera clock that keeps to its schedule
    slots, _ = assign_slots(utcs, W)
    assert slots == list(range(slots[0], slots[0] + len(utcs)))


def test_double_captures_are_surplus():
    utcs = [BASE, BASE + 0.2, BASE + 0.2, BASE + 10, BASE + 19.8, BASE + 20.1, BASE + 30]
    sel = select_slot_grid(list(range(7)), utcs, UTC)
    assert sel.ids == [0, 3, 4, 6]
    assert sel.counts.gaps == 0 and sel.counts.targets == 4


def test_single_missing_frame_on_time_is_a_gap():
    utcs = [BASE + k * W for k in (0, 1, 2, 4, 5)]
    sel = select_slot_grid(list(range(5)), utcs, UTC)
    assert [round(g.timestamp() - BASE) for g in sel.gaps] == [30]
    assert sel.counts.targets == 6


def test_range_adds_leading_and_trailing_gaps_and_drops_outside_frames():
    start = datetime.fromtimestamp(BASE, UTC)
    utcs = [BASE - 10, BASE + 20, BASE + 30]
    span = resolve_range(start, datetime.fromtimestamp(BASE + 50, UTC), UTC)
    sel = select_slot_grid([1, 2, 3], utcs, UTC, span=span)
    assert sel.counts.targets == 6  # slots at +0 .. +50, inclusive end
    assert sel.ids == [2, 3]
    assert [round(g.timestamp() - BASE) for g in sel.gaps] == [0, 10, 40, 50]


def test_width_and_origin():
    utcs = [BASE + 7 + k * 60 for k in range(5)]
    sel = select_slot_grid(list(range(5)), utcs, UTC, width=60, origin=BASE + 7)
    assert sel.counts.gaps == 0 and len(sel) == 5
    assert list(sel.targets) == utcs
    with pytest.raises(SelectionError, match="slot width"):
        select_slot_grid([], [], UTC, width=0)


def test_empty():
    sel = select_slot_grid([], [], UTC)
    assert sel.counts.targets == 0 and len(sel) == 0 and sel.first_time is None


def _reference_grid(utcs, w, o, span):
    """The slot grid from :func:`assign_slots`, filled slot by slot (the plain algorithm)."""
    slots, placed = assign_slots(utcs, w, o)
    k_lo, k_hi = (slots[0], slots[-1]) if slots else (0, -1)
    if span.start is not None:
        k_lo = math.ceil((span.start - o) / w)
    if span.stop is not None:
        k_hi = math.ceil((span.stop - o) / w) - 1
    positions = [-1] * max(0, k_hi - k_lo + 1)
    for slot, pos in zip(slots, placed, strict=True):
        if k_lo <= slot <= k_hi:
            positions[slot - k_lo] = pos
    return [o + w * k for k in range(k_lo, k_lo + len(positions))], positions


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(0, 400), max_size=80),
    st.sampled_from([1.0, 7.5, 10.0]),
    st.sampled_from([0.0, 3.0]),
    st.tuples(st.none() | st.floats(-20, 420), st.none() | st.floats(-20, 420)),
)
def test_grid_equals_slot_by_slot_reference(offsets, w, o, bounds):
    utcs = sorted(BASE + x for x in offsets + offsets[:3])  # a few double captures
    start, stop = (None if b is None else BASE + b for b in bounds)
    if start is not None and stop is not None and stop <= start:
        start, stop = stop, start + 1
    span = DaySpan(start, stop)
    ids = list(range(len(utcs)))
    sel = select_slot_grid(ids, utcs, UTC, width=w, origin=BASE + o, span=span)
    inside = [u for u in utcs if (start is None or u >= start) and (stop is None or u < stop)]
    targets, positions = _reference_grid(inside, w, BASE + o, span)
    assert list(sel.targets) == targets and list(sel.positions) == positions
    assert [sel.targets[i] for i in range(-len(targets), len(targets))] == targets + targets
    assert sel.targets[1:4] == targets[1:4]
    assert sel.counts.gaps == positions.count(-1)
    assert sel.counts.chosen == len(positions) - positions.count(-1) == len(sel.ids)


def test_a_year_long_outage_is_refused_before_allocating():
    with pytest.raises(SelectionError, match="narrow the date range or widen the slots"):
        select_slot_grid([1, 2], [BASE, BASE + 10 * 365 * 86400], UTC, width=1)


# --- the rule's edges, each checked against the module's written rule ----------------------------


def _slots_from(utcs, width=W, origin=0.0):
    """``assign_slots`` with slot numbers relative to BASE (slot 0 is the instant BASE)."""
    slots, placed = assign_slots(utcs, width, origin)
    return [s - round(BASE / width) for s in slots], placed


def test_a_camera_faster_than_the_slots_keeps_filling_after_a_surplus_frame():
    # Frames at +0, +6, +12, +17, +30 on 10 s slots. +0 locks slot 0; +6 and +12 follow
    # (within one width of the next slot: slots 1 and 2); +17 is a full width before slot 3
    # (d = -1.3), so at or before the filled slot 2: surplus. +30 follows on into slot 3.
    utcs = [BASE + s for s in (0, 6, 12, 17, 30)]
    assert _slots_from(utcs) == ([0, 1, 2, 3], [0, 1, 2, 4])
    sel = select_slot_grid([10, 11, 12, 13, 14], utcs, UTC)
    assert sel.ids == [10, 11, 12, 14]  # the grid goes on past the surplus frame
    assert list(sel.targets) == [BASE, BASE + 10, BASE + 20, BASE + 30]
    assert sel.counts.gaps == 0


def test_the_resynchronise_boundary_is_exactly_one_slot_width():
    # Locked on slot 0; the next slot is 1. A frame exactly one width past it (x = 2, d = 1)
    # resynchronises: it rounds to slot 2 and slot 1 stays a gap.
    assert _slots_from([BASE, BASE + 20]) == ([0, 2], [0, 1])
    # Just inside one width (d = 0.99) it follows into slot 1, though it would round to 2.
    assert _slots_from([BASE, BASE + 19.9]) == ([0, 1], [0, 1])
    # Exactly one width before the next slot (d = -1): at the filled slot, surplus. The frame at
    # +5 rounds half up to slot 1; +10 is half a width later (not a double capture) but sits on
    # slot 1 itself; +20 follows into slot 2.
    assert _slots_from([BASE + 5, BASE + 10, BASE + 20]) == ([1, 2], [0, 2])
    assert select_slot_grid([7, 8, 9], [BASE + 5, BASE + 10, BASE + 20], UTC).ids == [7, 9]
    sel = select_slot_grid([1, 2], [BASE, BASE + 20], UTC)
    assert [round(g.timestamp() - BASE) for g in sel.gaps] == [10]


def test_exactly_half_a_slot_apart_is_not_a_double_capture():
    # "less than half a slot width after the frame placed just before it" is surplus; half is not
    assert _slots_from([BASE, BASE + 5]) == ([0, 1], [0, 1])
    assert _slots_from([BASE, BASE + 4.999]) == ([0], [0])
    assert select_slot_grid([1, 2], [BASE, BASE + 5], UTC).ids == [1, 2]


def test_the_first_frame_rounds_half_up_from_the_epoch():
    # origin defaults to the Unix epoch: 10 s slots on :00, :10, ...; x = 0.5 rounds up
    first = round(BASE / W)
    assert assign_slots([BASE + 5], W) == ([first + 1], [0])  # no origin given: the epoch
    assert assign_slots([BASE + 4.9], W) == ([first], [0])
    assert _slots_from([BASE + 5], origin=3.0) == ([0], [0])  # x = 0.2 from the origin


@pytest.mark.parametrize("width", [0, -10.0])
def test_assign_slots_refuses_a_width_that_is_not_positive(width):
    with pytest.raises(SelectionError, match=rf"^slot width: {width!r} must be more than 0 s"):
        assign_slots([BASE], width)


@pytest.mark.parametrize(
    ("width", "message"),
    [
        (0, r"^slot width: 0 must be more than 0 seconds$"),
        (-1, r"^slot width: -1 must be a finite number of seconds >= 0$"),
        (math.inf, r"^slot width: inf must be a finite number of seconds >= 0$"),
    ],
)
def test_select_slot_grid_names_the_bad_width(width, message):
    with pytest.raises(SelectionError, match=message):
        select_slot_grid([1], [BASE], UTC, width=width)


def test_origin_as_a_datetime_is_the_same_instant_as_seconds():
    from zoneinfo import ZoneInfo

    utcs = [BASE + 7 + k * 60 for k in range(4)]
    origin = datetime.fromtimestamp(BASE + 7, ZoneInfo("Asia/Kathmandu"))  # +05:45: any zone
    sel = select_slot_grid(list(range(4)), utcs, UTC, width=timedelta(minutes=1), origin=origin)
    assert list(sel.targets) == utcs and sel.ids == [0, 1, 2, 3]
    # the same grid from the number of seconds, and a different one from the default origin
    assert list(select_slot_grid([0], utcs[:1], UTC, width=60, origin=BASE + 7).targets) == [
        BASE + 7
    ]
    (epoch_slot,) = select_slot_grid([0], utcs[:1], UTC, width=60).targets
    assert epoch_slot % 60 == 0 and abs(epoch_slot - (BASE + 7)) <= 30


def test_a_frame_inside_the_range_whose_slot_lies_past_its_end():
    # Slots at +0, +10, +20; the range ends at +19 (inclusive), so its last slot is +10. The
    # frame at +18 is inside the range but follows into slot +20: outside the grid, not chosen.
    utcs = [BASE, BASE + 10, BASE + 18]
    span = resolve_range(
        datetime.fromtimestamp(BASE, UTC), datetime.fromtimestamp(BASE + 19, UTC), UTC
    )
    sel = select_slot_grid([1, 2, 3], utcs, UTC, span=span)
    assert list(sel.targets) == [BASE, BASE + 10]
    assert sel.ids == [1, 2] and list(sel.positions) == [0, 1]
    assert sel.counts == type(sel.counts)(targets=2, chosen=2, gaps=0, considered=3)


def test_a_range_whose_only_frame_rounds_past_its_end():
    # The range ends at +19 (last slot +10); its one frame, at +18.5, rounds to slot +20.
    span = resolve_range(
        datetime.fromtimestamp(BASE, UTC), datetime.fromtimestamp(BASE + 19, UTC), UTC
    )
    sel = select_slot_grid([1], [BASE + 18.5], UTC, span=span)
    assert list(sel.targets) == [BASE, BASE + 10]
    assert list(sel.positions) == [-1, -1] and sel.ids == []


def test_a_frame_whose_slot_lies_before_the_range_start():
    # The range starts at +3: its first slot is +10. The frame at +4 rounds to slot +0.
    utcs = [BASE + 4, BASE + 14, BASE + 24]
    span = DaySpan(BASE + 3, BASE + 30)
    sel = select_slot_grid([1, 2, 3], utcs, UTC, span=span)
    assert list(sel.targets) == [BASE + 10, BASE + 20]
    assert sel.ids == [2, 3]


def test_the_slot_selection_is_complete():
    sel = select_slot_grid([5, 6], [BASE, BASE + 20], UTC, width=10)
    assert sel.kind == "slot_grid" and sel.tolerance == 10
    assert sel.summary()["kind"] == "slot_grid"
    assert sel.gaps[0] == datetime.fromtimestamp(BASE + 10, UTC) and sel.gaps[0].tzinfo is UTC
    assert sel.first_time.tzinfo is UTC
    loaded = []
    sel = select_slot_grid(
        [5, 6], [BASE, BASE + 20], UTC, loader=lambda ids, utcs: loaded.append(ids) or ids
    )
    assert sel.frames == [5, 6] and loaded == [[5, 6]]


def test_slot_instants_index_like_a_list():
    sel = select_slot_grid([1, 2, 3], [BASE, BASE + 10, BASE + 20], UTC)
    n = len(sel.targets)
    assert sel.targets[-n] == BASE and sel.targets[n - 1] == BASE + 20
    for bad in (n, -n - 1):
        with pytest.raises(IndexError, match=r"^slot index out of range$"):
            sel.targets[bad]
    assert repr(sel.targets) == f"<3 slots of 10 s from {BASE}>"
    assert repr(
        select_slot_grid([], [], UTC, width=2.5, origin=1.0, span=DaySpan(2, 9)).targets
    ) == ("<3 slots of 2.5 s from 3.5>")


def test_too_many_slots_over_a_range_are_refused_with_the_count():
    span = resolve_range("2024-01-01", "2024-12-31", UTC)  # 366 days of 1-second slots
    with pytest.raises(SelectionError) as caught:
        select_slot_grid([], [], UTC, width=1, span=span)
    assert str(caught.value) == (
        "31,622,400 slots of 1 s is more than 15,000,000; narrow the date range or widen the slots"
    )


def test_the_slot_limit_is_inclusive(monkeypatch):
    from pylapse.selection import slots

    monkeypatch.setattr(slots, "MAX_TARGETS", 10)  # the name _check_count reads
    # a range of exactly 10 slots is allowed, 11 are not
    assert len(select_slot_grid([], [], UTC, span=DaySpan(BASE, BASE + 100)).targets) == 10
    with pytest.raises(SelectionError, match=r"^11 slots of 10 s is more than 10;"):
        select_slot_grid([], [], UTC, span=DaySpan(BASE, BASE + 101))
    # an outage: frames in slots 0 and 9 make 10 slots; slots 0 and 10 make 11
    assert len(select_slot_grid([1, 2], [BASE, BASE + 90], UTC).targets) == 10
    with pytest.raises(SelectionError, match=r"^11 slots of 10 s is more than 10;"):
        select_slot_grid([1, 2], [BASE, BASE + 100], UTC)
