"""``pylapse metrics`` end to end: index a folder, score it, a second run has nothing to do."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil
from pylapse.cli import main
from pylapse.index.store import FrameIndex

BERLIN = timeutil.zone("Europe/Berlin")


@pytest.fixture
def setup(tmp_path):
    start = datetime(2026, 3, 1, 20, 0, tzinfo=BERLIN)
    for k in range(5):
        when = start + k * timedelta(hours=1)
        path = storage.day_folder(tmp_path / "archive", when) / naming.format_name(when)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.linear_gradient("L").rotate(k * 30).save(path, "JPEG")
    config = {
        "data_dir": "data",
        "collections": {"old": {"name": "Old", "path": "archive", "timezone": "Europe/Berlin"}},
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(config))
    return path


def test_metrics_scores_an_indexed_collection_and_resumes(setup, capsys):
    assert main(["index", "--config", str(setup), "--no-progress"]) == 0
    assert main(["metrics", "--config", str(setup), "--collection", "old", "--no-progress"]) == 0
    assert "old: 5 frames scored" in capsys.readouterr().out
    with FrameIndex(setup.parent / "data" / "pylapse.db") as index:
        frames = index.frames("old")
        assert len(frames) == 5
        assert all(f.dhash is not None and f.sharpness is not None for f in frames)
        assert all(f.hash_distance is not None for f in frames[1:])
    assert main(["metrics", "--config", str(setup), "--no-progress"]) == 0
    assert "old: 0 frames scored" in capsys.readouterr().out


def test_metrics_refuses_an_unknown_collection(setup, capsys):
    assert main(["metrics", "--config", str(setup), "--collection", "nope"]) != 0
    assert "nope" in capsys.readouterr().err


def test_metrics_tells_of_frames_an_older_method_scored_and_rescores_them(setup, capsys):
    assert main(["index", "--config", str(setup), "--no-progress"]) == 0
    assert main(["metrics", "--config", str(setup), "--no-progress"]) == 0
    assert "older method" not in capsys.readouterr().out
    # rows as the index held them before it recorded versions (an old method's scores)
    with sqlite3.connect(setup.parent / "data" / "pylapse.db") as conn:
        conn.execute("UPDATE frames SET score_version = NULL, sharpness = 1.0 WHERE utc < 2e9")
    conn.close()
    assert main(["metrics", "--config", str(setup), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "old: 0 frames scored" in out
    assert (
        "5 frames were scored by an older method: run pylapse metrics --rescore-old to make "
        "them comparable" in out
    )
    assert main(["metrics", "--config", str(setup), "--no-progress", "--rescore-old"]) == 0
    out = capsys.readouterr().out
    assert "old: 5 frames scored" in out and "older method" not in out
    with FrameIndex(setup.parent / "data" / "pylapse.db") as index:
        assert all(f.sharpness != 1.0 for f in index.frames("old"))
