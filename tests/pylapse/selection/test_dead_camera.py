"""The dead-camera rule: frozen runs, blank pictures and frames far darker than the day before,
on columns as the index holds them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pylapse.selection.dead_camera import (
    DAY_BEFORE_WINDOW,
    FROZEN_AFTER,
    DayBefore,
    Dead,
    dead_flags,
    far_darker,
    is_blank,
    same_picture,
)

F, B, A = Dead.FROZEN, Dead.BLANK, Dead.ALIVE


def test_same_picture_needs_the_grain_unmoved_when_both_frames_have_one():
    from pylapse.selection.dead_camera import SAME_GRAIN

    grain = 0x0F0F_0F0F_0F0F_0F0F
    near = grain ^ ((1 << SAME_GRAIN) - 1)  # SAME_GRAIN bits flipped: a clock drawn on
    assert same_picture(0, 120.0, 120.0, near, grain)
    assert not same_picture(0, 120.0, 120.0, near ^ (1 << 40), grain)  # one more: alive
    assert not same_picture(0, 120.0, 120.0, ~grain, grain)  # a live sensor's noise
    assert same_picture(0, 120.0, 120.0, -1, -1)  # signed, as stored
    assert not same_picture(0, 120.0, 121.0, grain, grain)  # the light moved
    assert same_picture(0, 120.0, 120.0, None, grain)  # scored before the grain: hash and luma


def test_same_picture_needs_the_hash_and_the_light_unmoved():
    assert same_picture(0, 120.0, 120.01)
    assert not same_picture(0, 120.0, 120.3)  # a still scene, live exposure
    assert not same_picture(1, 120.0, 120.0)
    assert not same_picture(None, 120.0, 120.0)  # never measured: not called frozen
    assert not same_picture(0, None, 120.0) and not same_picture(0, 120.0, None)


def test_blank_and_far_darker():
    assert is_blank(0.5) and not is_blank(2.0) and not is_blank(None)
    assert far_darker(20.0, 115.0)
    assert not far_darker(8.0, 12.0)  # a night frame after a night yesterday
    assert not far_darker(None, 115.0) and not far_darker(20.0, None)


def _local(
    day: int, hour: int, minute: int = 0, *, month: int = 3, offset_hours: int = 1
) -> tuple[float, float]:
    """(local seconds, UTC seconds) of a wall-clock time in 2026 in a zone at ``offset_hours``."""
    local = datetime(2026, month, day, hour, minute, tzinfo=UTC).timestamp()
    return local, local - offset_hours * 3600


def test_the_day_before_is_the_frame_nearest_the_same_local_time_within_the_window():
    assert DAY_BEFORE_WINDOW == 1800
    refs = DayBefore([
        (_local(1, 17, 40)[0], 100.0), (_local(1, 18, 20)[0], 120.0),
        (_local(1, 18, 0)[0], None),  # unmeasured: never a reference
    ])  # fmt: skip
    assert refs.luma(_local(2, 18)[0]) == 100.0  # 20 minutes either side: the earlier
    assert refs.luma(_local(2, 18, 15)[0]) == 120.0
    assert refs.luma(_local(2, 18, 50)[0]) == 120.0  # 30 minutes off: still in the window
    assert refs.luma(_local(2, 18, 51)[0]) is None and refs.luma(_local(2, 17, 9)[0]) is None
    at = [_local(2, 18, 15)[0], _local(2, 18, 15)[0], _local(2, 20)[0]]
    # under 35 % of 120 is far darker; nothing the day before: not dark
    assert refs.dark(at, [30.0, 50.0, 1.0]) == [True, False, False]
    assert refs.lumas([_local(2, h)[0] for h in (17, 18, 19)]) == [None, 100.0, None]
    nothing = DayBefore([])
    assert nothing.luma(_local(2, 18)[0]) is None and nothing.dark(at, [1.0] * 3) == [False] * 3


def test_across_a_dst_change_the_day_before_is_the_same_wall_clock_time():
    # Berlin, 25 October 2026: clocks go from +2 to +1, so yesterday's 18:00 is 25 hours of
    # UTC before today's 18:00; the frame 24 hours before is yesterday's 19:00, at night.
    y18, y19 = _local(24, 18, month=10, offset_hours=2), _local(24, 19, month=10, offset_hours=2)
    t18 = _local(25, 18, month=10, offset_hours=1)
    assert t18[1] - y19[1] == 86400  # what a UTC day before would take
    refs = DayBefore([(y18[0], 120.0), (y19[0], 15.0)])  # lit at 18:00, night at 19:00
    assert refs.luma(t18[0]) == 120.0
    assert refs.dark([t18[0]], [20.0]) == [True]  # a covered lens, not a night


def test_a_run_as_long_as_frozen_after_is_frozen_first_picture_included():
    assert FROZEN_AFTER == 5
    luma = [90.0, 120.0, 120.0, 120.0, 120.0, 120.0, 80.0]
    hd = [None, 12, 0, 0, 0, 0, 20]
    assert list(dead_flags(luma, [30.0] * 7, hd)) == [A, F, F, F, F, F, A]
    # one frame shorter: a camera that repeated itself four times is not frozen yet
    assert list(dead_flags([*luma[:5], 80.0], [30.0] * 6, [*hd[:5], 20])) == [A] * 6


def test_a_run_at_the_end_and_unmeasured_frames():
    luma = [50.0, 50.0, 50.0, None, 50.0, 50.0, 50.0, 50.0, 50.0]
    hd = [None, 0, 0, None, 7, 0, 0, 0, 0]
    contrast = [None, None, None, None, 30.0, 30.0, 30.0, 30.0, 30.0]
    # the unmeasured frame breaks the first run; the second one runs to the end
    assert list(dead_flags(luma, contrast, hd)) == [A, A, A, A, F, F, F, F, F]


def test_blank_wins_and_frozen_after_is_a_setting():
    luma = [3.0, 3.0, 3.0, 60.0]
    hd = [None, 0, 0, 30]
    contrast = [0.2, 0.2, 5.0, 20.0]
    assert list(dead_flags(luma, contrast, hd, frozen_after=3)) == [B, B, F, A]
    assert list(dead_flags(luma, contrast, hd)) == [B, B, A, A]


def test_columns_must_align():
    with pytest.raises(ValueError, match="columns of 2, 1 and 2 frames"):
        dead_flags([1.0, 2.0], [1.0], [0, 0])


def test_leave_out_removes_and_counts_by_reason():
    from pylapse.selection.dead_camera import leave_out, left_out_text

    ids, utcs = [10, 11, 12, 13, 14], [0.0, 1.0, 1.0, 3.0, 4.0]  # 11 and 12: the same instant
    dead = {12: (1.0, F), 14: (4.0, B), 99: (2.0, F), 98: (1.0, F)}
    kept_ids, kept_utcs, counts = leave_out(ids, utcs, dead)
    assert list(kept_ids) == [10, 11, 13] and list(kept_utcs) == [0.0, 1.0, 3.0]
    assert counts == {"frozen": 1, "blank": 1}  # 99 and 98 are no candidates: not counted
    assert leave_out(ids, utcs, {99: (2.0, F)}) == (ids, utcs, {})
    assert left_out_text(counts) == "1 frame from a frozen camera and 1 blank frame left out"
    assert left_out_text({"frozen": 12}) == "12 frames from a frozen camera left out"
    assert left_out_text({}) == ""


def test_settled_flags_leave_out_runs_that_may_go_on_beyond_the_window():
    from pylapse.selection.dead_camera import settled_flags

    # a run of three at each edge, a whole run of two inside, a blank frame
    luma = [50.0, 50.0, 50.0, 80.0, 80.0, 90.0, 60.0, 60.0, 60.0]
    hd = [0, 0, 0, 9, 0, 9, 9, 0, 0]
    contrast = [30.0] * 5 + [0.5] + [30.0] * 3
    flags, lo, hi = settled_flags(luma, contrast, hd, first=False, last=False)
    assert (lo, hi) == (3, 6) and list(flags[3:6]) == [A, A, B]
    # at the sequence's own ends the edge runs are whole (and short: alive)
    assert settled_flags(luma, contrast, hd, first=True, last=True)[1:] == (0, 9)
    # an edge run of frozen_after frames is frozen whatever lies beyond
    flags, lo, hi = settled_flags([50.0] * 6, [30.0] * 6, [0] * 6, first=False, last=False)
    assert (lo, hi) == (0, 6) and list(flags) == [F] * 6
    # one short run filling the window: nothing settled
    assert settled_flags([50.0] * 3, [30.0] * 3, [0] * 3, first=False, last=False)[1:] == (3, 3)


def test_leave_out_takes_dead_frames_as_columns_and_returns_array_columns():
    from array import array

    from pylapse.selection.dead_camera import DeadFrames, leave_out

    ids, utcs = array("q", range(10, 20)), array("d", (float(k) for k in range(10)))
    dead = DeadFrames(array("q", [12, 13, 19, 30]), array("d", [2.0, 3.0, 9.0, 20.0]),
                      bytes([F, F, B, F]))  # fmt: skip
    kept_ids, kept_utcs, counts = leave_out(ids, utcs, dead)
    assert list(kept_ids) == [10, 11, 14, 15, 16, 17, 18]
    assert list(kept_utcs) == [0.0, 1.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert isinstance(kept_ids, array) and kept_ids.typecode == "q"
    assert counts == {"frozen": 2, "blank": 1}  # 30 is past the candidates
    assert leave_out(ids, utcs, DeadFrames(array("q"), array("d"), b"")) == (ids, utcs, {})
