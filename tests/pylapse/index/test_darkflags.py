"""Frames far darker than the camera's at the same local time the day before are stored as
dead = 'dark': at capture, by the metrics job in whatever order the days are scored, and for
frames scored before the verdict existed (the schema step that decides them again)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pylapse import db
from pylapse.index.schema import COMPONENT, SCHEMA
from pylapse.index.store import FrameIndex
from pylapse.tasks.metrics import fill_metrics
from tests.pylapse.dark_sequence import COUNT, DARK, picture, write_dark_sequence
from tests.pylapse.dead_sequence import porch_camera
from tests.pylapse.index.schema_support import undo_score_versions

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 3, 1, tzinfo=TOKYO)
EXPECTED = ["dark" if k in DARK else None for k in range(COUNT)]


def _stored(index: FrameIndex) -> list[str | None]:
    return [r[0] for r in index._reader().execute("SELECT dead FROM frames ORDER BY utc, id")]


@pytest.fixture
def scored(tmp_path, index_location):
    root = tmp_path / "frames"
    paths = write_dark_sequence(root, START)
    index = FrameIndex(index_location)
    index.scan("cam", root, "Asia/Tokyo")
    assert fill_metrics(index, "cam").scored == COUNT
    yield index, root, paths
    index.close()


def test_a_reference_scored_after_the_next_day_decides_it_then(scored):
    index, root, paths = scored
    assert _stored(index) == EXPECTED
    # day 1's 16:30..17:30 are replaced by new files (their scores go): day 2's 17:00 has no
    # frame near the same time the day before any more, so nothing says it is dark
    day2_1700 = DARK[2]
    for k in (day2_1700 - 49, day2_1700 - 48, day2_1700 - 47):
        fresh = paths[k].with_name("new.tmp")
        fresh.write_bytes(picture(1000 + k, 140))
        os.replace(fresh, paths[k])
    assert index.scan("cam", root, "Asia/Tokyo").changed == 3
    assert _stored(index) == [None if k == day2_1700 else v for k, v in enumerate(EXPECTED)]
    # day 1 scored again, after day 2: day 2's 17:00 is compared with it then
    fill_metrics(index, "cam")
    assert _stored(index) == EXPECTED
    assert index.recheck_dead("cam") == 0


def test_the_schema_step_decides_frames_scored_before_it(scored, tmp_path, index_location):
    index, _root, _paths = scored
    index.close()
    # the step that lists the collections again
    step = next(i for i, sql in enumerate(SCHEMA) if "NOT IN (SELECT collection_id" in sql)
    assert step == 8 and "dead_unchecked" in SCHEMA[step]
    conn = db.connect(index_location)
    with conn:  # as an older pyLapse left it: frozen and blank verdicts only
        conn.execute("UPDATE frames SET dead = NULL WHERE dead = 'dark'")
        undo_score_versions(conn)  # and without what the steps after it added
        conn.execute(
            "UPDATE schema_versions SET version = ? WHERE component = ?", (step, COMPONENT)
        )
    conn.close()
    with FrameIndex(index_location) as reopened:
        assert _stored(reopened) == EXPECTED
        assert reopened._reader().execute("SELECT COUNT(*) FROM dead_unchecked").fetchone() == (0,)
        assert len(reopened.dead_frames("cam")) == len(DARK)


@pytest.mark.network
def test_capture_marks_a_frame_far_darker_than_the_same_time_yesterday(tmp_path, index_location):
    index = FrameIndex(index_location)
    with porch_camera(tmp_path, (160, 120)) as (server, camera):

        def take(behaviour: str, day: int, hour: int, minute: int = 0):
            server.route("/cam", behaviour)
            return camera.capture(START + timedelta(days=day, hours=hour, minutes=minute), index)

        night = take("dark", 0, 2)  # a night frame: nothing to compare with yet
        lit = take("jpeg", 0, 18)
        take("jpeg", 0, 18, 30)
        assert night.luma < 20 < 100 < lit.luma
        assert _stored(index) == [None] * 3
        assert take("dark", 1, 2).luma_yesterday == pytest.approx(night.luma)  # a night again
        covered = take("dark", 1, 18, 5)  # the same local time as a lit frame yesterday
        assert covered.luma_yesterday == pytest.approx(lit.luma)
        take("jpeg", 1, 18, 30)  # lit again
        assert _stored(index) == [None] * 4 + ["dark", None]
        dead = index.dead_frames("cam")
        assert list(dead.ids) == [covered.frame_id]
    index.close()
