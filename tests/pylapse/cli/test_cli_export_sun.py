"""``pylapse export --sun / --sun-window``: sun-synchronised selections from the command line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil
from pylapse.cli import main

TZ = timeutil.zone("Arctic/Longyearbyen")


@pytest.fixture
def setup(tmp_path):
    frames = tmp_path / "frames"
    start = datetime(2026, 4, 15, tzinfo=TZ)
    for k in range(5 * 24 * 6):  # 15-19 April every 10 minutes: the midnight sun begins
        when = start + timedelta(minutes=10 * k)
        folder = storage.day_folder(frames, when)
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 6), (k % 255, 0, 0)).save(
            folder / naming.format_name(when, prefix="sv-"), "JPEG"
        )
    config = tmp_path / "capture_config.json"
    config.write_text(
        json.dumps(
            {
                "data_dir": "data",
                "storage_roots": [str(tmp_path)],
                "collections": {
                    "sv": {
                        "name": "Svalbard",
                        "path": "frames",
                        "timezone": "Arctic/Longyearbyen",
                        "latitude": 78.22,
                        "longitude": 15.65,
                    }
                },
                "exports": {
                    "dusk": {
                        "collection": "sv",
                        "sun": ["sunset-30m"],
                        "date_from": "2026-04-15",
                        "date_to": "2026-04-19",
                    }
                },
            }
        )
    )
    return tmp_path, config


def test_sun_flag_reports_polar_gaps(setup, capsys):
    root, config = setup
    args = ["export", "--config", str(config), "--collection", "sv", "--sun", "sunset-30m"]
    assert main([*args, "--from", "2026-04-15", "--to", "2026-04-19", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "sv: 3 frames chosen" in out  # 15, 16 and 17 April (that sunset is after midnight)
    assert "sun: 2 days without the event or window:" in out
    assert "no sunset on 2026-04-18 at 78.2°N: the sun stays up" in out
    assert not (root / "exports").exists()


def test_preset_sun_and_a_window_flag(setup, capsys):
    _root, config = setup
    assert main(["export", "--config", str(config), "--preset", "dusk", "--dry-run"]) == 0
    assert "dusk: 3 frames chosen" in capsys.readouterr().out
    args = ["export", "--config", str(config), "--collection", "sv", "--minute", "0"]
    assert main([*args, "--sun-window", "night", "--to", "2026-04-16", "--dry-run"]) == 0
    out = capsys.readouterr().out
    # nights of sunset + 1 h to sunrise - 1 h are about 2 h long in mid-April at 78°N
    chosen = int(out.split(" frames chosen")[0].rsplit(" ", 1)[1])
    assert 0 < chosen < 8


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sun", "moonrise"], "'moonrise' is not a sun event"),
        (["--sun-window", "sunset"], "not a window"),
        (["--sun", "noon", "--hour", "12"], "give no cron fields"),
    ],
)
def test_bad_sun_input_is_one_clear_line(setup, capsys, extra, message):
    _root, config = setup
    args = ["export", "--config", str(config), "--collection", "sv", "--dry-run", *extra]
    assert main(args) != 0
    assert message in capsys.readouterr().err
