"""Sky metrics in the frame index (issue 18): written with scores, read back for the colour map
and the science queries, cleared when a frame is replaced; on real SQLite files."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from pylapse import timeutil
from pylapse.index.schema import SKY_COLUMNS
from pylapse.index.store import FrameIndex

BERLIN = timeutil.zone("Europe/Berlin")
START = datetime(2026, 3, 28, 23, 0, tzinfo=BERLIN)  # DST starts in Berlin the next night


def _sky(i: int) -> dict[str, float]:
    """Distinct, recognisable values per frame and column."""
    return {column: i * 100 + k for k, column in enumerate(SKY_COLUMNS)}


@pytest.fixture
def index(tmp_path, index_location):
    with FrameIndex(index_location) as ix:
        yield ix


def _add(
    index: FrameIndex, tmp_path, n: int, step: timedelta, start: datetime = START
) -> list[tuple[int, datetime]]:
    added = []
    for i in range(n):
        when = (start + i * step).astimezone(BERLIN)
        fid = index.add_frame("cam", tmp_path / f"f{i:03d}.jpg", when, size=1000 + i, mtime=0.0)
        added.append((fid, when))
    return added


def test_sky_colours_reads_the_chosen_statistic_in_time_order(index, tmp_path):
    added = _add(index, tmp_path, 6, timedelta(hours=1))
    # frame 2 is left unmeasured: it is not in the answer
    index.set_scores([(fid, _sky(i)) for i, (fid, _w) in enumerate(added) if i != 2])
    utc, offset, colours = index.sky_colours(
        "cam", added[0][1].timestamp(), added[5][1].timestamp(), "median"
    )
    kept = [0, 1, 3, 4]  # the last frame is at utc_to: outside
    assert utc.dtype == np.float64 and offset.dtype == np.int64 and colours.shape == (4, 3)
    assert list(utc) == [added[i][1].timestamp() for i in kept]
    # across the DST change: each frame keeps the offset of its own wall clock
    assert list(offset) == [timeutil.offset_seconds(added[i][1]) for i in kept]
    assert set(offset) == {3600, 7200}
    median = [SKY_COLUMNS.index(f"sky_{c}_median") for c in "rgb"]
    assert colours.tolist() == [[i * 100 + k for k in median] for i in kept]
    for stat in ("mean", "max"):
        _u, _o, got = index.sky_colours("cam", 0, 2e9, stat)
        want = [SKY_COLUMNS.index(f"sky_{c}_{stat}") for c in "rgb"]
        assert got[0].tolist() == [k for k in want]


def test_sky_colours_rejects_an_unknown_statistic_and_collection(index, tmp_path):
    _add(index, tmp_path, 1, timedelta(hours=1))
    with pytest.raises(ValueError, match=r"stat='std'.*mean, median, max"):
        index.sky_colours("cam", 0, 2e9, "std")
    utc, offset, colours = index.sky_colours("nobody", 0, 2e9, "mean")
    assert len(utc) == len(offset) == 0 and colours.shape == (0, 3)


def test_unmeasured_frames_are_counted_and_walked_until_measured(index, tmp_path):
    added = _add(index, tmp_path, 3, timedelta(hours=1))
    assert index.count_unscored("cam") == 3
    # a frame scored by capture before sky metrics existed still needs its sky measured
    index.set_scores([(added[0][0], {"dhash": 5, "hash_distance": 0})])
    assert index.count_unscored("cam") == 3
    walked = index.unscored("cam", None, 10)
    assert [(f.id, missing) for f, missing in walked] == [(fid, True) for fid, _w in added]
    index.set_scores([(added[0][0], _sky(0))])
    assert index.count_unscored("cam") == 2
    # a page counts at most so many (an archive of millions never scored stays cheap to draw)
    assert index.count_unscored("cam", at_most=1) == 1
    assert index.count_unscored("cam", at_most=5) == 2
    assert index.count_unscored("nobody", at_most=5) == 0
    assert [f.id for f, _m in index.unscored("cam", None, 10)] == [added[1][0], added[2][0]]


def test_a_replaced_frame_loses_its_sky_metrics(index, tmp_path):
    (fid, when), = _add(index, tmp_path, 1, timedelta(hours=1))
    index.set_scores([(fid, {"dhash": 1, **_sky(1)})])
    assert len(index.sky_colours("cam", 0, 2e9)[0]) == 1
    index.add_frame("cam", tmp_path / "f000.jpg", when, size=5, mtime=1.0)  # capture again
    assert len(index.sky_colours("cam", 0, 2e9)[0]) == 0
    assert index.count_unscored("cam") == 1


def test_the_day_with_the_most_colour_deviation_and_the_largest_frame(index, tmp_path):
    morning = datetime(2026, 3, 28, 6, 0, tzinfo=BERLIN)
    added = _add(index, tmp_path, 6, timedelta(hours=12), morning)  # 2 frames a day, 3 days
    for i, (fid, _w) in enumerate(added):
        std = 40.0 if i in (2, 3) else 5.0  # a cloudy day among clear ones
        index.set_scores([(fid, {"sky_r_std": std, "sky_g_std": std, "sky_b_std": std + 3})])
    days = index.colour_deviation_days("cam")
    local = [w.date() for _f, w in added]
    assert days[0] == (local[2], 41.0, 2) and local[2] == local[3]
    assert [d for d, _v, _n in days] == sorted({*local}, key=lambda d: (d != local[2], d))
    assert days[0][0] == date(2026, 3, 29)
    largest = index.largest_frames("cam", limit=2)
    assert [f.id for f in largest] == [added[5][0], added[4][0]]


def test_unknown_columns_are_refused(index, tmp_path):
    (fid, _w), = _add(index, tmp_path, 1, timedelta(hours=1))
    with pytest.raises(ValueError, match="'sky_x_mean' is not a score column"):
        index.set_scores([(fid, {"sky_x_mean": 1.0})])
