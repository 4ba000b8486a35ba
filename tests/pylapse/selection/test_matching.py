"""The block fast path of nearest-frame matching against a brute-force reference."""

from __future__ import annotations

import math
import random
from array import array
from contextlib import contextmanager
from datetime import UTC, datetime
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylapse.selection import matching
from pylapse.selection.matching import Matched, distinct_positions, match, match_nearest
from pylapse.selection.selection import Selection, select_all, select_cron
from tests.pylapse.reference import ref_match

BASE = 1_735_686_000.0  # 2025-01-01 00:00 Berlin


@contextmanager
def small_blocks(block, min_block):
    """Blocks of a few targets, so small examples go through splitting and merging too."""
    with (
        mock.patch.object(matching, "_BLOCK", block),
        mock.patch.object(matching, "_MIN_BLOCK", min_block),
    ):
        yield


@contextmanager
def counting_blocks():
    """Counts the blocks the fast path proved (so a test can show it ran)."""
    real = matching._block
    proved = []

    def spy(*args):
        s = real(*args)
        if s >= 0:
            proved.append(args[4] - args[3])
        return s

    with mock.patch.object(matching, "_block", spy):
        yield proved


@st.composite
def cadences(draw):
    """A camera at a cadence with jitter, missing runs, double captures and bursts, and a
    regular target grid at the same, a finer or a coarser step."""
    cadence = draw(st.sampled_from([1.0, 2.5, 10.0]))
    count = draw(st.integers(0, 160))
    phase = draw(st.one_of(st.floats(-cadence, cadence), st.sampled_from([0.5, -0.5, 0.25])))
    phase = phase * cadence if abs(phase) < 1 else phase  # exact half-steps: ties
    spread = draw(st.sampled_from([0.0, 0.1, 0.4, 0.5, 1.0, 1.5])) * cadence
    rng = random.Random(draw(st.integers(0, 2**32)))
    utcs = [BASE + k * cadence + phase + rng.uniform(-spread, spread) for k in range(count)]
    for start, length in draw(st.lists(st.tuples(st.integers(0, 160), st.integers(1, 30)))):
        utcs[start : start + length] = []  # an outage
    extra = draw(st.lists(st.integers(0, max(0, len(utcs) - 1)), max_size=4))
    utcs += [utcs[i] for i in extra if utcs]  # several frames at one instant
    utcs += [utcs[i] + 0.25 for i in extra[:2] if utcs]  # a burst
    utcs.sort()
    step = cadence * draw(st.sampled_from([1, 1, 1, 0.5, 2, 3]))
    offset = draw(st.sampled_from([0.0, 0.5, 0.25])) * step
    first = draw(st.integers(-5, 5))
    targets = [BASE + offset + k * step for k in range(first, first + draw(st.integers(0, 200)))]
    for start, length in draw(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)))):
        targets[start : start + length] = []  # days the rule skips: uneven target spacing
    tol = draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0, 100.0])) * cadence
    return utcs, targets, tol, step


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cadences(), st.sampled_from([(8, 2), (16, 4), (256, 32)]), st.booleans())
def test_blocks_match_brute_force(case, blocks, hint):
    utcs, targets, tol, step = case
    with small_blocks(*blocks):
        found = match(utcs, targets, tol, spacing=step if hint else None)
    expected = ref_match(utcs, targets, tol)
    assert list(found.positions) == expected
    assert list(found.chosen) == list(distinct_positions(expected))
    assert found.chosen_count == len(set(expected) - {-1})
    assert found.gaps == expected.count(-1)
    assert found.first_chosen() == next((p for p in expected if p >= 0), None)
    assert found.last_chosen() == max((p for p in expected if p >= 0), default=None)
    gap_at = [i for i, p in enumerate(expected) if p < 0]
    assert list(found.gap_indices()) == gap_at
    hits = [i for i, p in enumerate(expected) if p >= 0]
    assert found.leading_gaps() == (hits[0] if hits else len(expected))
    assert found.trailing_gaps() == (len(expected) - 1 - hits[-1] if hits else len(expected))


def test_a_regular_camera_takes_the_block_path():
    rng = random.Random(3)
    utcs = [BASE + 10 * k + rng.uniform(0, 2) for k in range(700)]
    del utcs[300:303]  # a short outage: the blocks around it are split, then merged
    targets = [BASE + 10 * k for k in range(700)]
    with counting_blocks() as proved:
        found = match(utcs, targets, 300.0)
    assert sum(proved) >= 600  # most targets in proven blocks
    assert list(found.positions) == ref_match(utcs, targets, 300.0)


