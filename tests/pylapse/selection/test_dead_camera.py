"""The dead-camera rule: frozen runs and blank pictures, on columns as the index holds them."""

from __future__ import annotations

import pytest

from pylapse.selection.dead_camera import (
    FROZEN_AFTER,
    Dead,
    dead_flags,
    far_darker,
    is_blank,
    same_picture,
)

F, B, A = Dead.FROZEN, Dead.BLANK, Dead.ALIVE


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
