"""``pylapse index`` end to end: a real config file, real folders, the real SQLite index."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from pylapse import naming, storage, timeutil
from pylapse.cli import main
from pylapse.index.store import FrameIndex

BERLIN = timeutil.zone("Europe/Berlin")
TOKYO = timeutil.zone("Asia/Tokyo")


def frames(root, start, count, step=timedelta(hours=1)):
    for k in range(count):
        when = start + k * step
        path = storage.day_folder(root, when) / naming.format_name(when, prefix="f-")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


@pytest.fixture
def setup(tmp_path):
    frames(tmp_path / "timelapse" / "porch", datetime(2026, 3, 1, 20, 0, tzinfo=BERLIN), 6)
    frames(tmp_path / "archive", datetime(2025, 1, 1, 22, 0, tzinfo=TOKYO), 4)
    (tmp_path / "archive" / "notes.jpg").touch()  # no date in the name: falls back to mtime
    config = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {
            "porch": {
                "name": "Porch",
                "type": "synthetic",
                "output_dir": "timelapse/porch",
                "timezone": "Europe/Berlin",
                "schedules": [{"id": "hourly", "minute": 0}],
            },
            "garden": {"name": "Garden", "type": "synthetic", "output_dir": "timelapse/garden"},
        },
        "collections": {
            "old": {"name": "Old", "path": "archive", "timezone": "Asia/Tokyo"},
        },
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(config))
    return path


def index_of(config_path):
    return FrameIndex(config_path.parent / "data" / "pylapse.db")


def test_index_scans_cameras_and_collections(setup, capsys):
    assert main(["index", "--config", str(setup), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "porch: 6 frames (+6 new" in out
    assert "old: 5 frames (+5 new" in out
    assert "garden: no frames yet" in out
    assert "2 collections, 11 frames indexed in" in out
    with index_of(setup) as index:
        assert index.count("porch") == 6 and index.count("old") == 5
        assert index.count_by_day("porch", BERLIN) == {date(2026, 3, 1): 4, date(2026, 3, 2): 2}
        assert {f.source for f in index.frames("old")} == {"filename", "mtime"}

    assert main(["index", "--config", str(setup), "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert "porch: 6 frames (+0 new, 0 changed, -0 gone" in again


def test_one_collection_and_rebuild(setup, capsys):
    assert main(["index", "--config", str(setup), "--collection", "old", "--no-progress"]) == 0
    with index_of(setup) as index:
        assert index.count("old") == 5 and index.count("porch") == 0
    capsys.readouterr()
    assert main(["index", "--config", str(setup), "--collection", "old", "--rebuild"]) == 0
    assert "old: 5 frames (+5 new" in capsys.readouterr().out  # scanned from scratch again


def test_unknown_collection_and_missing_folder_are_reported(setup, tmp_path, capsys):
    assert main(["index", "--config", str(setup), "--collection", "nope"]) == 1
    err = capsys.readouterr().err
    assert "pylapse index: no collection or camera 'nope'; known: garden, old, porch" in err

    (tmp_path / "archive").rename(tmp_path / "moved")
    assert main(["index", "--config", str(setup), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "porch: 6 frames" in captured.out  # the others still ran
    assert "old: collection 'old': folder" in captured.err and "does not exist" in captured.err


def test_a_bad_config_is_one_line(tmp_path, capsys):
    assert main(["index", "--config", str(tmp_path / "missing.json")]) == 1
    assert "no such config file" in capsys.readouterr().err
