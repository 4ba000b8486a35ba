"""``pylapse render-schedules`` as a subprocess with the real ffmpeg: run one, list them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil
from tests.pylapse.video.test_segments import probe

BERLIN = timeutil.zone("Europe/Berlin")
REPO = Path(__file__).resolve().parents[3]


def _pylapse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pylapse", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip


@pytest.fixture
def config(tmp_path: Path) -> Path:
    root = tmp_path / "storage" / "cam"
    for day, count in ((6, 4), (7, 6)):
        for k in range(count):
            when = datetime(2026, 12, day, 8, tzinfo=BERLIN) + k * timedelta(minutes=15)
            folder = storage.day_folder(root, when)
            folder.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (80, 60), (20 * k, 40, day * 10)).save(
                folder / naming.format_name(when, prefix="cam-"), quality=90
            )
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "storage_roots": [str(tmp_path / "storage")],
        "data_dir": str(tmp_path / "data"),
        "collections": {"cam": {"name": "Cam", "path": str(root), "timezone": "Europe/Berlin"}},
        "render_schedules": {
            "morning": {"collection": "cam", "period": "yesterday", "at": "06:30", "fps": 5},
            "weekly": {"collection": "cam", "period": "0 7 * * 1", "enabled": False},
        },
    }))  # fmt: skip
    return cfg


def test_run_prints_the_video_of_the_period(config: Path) -> None:
    done = _pylapse(config.parent, "render-schedules", "run", "morning", "--config",
                    str(config), "--at", "2026-12-08T06:30+01:00")  # fmt: skip
    assert done.returncode == 0, done.stderr
    video = Path(done.stdout.strip())
    assert video == config.parent / "storage" / "videos" / "morning-2026-12-07.mp4"
    stream = probe(video)["streams"][0]
    assert int(stream["nb_read_frames"]) == 6  # the 7th's frames only


def test_list_and_refusals(config: Path) -> None:
    listed = _pylapse(config.parent, "render-schedules", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("morning\tcam\tyesterday\tnext ") and "T06:30" in lines[0]
    assert lines[1].startswith("weekly\tcam\t0 7 * * 1\tnext ") and "(disabled)" in lines[1]
    unknown = _pylapse(config.parent, "render-schedules", "run", "nope", "--config", str(config))
    assert unknown.returncode == 1
    assert "no render schedule 'nope'; the config has: morning, weekly" in unknown.stderr
