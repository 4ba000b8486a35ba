"""``pylapse export``: presets and ad-hoc selections, dry run, real exports, clear failures."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil
from pylapse.cli import main

TZ = timeutil.zone("Asia/Tokyo")


@pytest.fixture
def setup(tmp_path):
    frames = tmp_path / "frames"
    start = datetime(2026, 2, 9, tzinfo=TZ)
    for k in range(2 * 24 * 6):  # two days every 10 minutes, 12:00-12:50 on day 2 missing
        when = start + timedelta(minutes=10 * k)
        if when.day == 10 and when.hour == 12:
            continue
        folder = storage.day_folder(frames, when)
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), (k % 255, 0, 0)).save(
            folder / naming.format_name(when, prefix="roof-"), "JPEG"
        )
    config = tmp_path / "capture_config.json"
    config.write_text(
        json.dumps(
            {
                "data_dir": "data",
                "storage_roots": [str(tmp_path)],
                "collections": {
                    "roof": {"name": "Roof", "path": "frames", "timezone": "Asia/Tokyo"}
                },
                "exports": {
                    "noon": {"collection": "roof", "hour": 12, "subdir": "noon", "prefix": "n-"},
                    "orphan": {"hour": 1},
                },
            }
        )
    )
    return tmp_path, config


def test_dry_run_prints_the_preview_and_writes_nothing(setup, capsys):
    root, config = setup
    assert main(["export", "--config", str(config), "--preset", "noon", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "noon: 1 frames chosen of 282 in range" in out
    assert "targets: 2, gaps (no frame within tolerance): 1" in out
    assert "first:   2026-02-09T12:00:00+09:00" in out
    assert "gaps at: 2026-02-10T12:00:00+09:00" in out
    assert "video:   0.0 s at 24 fps" in out
    assert not (root / "exports").exists()


def test_collection_with_cron_flags_and_range(setup, capsys):
    _, config = setup
    code = main(
        [
            "export",
            "--config",
            str(config),
            "--collection",
            "roof",
            "--hour",
            "6-8",
            "--minute",
            "*/30",
            "--from",
            "2026-02-10",
            "--to",
            "2026-02-10",
            "--dry-run",
            "--fps",
            "2",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "roof: 6 frames chosen of 138 in range" in out
    assert "video:   3.0 s at 2 fps" in out
    assert "first:   2026-02-10T06:00:00+09:00" in out


def test_export_writes_resized_frames_with_prefix(setup, capsys):
    root, config = setup
    out_dir = root / "out"
    code = main(
        [
            "export",
            "--config",
            str(config),
            "--preset",
            "noon",
            "--tolerance",
            "3600",
            "--output",
            str(out_dir),
            "--prefix",
            "x-",
            "--resize",
            "20x15",
            "--no-progress",
        ]
    )
    assert code == 0
    files = sorted(p.name for p in out_dir.glob("*.jpg"))
    assert files == ["x-000001.jpg", "x-000002.jpg"]  # day 2 takes 11:50 within an hour
    with Image.open(out_dir / files[0]) as im:
        assert im.size == (20, 15)
    assert "2 frames written" in capsys.readouterr().out


def test_preset_default_output_is_the_presets_own_folder(setup):
    """The same folder the dashboard runs it into: each preset its own, never the collection's
    shared one (running one preset must not replace another's frames)."""
    root, config = setup
    assert main(["export", "--config", str(config), "--preset", "noon", "--no-progress"]) == 0
    assert [p.name for p in (root / "exports" / "noon" / "noon").glob("*.jpg")] == ["n-000001.jpg"]
    # the CLI replaces its earlier export without asking, as documented
    assert main(["export", "--config", str(config), "--preset", "noon", "--no-progress"]) == 0
    assert [p.name for p in (root / "exports" / "noon" / "noon").glob("*.jpg")] == ["n-000001.jpg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "no export preset 'nope'; known: noon, orphan"),
        (["--preset", "orphan"], "export preset 'orphan' names no 'collection'"),
        (["--collection", "cellar", "--hour", "1"], "no collection or camera 'cellar'"),
        (["--collection", "roof", "--hour", "25"], "hour: '25' is not a valid cron expression"),
        (["--preset", "noon", "--resize", "big"], "--resize 'big': expected WIDTHxHEIGHT"),
        (["--preset", "noon", "--from", "9/2/2026"], "date_from: '9/2/2026' is not a date"),
    ],
)
def test_bad_input_is_one_clear_line(setup, capsys, args, message):
    _, config = setup
    assert main(["export", "--config", str(config), *args, "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pylapse export: ") and message in err


def test_missing_config_and_empty_selection(setup, tmp_path, capsys):
    _, config = setup
    assert main(["export", "--config", str(tmp_path / "none.json"), "--preset", "noon"]) == 1
    assert "no such config file" in capsys.readouterr().err
    code = main(
        [
            "export",
            "--config",
            str(config),
            "--collection",
            "roof",
            "--hour",
            "3",
            "--from",
            "2030-01-01",
            "--to",
            "2030-01-02",
            "--output",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    assert code == 1
    assert "nothing to export" in capsys.readouterr().err
    assert not list(Path(tmp_path / "o").glob("*.jpg"))


def test_missing_frame_folder(setup, capsys):
    root, config = setup
    (root / "frames").rename(root / "moved")
    assert main(["export", "--config", str(config), "--preset", "noon", "--dry-run"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_deflicker_flag_reencodes_frames_and_checks_the_window(setup, capsys):
    root, config = setup
    out_dir = root / "flat"
    args = ["export", "--config", str(config), "--collection", "roof", "--hour", "3"]
    args += ["--minute", "*/10"]
    assert main([*args, "--output", str(out_dir), "--deflicker", "--no-progress"]) == 0
    files = sorted(out_dir.glob("*.jpg"))
    assert len(files) == 12  # 03:00-03:50 on two days
    assert all(p.stat().st_nlink == 1 for p in files)  # re-encoded with a gain, not linked
    assert main([*args, "--output", str(root / "bad"), "--deflicker", "2", "--dry-run"]) == 1
    assert "deflicker_window must be 3-1001" in capsys.readouterr().err


def test_quality_filters_show_what_they_would_drop(setup, capsys):
    import sqlite3

    root, config = setup
    base = ["export", "--config", str(config), "--collection", "roof", "--dry-run"]
    assert main(base) == 0  # scans the folder into the index
    assert "filters" not in capsys.readouterr().out  # off by default
    with sqlite3.connect(root / "data" / "pylapse.db") as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM frames ORDER BY utc LIMIT 12")]
        conn.executemany("UPDATE frames SET luma = 2 WHERE id = ?", [(i,) for i in ids[:5]])
        conn.executemany("UPDATE frames SET luma = 90 WHERE id = ?", [(i,) for i in ids[5:]])
        conn.execute("UPDATE frames SET hash_distance = 0 WHERE id = ?", (ids[8],))
    args = [*base, "--no-scan", "--min-luma", "10", "--drop-duplicates"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "roof: 276 frames chosen of 276 in range" in out
    assert "filters: would drop 6 of 282 frames (min luma: 5, drop duplicates: 1)" in out


def test_a_dead_cameras_frames_are_left_out_unless_kept(tmp_path, capsys):
    from datetime import UTC

    from tests.pylapse.dead_sequence import write_dead_sequence

    write_dead_sequence(tmp_path / "frames", datetime(2026, 3, 1, 6, tzinfo=UTC),
                        timedelta(minutes=10), prefix="roof-")  # fmt: skip
    config = tmp_path / "capture_config.json"
    config.write_text(json.dumps({
        "data_dir": "data", "storage_roots": [str(tmp_path)],
        "collections": {"roof": {"name": "Roof", "path": "frames", "timezone": "UTC"}},
        "exports": {"all": {"collection": "roof"},
                    "everything": {"collection": "roof", "keep_dead_frames": True}},
    }))  # fmt: skip
    base = ["export", "--config", str(config), "--dry-run"]
    assert main([*base, "--collection", "roof"]) == 0  # scans; nothing scored yet
    assert "dead camera" not in capsys.readouterr().out
    assert main(["metrics", "--config", str(config), "--no-progress"]) == 0
    capsys.readouterr()
    assert main([*base, "--preset", "all", "--no-scan"]) == 0
    out = capsys.readouterr().out
    assert "all: 31 frames chosen of 31 in range" in out
    assert (
        "dead camera: 7 frames from a frozen camera and 2 blank frames left out"
        " (--keep-dead-frames keeps them)"
    ) in out
    assert main([*base, "--preset", "all", "--no-scan", "--keep-dead-frames"]) == 0
    out = capsys.readouterr().out
    assert "all: 40 frames chosen of 40 in range" in out and "dead camera" not in out
    assert main([*base, "--preset", "everything", "--no-scan"]) == 0  # the preset's field
    assert "everything: 40 frames chosen" in capsys.readouterr().out
    out_dir = tmp_path / "out"
    args = ["export", "--config", str(config), "--preset", "all", "--no-scan", "--no-progress"]
    assert main([*args, "--output", str(out_dir)]) == 0
    assert len(list(out_dir.glob("*.jpg"))) == 31
