"""A dead camera's frames (frozen runs, blank pictures, frames far darker than the same local
time the day before) are left out of default selections: real frames, scanned into a real index
and scored by the metrics job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pylapse.collection import Collection
from pylapse.config.presets import ExportPreset
from pylapse.index.store import FrameIndex
from pylapse.selection.dead_camera import left_out_text
from pylapse.tasks.metrics import fill_metrics
from tests.pylapse import dark_sequence
from tests.pylapse.dead_sequence import BLANK, COUNT, FROZEN, write_dead_sequence

START = datetime(2026, 3, 1, 6, tzinfo=UTC)
STEP = timedelta(minutes=10)
DEAD = {*FROZEN, *BLANK}


def _scored(tmp_path: Path, zone: str, count: int, location: str) -> Iterator[Collection]:
    """The collection of the frames written under ``tmp_path / "frames"``, scored, its index
    at ``location`` (SQLite or PostgreSQL)."""
    index = FrameIndex(location)
    c = Collection("Cam", None, tmp_path / "frames", timezone=zone, index=index, key="cam")
    c.refresh()
    assert fill_metrics(index, "cam").scored == count
    yield c
    c.close()
    index.close()


@pytest.fixture
def coll(tmp_path, index_location):
    write_dead_sequence(tmp_path / "frames", START, STEP)
    yield from _scored(tmp_path, "UTC", COUNT, index_location)


@pytest.fixture
def covered(tmp_path, index_location):
    """Three days of a camera whose lens is covered on the second evening (dark_sequence)."""
    start = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    dark_sequence.write_dark_sequence(tmp_path / "frames", start)
    yield from _scored(tmp_path, "Asia/Tokyo", dark_sequence.COUNT, index_location)


def _positions(selection) -> list[int]:
    return [round((u - START.timestamp()) / STEP.total_seconds()) for u in selection.utcs]


def test_default_selections_leave_a_dead_cameras_frames_out(coll):
    sel = coll.select()
    assert set(range(COUNT)) - set(_positions(sel)) == DEAD
    assert sel.left_out == {"frozen": len(FROZEN), "blank": len(BLANK)}
    assert sel.summary()["left_out"] == {"frozen": 7, "blank": 2}
    assert sel.dropped == {} and sel.counts.considered == COUNT - len(DEAD)
    every = coll.select(keep_dead_frames=True)
    assert _positions(every) == list(range(COUNT)) and every.left_out == {}
    # a cron target on a frozen frame takes the nearest live one within the tolerance
    cron = coll.select(hour="*", minute="0,30", tolerance=600)
    assert 12 not in _positions(cron) and cron.left_out == {"frozen": 7, "blank": 2}


def test_presets_and_day_slices_leave_them_out_unless_kept(coll):
    default = coll.preset_selection(ExportPreset())
    assert len(default) == COUNT - len(DEAD)
    assert default.left_out == {"frozen": 7, "blank": 2}
    assert len(coll.preset_selection(ExportPreset(keep_dead_frames=True))) == COUNT
    clock = (START + 14 * STEP).time()  # a frozen frame's
    day = coll.day_slice(clock, tolerance=timedelta(minutes=45))
    assert _positions(day) == [17]  # the nearest live frame, after the run (9 is 50 min off)
    assert day.left_out == {"frozen": 7, "blank": 2}
    assert _positions(coll.day_slice(clock, keep_dead_frames=True)) == [14]


def test_a_date_range_that_cuts_a_frozen_run_still_sees_it_whole(coll):
    # frames 14..16 are in range: three of a run of seven, frozen all the same
    sel = coll.select(date_from=START + 14 * STEP, date_to=START + 20 * STEP)
    assert _positions(sel) == [17, 18, 19, 20]
    assert sel.left_out == {"frozen": 3}
    before = coll.select(date_from=START, date_to=START + 12 * STEP)
    assert _positions(before) == list(range(10))  # 10..12: the start of the run
    assert before.left_out == {"frozen": 3}


def test_frames_never_scored_are_never_left_out(coll, tmp_path):
    # the camera froze again after the metrics job ran: those frames are kept until scored
    write_dead_sequence(tmp_path / "frames", START, STEP, first=COUNT, count=COUNT + 8,
                        frozen=range(COUNT, COUNT + 8), blank=())  # fmt: skip
    coll.refresh()
    sel = coll.select()
    assert len(sel) == COUNT + 8 - len(DEAD)
    fill_metrics(coll.index, "cam")
    sel = coll.select()
    assert len(sel) == COUNT - len(DEAD)
    assert sel.left_out == {"frozen": 7 + 8, "blank": 2}


def test_repeats_that_are_not_neighbours_are_no_frozen_run(tmp_path, index_location):
    # every other frame repeats its predecessor with the same light: a suspect among the
    # repeats alone, but no two repeats in a row, so no run (a live camera, a still scene)
    root = tmp_path / "frames"
    root.mkdir()
    index = FrameIndex(index_location)
    ids = []
    for k in range(20):
        path = root / f"f{k:03d}.jpg"
        path.write_bytes(b"")
        ids.append(index.add_frame("cam", path, START + k * STEP, size=1, mtime=0.0))
    with index._conn:
        for k, fid in enumerate(ids):
            index._conn.execute(
                "UPDATE frames SET luma = ?, contrast = 30, hash_distance = ? WHERE id = ?",
                (50.0 if k % 2 else 50.0 + k, 0 if k % 2 else 9, fid),
            )
    index.recheck_dead("cam")  # scores written around the index: its verdicts decided again
    c = Collection("Cam", None, root, timezone="UTC", index=index, key="cam")
    try:
        sel = c.select()
        assert len(sel) == 20 and sel.left_out == {}
        with index._conn:  # frames 11..15 become one picture: a run of six (10 is its first)
            for k in range(11, 16):
                index._conn.execute(
                    "UPDATE frames SET luma = ?, hash_distance = 0 WHERE id = ?",
                    (60.0, ids[k]),
                )
            index._conn.execute("UPDATE frames SET luma = 60 WHERE id = ?", (ids[10],))
        index.recheck_dead("cam")
        sel = c.select()
        assert sel.left_out == {"frozen": 6}
        assert set(range(20)) - set(_positions(sel)) == set(range(10, 16))
    finally:
        c.close()
        index.close()


def test_frames_far_darker_than_the_day_before_are_left_out_unless_kept(covered):
    n, dark = dark_sequence.COUNT, set(dark_sequence.DARK)
    start = covered.select(keep_dead_frames=True).utcs[0]
    sel = covered.select()
    # only day 2's covered evening: nights (dark both days) and day 3's evening (the evening
    # before was covered: no lit reference) are not a dead camera
    step = dark_sequence.STEP.total_seconds()
    assert {round((u - start) / step) for u in sel.utcs} == set(range(n)) - dark
    assert sel.left_out == {"dark": len(dark)}
    assert left_out_text(sel.left_out) == "6 frames far darker than the day before left out"
    every = covered.select(keep_dead_frames=True)
    assert len(every) == n and every.left_out == {}
    assert len(covered.preset_selection(ExportPreset())) == n - len(dark)
    assert len(covered.preset_selection(ExportPreset(keep_dead_frames=True))) == n
