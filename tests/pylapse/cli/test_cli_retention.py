"""``pylapse retention`` end to end: index a camera folder, preview, run, refuse clearly."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from pylapse import naming, storage, timeutil
from pylapse.cli import main

BERLIN = timeutil.zone("Europe/Berlin")
AT = "2026-04-11T12:00+02:00"


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    folder = tmp_path / "timelapse" / "porch"
    for day in range(2):
        for i in range(12):  # 10:00-10:55 every 5 minutes
            when = datetime(2026, 3, 2 + day, 10, 5 * i, tzinfo=BERLIN)
            path = storage.day_folder(folder, when) / naming.format_name(when, prefix="porch-")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x" * 1000)
    config = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {"porch": {"type": "synthetic", "output_dir": "timelapse/porch",
                              "timezone": "Europe/Berlin", "layout": "day_folders",
                              "retention": {"enabled": True, "thin_minutes": 30}},
                    "gate": {"type": "synthetic", "output_dir": "timelapse/gate"}},
    }  # fmt: skip
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(config))
    return path


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.jpg")}


def test_a_dry_run_previews_and_a_run_moves(
    setup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = setup.parent / "timelapse" / "porch"
    before = _files(folder)
    assert main(["index", "--config", str(setup), "--no-progress"]) == 0
    capsys.readouterr()
    args = ["retention", "--config", str(setup), "--at", AT, "--no-progress"]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "porch: 20 frames (20.0 kB) would go to the trash; 0 kept as protected" in out
    assert "  2026-03-02       12       2       10        0          0    10.0 kB" in out
    assert _files(folder) == before
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "porch: moved 20 frames (20.0 kB) to .trash/20260411T100000Z" in out
    assert len(_files(folder) - before) == 20  # now under .trash/
    kept = sorted(p.split("T")[1][:5] for p in before & _files(folder))
    assert kept == ["10-00", "10-00", "10-30", "10-30"]
    restore = ["retention", "--config", str(setup), "--camera", "porch", "--restore"]
    assert main([*restore, "20260411T100000Z"]) == 0
    assert "porch: put back 20 frames of run 20260411T100000Z" in capsys.readouterr().out
    assert _files(folder) == before
    assert main([*restore, "../porch"]) == 1
    assert "no retention run '../porch'" in capsys.readouterr().err


def test_refusals_are_one_line(setup: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--config", str(setup), "--camera", "gate", "--dry-run"]) == 1
    assert "camera 'gate' has no retention enabled" in capsys.readouterr().err
    raw = json.loads(setup.read_text())
    del raw["cameras"]["porch"]["retention"]
    setup.write_text(json.dumps(raw))
    assert main(["retention", "--config", str(setup)]) == 1
    assert "no camera has retention enabled" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["retention", "--config", str(setup), "--at", "2026-04-11T12:00"])
    assert "needs a UTC offset" in capsys.readouterr().err
