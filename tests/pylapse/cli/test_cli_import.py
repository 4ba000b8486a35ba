"""``pylapse import``: a folder of existing frames becomes an indexed collection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from pylapse.cli import main
from pylapse.config.file import backups, load_config
from pylapse.db import DB_NAME
from pylapse.index.store import FrameIndex


@pytest.fixture
def project(tmp_path: Path) -> Path:
    phone = tmp_path / "timelapse" / "phone"
    phone.mkdir(parents=True)
    for minute in range(4):
        Image.new("RGB", (16, 12), (minute * 60, 0, 0)).save(
            phone / f"IMG_20240115_12{minute:02d}00.jpg"
        )
    (tmp_path / "capture_config.json").write_text(json.dumps({"storage_roots": ["timelapse"]}))
    return tmp_path


def test_import_adds_the_collection_and_indexes_its_frames(project: Path, capsys) -> None:
    config_path = project / "capture_config.json"
    code = main(
        [
            "import",
            str(project / "timelapse" / "phone"),
            "--config",
            str(config_path),
            "--timezone",
            "Europe/Berlin",
            "--name",
            "Phone roll",
        ]
    )
    assert code == 0
    config = load_config(config_path)
    entry = config.collections["phone-roll"]
    assert entry.name == "Phone roll"
    assert entry.path == "timelapse/phone"  # relative to the config, so the tree can move
    assert entry.timezone == "Europe/Berlin"
    assert len(backups(config_path)) == 1  # the file as it was before the import
    with FrameIndex(config.data_path / DB_NAME) as index:
        frames = index.frames("phone-roll")
    assert [f.time.isoformat() for f in frames] == [
        f"2024-01-15T12:{m:02d}:00+01:00" for m in range(4)
    ]
    assert "+4 new" in capsys.readouterr().out


def test_import_again_only_rescans(project: Path, capsys) -> None:
    args = [
        "import",
        str(project / "timelapse" / "phone"),
        "--config",
        str(project / "capture_config.json"),
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "added collection" not in out
    assert "+0 new" in out


def test_import_refuses_a_folder_outside_the_storage_roots(
    project: Path, tmp_path: Path, capsys
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code = main(["import", str(outside), "--config", str(project / "capture_config.json")])
    assert code == 1
    err = capsys.readouterr().err
    assert "is outside the storage roots" in err
    assert load_config(project / "capture_config.json").collections == {}


def test_import_refuses_a_missing_folder(project: Path, capsys) -> None:
    code = main(
        [
            "import",
            str(project / "timelapse" / "nope"),
            "--config",
            str(project / "capture_config.json"),
        ]
    )
    assert code == 1
    assert "no such folder" in capsys.readouterr().err