def test_blocks_refuse_what_they_cannot_prove():
    utcs = [0.0, 10.0, 20.0, 25.0, 30.0, 40.0]  # 25 is as near to 20/30 targets as 20 and 30
    targets = [0.0, 10.0, 20.0, 30.0, 40.0]
    with small_blocks(4, 2):
        assert list(match_nearest(utcs, targets, 5.0)) == ref_match(utcs, targets, 5.0)
    # frames just outside the tolerance: gaps, not the block's pairing
    utcs = [k * 10.0 + 2.5 for k in range(64)]
    assert list(match_nearest(utcs, [k * 10.0 for k in range(64)], 2.4)) == [-1] * 64
    assert list(match_nearest(utcs, [k * 10.0 for k in range(64)], 2.5)) == list(range(64))


def test_near_ties_stay_exact_at_real_magnitudes():
    # frames exactly (or within a millionth of a second of) halfway between targets: the
    # block bounds must not decide these ties, the reference rule does
    utcs = [BASE + 10 * k + 5.0 for k in range(100)]
    targets = [BASE + 10 * k for k in range(100)]
    assert list(match_nearest(utcs, targets, 5.0)) == ref_match(utcs, targets, 5.0)
    utcs = [BASE + 10 * k + 4.999999 for k in range(100)]
    assert list(match_nearest(utcs, targets, 5.0)) == ref_match(utcs, targets, 5.0)


def test_a_tie_with_the_previous_frame_is_not_proven_for_the_block():
    # Target spacing 10 with a jump: a frame 5 s after each target is exactly as far from the
    # next target as that target's own frame, and the earlier frame wins the tie.
    targets = [10.0 * k for k in range(40)] + [1000.0 + 10 * k for k in range(40)]
    utcs = [t + 5 for t in targets]
    for hint in (None, 10.0):
        assert list(match(utcs, targets, 5.0, spacing=hint).positions) == ref_match(
            utcs, targets, 5.0
        )


def test_lazy_selection_equals_one_built_from_positions():
    rng = random.Random(11)
    utcs = sorted(BASE + 60 * k + rng.uniform(-8, 8) for k in range(2000) if k % 97 not in (3, 4))
    ids = list(range(500, 500 + len(utcs)))
    sel = select_cron(ids, utcs, [{"minute": "*"}], UTC, tolerance=20)
    plain = Selection(
        "cron", ids, utcs, sel.targets, list(sel.positions), UTC, tolerance=20
    )  # positions given: everything derived eagerly
    assert list(sel.positions) == ref_match(utcs, list(sel.targets), 20)
    assert sel.counts == plain.counts and sel.counts.gaps > 0
    assert sel.ids == plain.ids and sel.utcs == plain.utcs
    assert sel.gap_utcs == plain.gap_utcs
    assert sel.first_time == plain.first_time and sel.last_time == plain.last_time
    assert sel.filled_ids() == plain.filled_ids()
    assert sel.video_seconds(24, fill_gaps=True) == sum(n for _, n in plain.filled_ids()) / 24
    assert sel.summary() == plain.summary()


def test_leading_gaps_are_not_filled():
    m = Matched(positions=array("q", [-1, -1, 0, -1, 1]))
    sel = Selection("t", [7, 8], [10.0, 30.0], [0.0, 5.0, 10.0, 20.0, 30.0], m, UTC)
    assert sel.video_seconds(1, fill_gaps=True) == 3 and sel.filled_ids() == [(7, 2), (8, 1)]
    assert m.leading_gaps() == 2


def test_a_camera_that_started_late_and_died_early():
    utcs = [BASE + 10 * k for k in range(500, 520)]  # frames only in the middle
    targets = [BASE + 10 * k for k in range(100_000)]
    sel = Selection("t", list(range(20)), utcs, targets, match(utcs, targets, 1.0), UTC)
    assert sel.counts.gaps == 100_000 - 20 and sel.counts.chosen == 20
    assert sel.first_time == datetime.fromtimestamp(utcs[0], UTC)
    assert sel.last_time == datetime.fromtimestamp(utcs[-1], UTC)
    assert sel.video_seconds(1, fill_gaps=True) == 100_000 - 500
    assert sel.gaps[:2] == [datetime.fromtimestamp(t, UTC) for t in targets[:2]]
    assert len(sel.gap_utcs) == sel.counts.gaps


def test_select_all_needs_no_matching():
    utcs = [BASE + k for k in range(10)]
    sel = select_all(list(range(10)), utcs, UTC)
    assert list(sel.positions) == list(range(10)) and sel.gap_utcs == []
    assert sel.counts.chosen == 10 and len(sel) == 10
    assert sel.first_time == datetime.fromtimestamp(BASE, UTC)
    assert sel.last_time == datetime.fromtimestamp(BASE + 9, UTC)
    assert select_all([], [], UTC).first_time is None


