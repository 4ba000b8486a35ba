"""``pylapse mosaic grid|sunset`` end to end in a subprocess: index, make the video, read its
pixels; clear one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from astral import Observer
from astral.sun import sunset
from PIL import Image

from pylapse.mosaic.layout import tiles
from tests.pylapse.mosaic.mosaic_support import decode_video, near, tile_pixel, write_frame

START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def _pylapse(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pylapse", *args], cwd=repo,
                          capture_output=True, text=True, timeout=180, check=False)  # fmt: skip


def _camera(folder: str, zone: str) -> dict[str, object]:
    return {"name": folder.title(), "url": "http://127.0.0.1:9/x.jpg", "output_dir": folder,
            "timezone": zone, "latitude": 52.52, "longitude": 13.40}  # fmt: skip


@pytest.fixture
def config(tmp_path: Path) -> Path:
    for m in range(6):
        when = START + timedelta(minutes=m)
        write_frame(tmp_path / "roof", when.astimezone(ZoneInfo("Europe/Berlin")),
                    (240, 0, 0), "r-")  # fmt: skip
        write_frame(tmp_path / "bay", when.astimezone(ZoneInfo("Asia/Tokyo")), (0, 0, 240), "b-")
    at = sunset(Observer(52.52, 13.40), START.date(), tzinfo=ZoneInfo("Europe/Berlin"))
    whole = datetime.fromtimestamp(int(at.timestamp()), at.tzinfo)
    for m in range(-11, 12):
        write_frame(tmp_path / "roof", whole + timedelta(minutes=m), (0, 200, 0), "r-")
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps({
        "data_dir": "data",
        "storage_roots": [str(tmp_path)],
        "cameras": {"roof": _camera("roof", "Europe/Berlin"), "bay": _camera("bay", "Asia/Tokyo")},
    }))  # fmt: skip
    assert _pylapse(Path.cwd(), "index", "--config", str(path), "--no-progress").returncode == 0
    return path


def test_a_grid_and_a_sunset_mosaic_from_the_command_line(config: Path, repo: Path) -> None:
    out = config.parent / "grid.mp4"
    done = _pylapse(repo, "mosaic", "grid", "--collections", "roof,bay", "--from", "2026-03-10",
                    "--to", "2026-03-10", "--output", str(out), "--size", "320x120", "--fps",
                    "10", "--no-labels", "--step", "60", "--config", str(config))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "grid mosaic 320x120" in done.stdout
    video = decode_video(out)
    left, right = (t.box for t in tiles("grid", 2, (320, 120)))
    assert near(tile_pixel(video[0], left), (240, 0, 0))
    assert near(tile_pixel(video[0], right), (0, 0, 240))
    sun = config.parent / "sun.mp4"
    done = _pylapse(repo, "mosaic", "sunset", "--collection", "roof", "--from", "2026-03-10",
                    "--to", "2026-03-10", "--output", str(sun), "--size", "160x120",
                    "--start", "-10m", "--end", "+10m", "--step", "60", "--fps", "10",
                    "--no-labels", "--config", str(config))  # fmt: skip
    assert done.returncode == 0, done.stderr
    video = decode_video(sun)
    assert len(video) == 21 and near(tile_pixel(video[10], (0, 0, 160, 120)), (0, 200, 0))
    assert json.loads(sun.with_name("sun.mp4.json").read_text())["mosaic"]["kind"] == "sunset"


def test_refusals_are_one_line(config: Path, repo: Path) -> None:
    out = config.parent / "x.mp4"
    common = ("--from", "2026-03-10", "--to", "2026-03-10", "--output", str(out),
              "--config", str(config))  # fmt: skip
    done = _pylapse(repo, "mosaic", "grid", "--collections", "roof,nope", *common)
    assert done.returncode == 1 and "no collection or camera 'nope'" in done.stderr
    done = _pylapse(repo, "mosaic", "grid", "--collections", "roof", "--size", "big", *common)
    assert done.returncode == 1 and "size 'big' is not WIDTHxHEIGHT" in done.stderr
    done = _pylapse(repo, "mosaic", "sunset", "--collection", "roof", "--band", "9:1", *common)
    assert done.returncode == 1 and "band: '9:1'" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_photomosaic_from_the_command_line(config: Path, repo: Path) -> None:
    target = config.parent / "target.png"
    image = Image.new("RGB", (40, 20), (240, 0, 0))
    image.paste((0, 200, 0), (20, 0, 40, 20))
    image.save(target)
    out = config.parent / "photo.png"
    args = ("mosaic", "photo", "--collection", "roof", "--target", str(target), "--tile", "10",
            "--output", str(out), "--config", str(config))  # fmt: skip
    done = _pylapse(repo, *args)
    assert done.returncode == 0, done.stderr
    assert "photomosaic 40x20, 8 tiles from 2 of 29 frames" in done.stdout
    with Image.open(out) as made:
        assert near(made.getpixel((5, 5)), (240, 0, 0))
        assert near(made.getpixel((35, 15)), (0, 200, 0))
    assert (config.parent / "data" / "mosaic-tiles" / "roof-4.npz").is_file()
    done = _pylapse(repo, *args, "--repeat", "1")
    assert done.returncode == 0 and "8 tiles from 8 of 29 frames" in done.stdout
    done = _pylapse(repo, *args, "--tile", "30")
    assert done.returncode == 1 and "tile: 30 px is larger than the target (40x20)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_video_mosaic_as_a_gif_from_the_command_line(config: Path, repo: Path) -> None:
    out = config.parent / "warp.gif"
    done = _pylapse(repo, "mosaic", "photo", "--collection", "bay", "--from", "2026-03-10",
                    "--to", "2026-03-10", "--output", str(out), "--size", "40x30",
                    "--tile", "10", "--fps", "5", "--config", str(config))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "video mosaic 40x30, 6 frames at 5 fps" in done.stdout
    with Image.open(out) as made:
        assert made.format == "GIF" and made.n_frames == 6
    done = _pylapse(repo, "mosaic", "photo", "--collection", "bay", "--output", "x.png",
                    "--config", str(config))  # fmt: skip
    assert done.returncode == 1 and "needs --target IMAGE" in done.stderr
