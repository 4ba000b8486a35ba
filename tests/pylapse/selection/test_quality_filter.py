"""Quality filters at selection time: generated frames with known scores in a real index; each
filter removes exactly the frames it should, unmeasured frames stay, best in window and best of
the day pick the sharpest acceptable frame."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from pylapse.collection import Collection
from pylapse.config.presets import ExportPreset
from pylapse.index.store import FrameIndex
from pylapse.selection.quality_filter import QualityFilter, apply_filter, best_positions
from pylapse.selection.targets import SelectionError

START = datetime(2026, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=1)


def _scores(n: int) -> list[dict[str, float | int | None]]:
    """Good frames by default; known defects at known positions."""
    rows: list[dict[str, float | int | None]] = [
        {
            "luma": 120.0,
            "contrast": 40.0,
            "clip_high": 0.01,
            "sharpness": 100.0 + k % 7,
            "hash_distance": 12,
        }
        for k in range(n)
    ]
    rows[3]["luma"] = 5.0  # dark
    rows[4]["luma"] = 250.0  # washed out
    rows[5]["contrast"] = 0.5  # blank
    rows[6]["clip_high"] = 0.6  # overexposed
    rows[7]["sharpness"] = 2.0  # blurry
    rows[9]["hash_distance"] = 0  # one duplicate of frame 8
    for k in (20, 21, 22, 23):  # frames 19..23 are one frozen picture
        rows[k]["hash_distance"] = 0
    rows[30] = dict.fromkeys(rows[30])  # never measured: never dropped
    rows[31]["sharpness"] = 500.0  # the sharpest near minute 30
    return rows


@pytest.fixture
def scored(tmp_path, index_location):
    root = tmp_path / "frames"
    root.mkdir()
    index = FrameIndex(index_location)
    n = 60
    rows = _scores(n)
    ids = []
    for k in range(n):
        when = START + k * STEP
        path = root / f"f{k:03d}.jpg"
        path.write_bytes(b"")  # selection reads the index only; the folder must not look gone
        ids.append(index.add_frame("cam", path, when, size=1, mtime=0.0))
    # through the score write path, which also stores each frame's dead-camera verdict
    index.set_scores(zip(ids, rows, strict=True))
    c = Collection("Cam", None, root, timezone="UTC", index=index, key="cam")
    yield c, ids
    c.close()
    index.close()


def _positions(c: Collection, selection) -> list[int]:
    start = START.timestamp()
    return [round((u - start) / 60) for u in selection.utcs]


def test_each_filter_removes_exactly_its_frames(scored):
    c, _ids = scored
    cases = {
        "min_luma": (dict(min_luma=20), {3}),
        "max_luma": (dict(max_luma=240), {4}),
        "min_contrast": (dict(min_contrast=2), {5}),
        "max_clip_high": (dict(max_clip_high=0.2), {6}),
        "min_sharpness": (dict(min_sharpness=50), {7}),
        "drop_duplicates": (dict(drop_duplicates=True), {9, 20, 21, 22, 23}),
        "drop_frozen": (dict(drop_frozen=True), {19, 20, 21, 22, 23}),
    }
    for name, (options, expected) in cases.items():
        # each filter alone: the blank frame 5 and the frozen run 19..23 are a dead camera's,
        # left out by default before any filter (see test_a_dead_cameras_frames_are_left_out)
        sel = c.select(**options, keep_dead_frames=True)
        kept = set(_positions(c, sel))
        assert set(range(60)) - kept == expected, name
        assert sel.dropped == {name: len(expected)} and sel.left_out == {}
        assert sel.summary()["dropped"] == {name: len(expected)}
        assert 30 in kept  # the unmeasured frame is never dropped


def test_filters_are_off_by_default_and_counts_add_up(scored):
    c, _ids = scored
    plain = c.select(keep_dead_frames=True)
    assert len(plain) == 60 and plain.dropped == {} and "dropped" not in plain.summary()
    assert plain.left_out == {} and "left_out" not in plain.summary()
    sel = c.select(
        keep_dead_frames=True,
        min_luma=20,
        max_luma=240,
        min_contrast=2,
        max_clip_high=0.2,
        min_sharpness=50,
        drop_duplicates=True,
        drop_frozen=True,
    )
    # 19..23 go to drop_frozen first, so drop_duplicates only counts frame 9
    assert sel.dropped == {
        "min_luma": 1,
        "max_luma": 1,
        "min_contrast": 1,
        "max_clip_high": 1,
        "min_sharpness": 1,
        "drop_frozen": 5,
        "drop_duplicates": 1,
    }
    assert len(sel) == 60 - 11
    assert sel.counts.considered == 49


def test_a_dead_cameras_frames_are_left_out_by_default(scored):
    c, _ids = scored
    sel = c.select()
    # frame 5 is blank (contrast 0.5), 19..23 one picture five times with its light unmoved:
    # frozen by the rule camera health uses; the unmeasured frame 30 stays
    assert set(range(60)) - set(_positions(c, sel)) == {5, 19, 20, 21, 22, 23}
    assert sel.left_out == {"frozen": 5, "blank": 1} and sel.dropped == {}
    assert sel.summary()["left_out"] == {"frozen": 5, "blank": 1}
    # the filters count only what is left after; drop_frozen has nothing more to drop
    filtered = c.select(min_luma=20, drop_frozen=True)
    assert filtered.left_out == {"frozen": 5, "blank": 1}
    assert filtered.dropped == {"min_luma": 1, "drop_frozen": 0}
    day = c.day_slice("00:20", tolerance=300)
    assert _positions(c, day) == [18]  # 20 is frozen: the nearest live frame
    assert day.left_out == {"frozen": 5, "blank": 1}
    assert _positions(c, c.day_slice("00:20", tolerance=300, keep_dead_frames=True)) == [20]


def test_cron_selection_matches_among_the_kept_frames(scored):
    c, _ids = scored
    # a target every 10 minutes (the last, 01:00, takes frame 59); the nearest frame to
    # minute 20 is frozen, so a kept neighbour within the 5-minute tolerance is taken instead
    sel = c.select(minute="*/10", drop_frozen=True)
    assert _positions(c, sel) == [0, 10, 18, 30, 40, 50, 59]


def test_best_in_window_takes_the_sharpest_within_the_tolerance(scored):
    c, _ids = scored
    kw = {"minute": "*/10", "tolerance": 120, "keep_dead_frames": True}
    nearest = c.select(**kw)
    assert _positions(c, nearest) == [0, 10, 20, 30, 40, 50, 59]
    best = c.select(**kw, best_in_window=True, min_sharpness=50)
    # sharpness is 100 + k % 7 (k = minute), 500 at 31; frame 30 is unmeasured
    expected = []
    for t in (0, 10, 20, 30, 40, 50, 60):
        window = [k for k in range(t - 2, t + 3) if 0 <= k < 60 and k != 30]
        sharp = {k: 500.0 if k == 31 else 100.0 + k % 7 for k in window}
        expected.append(max(window, key=lambda k: (sharp[k], -k)))
    assert _positions(c, best) == expected
    assert expected[3] == 31
    assert best.dropped == {"min_sharpness": 1}


def test_best_of_day_takes_the_sharpest_near_the_clock_time(scored):
    c, _ids = scored
    sel = c.select(best_of_day="00:30", tolerance=300)
    assert _positions(c, sel) == [31]
    with pytest.raises(SelectionError, match="best_of_day"):
        c.select(best_of_day="00:30", minute="*/10")


def test_preset_fields_pass_through(scored):
    c, _ids = scored
    preset = ExportPreset(min_luma=20, drop_frozen=True, keep_dead_frames=True)
    sel = c.preset_selection(preset)
    assert sel.dropped == {"min_luma": 1, "drop_frozen": 5}
    assert len(c.preset_selection(ExportPreset(keep_dead_frames=True))) == 60
    default = c.preset_selection(ExportPreset())  # no filter; a dead camera's frames left out
    assert len(default) == 54 and default.left_out == {"frozen": 5, "blank": 1}
    day = c.preset_selection(ExportPreset(best_of_day="00:30"))
    assert _positions(c, day) == [31]  # the day slice's hour, not the preset's 5 minutes


def test_unknown_option_is_refused(scored):
    c, _ids = scored
    with pytest.raises(SelectionError, match="min_lumen"):
        c.select(min_lumen=3)


def test_apply_filter_on_bare_columns_keeps_unmeasured():
    ids, utcs = list(range(5)), [float(k) for k in range(5)]
    scores = {"luma": [1.0, None, 200.0, 3.0, 100.0]}
    out = apply_filter(QualityFilter(min_luma=10), ids, utcs, scores)
    assert list(out.ids) == [1, 2, 4] and list(out.utcs) == [1.0, 2.0, 4.0]
    assert out.dropped == {"min_luma": 2} and out.considered == 5


def test_best_positions_falls_back_to_nearest_when_nothing_measured():
    utcs = [0.0, 10.0, 20.0, 30.0]
    sharp = [-math.inf, -math.inf, 5.0, 5.0]
    # target 0: window [-10, 10] unmeasured -> nearest; target 25: earliest of equal maxima
    assert best_positions(utcs, sharp, [0.0, 25.0, 100.0], [0, 2, -1], 10.0) == [0, 2, -1]


def test_bad_settings_are_refused():
    with pytest.raises(SelectionError):
        QualityFilter(frozen_run=1)
    with pytest.raises(SelectionError):
        QualityFilter(min_luma=math.nan)