# --- edges the random cases rarely reach ---------------------------------------------------------


def test_three_or_more_frames_at_one_instant_give_the_first_of_them():
    utcs = [10.0, 20.0, 20.0, 20.0, 30.0]
    targets = [19.0, 20.0, 21.0, 25.0]  # 25 is a tie between 20 and 30: the earlier frame
    assert ref_match(utcs, targets, 10.0) == [1, 1, 1, 1]
    found = match(utcs, targets, 10.0)
    assert list(found.positions) == [1, 1, 1, 1]
    assert found.chosen_count == 1 and list(found.chosen) == [1]
    # four at the very start, reached from before (after) and from after (before) the instant
    utcs = [10.0, 10.0, 10.0, 10.0, 50.0]
    assert list(match(utcs, [5.0, 12.0, 30.0], 20.0).positions) == [0, 0, 0]
    # and a run of equal frames inside a long regular stretch
    utcs = [float(k) for k in range(100)] + [100.0] * 5 + [float(k) for k in range(101, 300)]
    targets = [float(k) for k in range(300)]
    for blocks in ((8, 2), (256, 32)):
        with small_blocks(*blocks):
            assert list(match(utcs, targets, 0.5).positions) == ref_match(utcs, targets, 0.5)


def _check_shared_frame(utcs, targets, tol, blocks):
    expected = ref_match(utcs, targets, tol)
    with small_blocks(*blocks), counting_blocks() as proved:
        found = match(utcs, targets, tol)
    assert proved  # some block was proven: the boundary is between a block and a merge
    assert list(found.positions) == expected
    assert found.chosen_count == len(set(expected) - {-1})  # the shared frame counted once
    assert Selection("t", list(range(len(utcs))), utcs, targets, found, UTC).counts.chosen == (
        found.chosen_count
    )


@pytest.mark.parametrize("blocks", [(8, 2), (2, 1)])
def test_a_frame_shared_across_a_block_boundary_is_counted_once(blocks):
    # Targets every 10 s. The frame for 70 is missing and the one for 80 is early (75.1):
    # targets 70 and 80 both take it. The block holding 70 cannot be proven (merged); the
    # next one starts on the frame the merge ended on.
    targets = [10.0 * k for k in range(16)]
    utcs = [t for t in targets if t not in (70.0, 80.0)] + [75.1]
    utcs.sort()
    assert ref_match(utcs, targets, 6.0)[7:9] == [7, 7]
    _check_shared_frame(utcs, targets, 6.0, blocks)
    # the other way round: a proven block ends on a late frame (74.9) that the first target of
    # the next, merged block shares (its own frame, 80, is missing)
    utcs = [t for t in targets if t not in (70.0, 80.0)] + [74.9]
    utcs.sort()
    assert ref_match(utcs, targets, 6.0)[7:9] == [7, 7]
    _check_shared_frame(utcs, targets, 6.0, blocks)


def test_a_two_target_block_that_starts_on_the_frame_just_chosen():
    # Blocks of 4 (halves of 2): 60/70 cannot be proven (70's frame is missing, 75.1 serves
    # it), 80-110 cannot either (110's frame is missing) and splits; its first half, 80/90, is
    # proven starting on 75.1, the frame the merge ended on: only 90 is new.
    targets = [10.0 * k for k in range(16)]
    utcs = sorted([t for t in targets if t not in (70.0, 80.0, 110.0)] + [75.1])
    expected = ref_match(utcs, targets, 6.0)
    assert expected[6:10] == [6, 7, 7, 8]
    with small_blocks(4, 1), counting_blocks() as proved:
        found = match(utcs, targets, 6.0)
    assert 2 in proved
    assert list(found.positions) == expected
    assert found.chosen_count == len(set(expected) - {-1})


