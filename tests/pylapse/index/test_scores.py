"""Score columns read back for a selection's quality filters (FrameIndex.score_columns), on
real SQLite files and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pylapse.index.store import FrameIndex

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def index(index_location):
    with FrameIndex(index_location) as ix:
        yield ix


def _add(index: FrameIndex, folder: Path, n: int) -> list[int]:
    return [
        index.add_frame("cam", folder / f"f{i}.jpg", START + timedelta(minutes=i), size=1,
                        mtime=0.0, luma=float(i))
        for i in range(n)
    ]  # fmt: skip


def test_columns_come_aligned_with_the_ids_asked_for(index, tmp_path: Path) -> None:
    ids = _add(index, tmp_path, 4)
    index.set_scores([(ids[1], {"sharpness": 2.5}), (ids[3], {"sharpness": 4.5})])
    got = index.score_columns("cam", None, None, ids, ["sharpness", "luma"])
    assert got == {"sharpness": [None, 2.5, None, 4.5], "luma": [0.0, 1.0, 2.0, 3.0]}
    # a subset (a name mask left frames out) and an id gone from the index: aligned by id
    subset = [ids[3], 999_999, ids[1]]
    assert index.score_columns("cam", None, None, subset, ["sharpness"]) == {
        "sharpness": [4.5, None, 2.5]
    }
    # a time range reads only its rows
    later = index.score_columns("cam", START + timedelta(minutes=2), None, ids[2:], ["luma"])
    assert later == {"luma": [2.0, 3.0]}


def test_an_unknown_collection_or_column(index, tmp_path: Path) -> None:
    ids = _add(index, tmp_path, 2)
    assert index.score_columns("nope", None, None, ids, ["sharpness"]) == {
        "sharpness": [None, None]
    }
    with pytest.raises(ValueError, match="'name; DROP TABLE frames' is not a score column"):
        index.score_columns("cam", None, None, ids, ["name; DROP TABLE frames"])