def test_first_and_last_chosen_on_a_fresh_result():
    # first/last chosen are found from the gaps alone; each call on a result nobody read yet
    utcs = [BASE + 10 * k for k in range(50, 60)]
    targets = [BASE + 10 * k for k in range(100)]
    for call, want in [
        (lambda m: m.first_chosen(), 0),
        (lambda m: m.last_chosen(), 9),
        (lambda m: m.leading_gaps(), 50),
        (lambda m: m.trailing_gaps(), 40),
        (lambda m: m.position(50), 0),
        (lambda m: m.position(-41), 9),
        (lambda m: m.position(-1), -1),
        (lambda m: list(m.gap_indices()), [*range(50), *range(60, 100)]),
    ]:
        assert call(match(utcs, targets, 1.0)) == want
    only_first = match([BASE], [BASE, BASE + 10, BASE + 20], 1.0)  # target 0 alone has one
    assert (only_first.first_chosen(), only_first.last_chosen()) == (0, 0)
    none = match(utcs, [BASE, BASE + 1], 1.0)  # no target has a frame
    assert (none.first_chosen(), none.last_chosen(), none.chosen_count) == (None, None, 0)
    assert (none.leading_gaps(), none.trailing_gaps()) == (2, 2)
    full = match(utcs, utcs, 0.0)  # every target has its own frame: no gaps at all
    assert (full.first_chosen(), full.last_chosen(), full.leading_gaps()) == (0, 9, 0)
    assert full.trailing_gaps() == 0 and full.gaps == 0
    empty = match([], [], 1.0)
    assert (empty.first_chosen(), empty.last_chosen(), empty.count) == (None, None, 0)


def test_matched_from_positions_says_the_same():
    m = Matched(positions=array("q", [-1, 2, 2, -1, 5, -1]))
    assert (m.chosen_count, m.gaps, list(m.chosen)) == (2, 3, [2, 5])
    assert (m.first_chosen(), m.last_chosen()) == (2, 5)
    assert (m.leading_gaps(), m.trailing_gaps(), m.position(-2)) == (1, 1, 5)
    assert list(m.gap_indices()) == [0, 3, 5]


def test_matched_needs_one_kind_of_positions():
    for kwargs in ({}, {"rel": array("q"), "positions": []}):
        with pytest.raises(ValueError, match=r"^give rel or positions$"):
            Matched(**kwargs)
    for kwargs in ({"chosen_count": 0}, {"gap_at": []}, {}):
        with pytest.raises(ValueError, match=r"^relative positions need chosen_count and gap_at$"):
            Matched(rel=array("q"), **kwargs)


@st.composite
def uneven_grids(draw):
    """Targets on a 10 s grid with some short steps (down to 1 s) and some long ones (skipped
    targets), one frame near each target. Most frames sit close to their target, so most blocks
    can be proven; around the short steps frames sit up to half the local step away, where a
    block that measured its spacing wrongly (too large) would pair a target with the wrong frame.
    """
    count = draw(st.integers(40, 300))
    steps = draw(
        st.lists(
            st.sampled_from([10.0] * 40 + [1.0, 2.5, 3.0, 5.0, 7.5, 20.0, 30.0]),
            min_size=count - 1,
            max_size=count - 1,
        )
    )
    targets = [BASE]
    for step in steps:
        targets.append(targets[-1] + step)
    rng = random.Random(draw(st.integers(0, 2**32)))
    shifts = [0.0, 0.0, 0.0, 0.05, -0.05, 0.4, -0.4, 0.45, -0.45, 0.5, -0.5]
    utcs = []
    for i, t in enumerate(targets):
        local = min(steps[i - 1] if i > 0 else math.inf, steps[i] if i < len(steps) else math.inf)
        near = local < 10.0 or rng.random() < 0.05
        utcs.append(t + (rng.choice(shifts) * local if near else rng.uniform(-0.1, 0.1)))
    utcs.sort()
    tol = draw(st.sampled_from([0.5, 2.0, 5.0, 100.0]))
    return utcs, targets, tol, min(steps)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uneven_grids(), st.sampled_from([(8, 2), (16, 4), (32, 8)]), st.booleans())
def test_blocks_on_uneven_target_spacing_equal_the_plain_merge(case, blocks, hint):
    utcs, targets, tol, spacing = case
    expected = ref_match(utcs, targets, tol)
    with small_blocks(*blocks):
        found = match(utcs, targets, tol, spacing=spacing if hint else None)
    with mock.patch.object(matching, "_block", lambda *args: matching._MERGE):
        plain = match(utcs, targets, tol)  # the forward merge alone, one target at a time
    assert list(plain.positions) == expected
    assert list(found.positions) == expected
    assert found.chosen_count == plain.chosen_count == len(set(expected) - {-1})
    assert list(found.gap_indices()) == list(plain.gap_indices())


def test_uneven_grids_reach_the_block_path():
    # the strategy above is only worth its name if blocks are proven on most of its inputs
    proven = []

    @settings(max_examples=40, deadline=None, database=None)
    @given(uneven_grids())
    def run(case):
        utcs, targets, _tol, _spacing = case
        with small_blocks(16, 4), counting_blocks() as proved:
            match(utcs, targets, 100.0)
        proven.append(sum(proved) / len(targets))

    run()
    assert sum(p > 0.3 for p in proven) >= len(proven) // 2
