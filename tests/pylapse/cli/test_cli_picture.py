"""``pylapse picture`` end to end in a subprocess: index a folder, make a daystrip and a
keogram, refuse what cannot be made, and keep an earlier picture when a run fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.pylapse.pictures.picture_support import DAY, MISSING, H, W, pixel_frame, write_day


def _pylapse(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pylapse", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_day(tmp_path / "sky", DAY, MISSING)
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps({
        "data_dir": "data",
        "storage_roots": [str(tmp_path)],
        "collections": {"sky": {"name": "Sky", "path": "sky", "timezone": "UTC"}},
    }))  # fmt: skip
    return path


def test_a_daystrip_and_a_keogram_from_the_command_line(config: Path, repo: Path) -> None:
    assert _pylapse(repo, "index", "--config", str(config), "--no-progress").returncode == 0
    out = config.parent / "strip.png"
    done = _pylapse(repo, "picture", "daystrip", "--collection", "sky", "--date", str(DAY),
                    "--output", str(out), "--config", str(config), "--row", "5")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "daystrip 64x144 from 138 frames" in done.stdout
    with Image.open(out) as strip:
        assert strip.size == (W, 144)
        assert strip.crop((0, 7, W, 8)).tobytes() == pixel_frame(7).crop((0, 5, W, 6)).tobytes()
        assert strip.crop((0, 50, W, 51)).tobytes() == bytes(3 * W)
    manifest = json.loads(out.with_name("strip.png.json").read_text())
    assert manifest["kind"] == "daystrip" and manifest["parameters"]["row"] == 5
    movie = config.parent / "strip.mp4"
    small = ("--movie-size", "64x144", "--movie-fps", "10", "--movie-seconds", "1")
    done = _pylapse(repo, "picture", "daystrip", "--collection", "sky", "--date", str(DAY),
                    "--output", str(out), "--config", str(config), "--movie", str(movie),
                    *small)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"and {movie}" in done.stdout and movie.read_bytes()[4:8] == b"ftyp"
    warp = config.parent / "warp.mp4"
    done = _pylapse(repo, "picture", "timewarp", "--collection", "sky", "--date", str(DAY),
                    "--output", str(warp), "--config", str(config), "--band", "32")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert warp.read_bytes()[4:8] == b"ftyp"
    keo = config.parent / "keo.jpg"
    done = _pylapse(repo, "picture", "keogram", "--collection", "sky", "--date", str(DAY),
                    "--output", str(keo), "--config", str(config), "--scale", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Image.open(keo) as image:
        assert image.size == (144, H // 2)


def test_what_cannot_be_made_is_refused_and_the_earlier_picture_kept(
    config: Path, repo: Path
) -> None:
    assert _pylapse(repo, "index", "--config", str(config), "--no-progress").returncode == 0
    out = config.parent / "strip.png"
    out.write_bytes(b"earlier")
    base = ("--collection", "sky", "--output", str(out), "--config", str(config))
    refused = _pylapse(repo, "picture", "daystrip", *base, "--date", "2026-03-12")
    assert refused.returncode == 1 and "sky has no frames on 2026-03-12" in refused.stderr
    refused = _pylapse(repo, "picture", "daystrip", *base, "--date", str(DAY), "--row", "999")
    assert refused.returncode == 1 and "row: 999 is outside the frame" in refused.stderr
    refused = _pylapse(repo, "picture", "nightstack", *base, "--date", str(DAY))
    assert refused.returncode == 1 and "latitude and longitude" in refused.stderr
    refused = _pylapse(repo, "picture", "colormap", *base)
    assert refused.returncode == 1 and "--from and --to" in refused.stderr
    refused = _pylapse(repo, "picture", "keogram", *base, "--date", str(DAY), "--movie", "k.mp4")
    assert refused.returncode == 1 and "a movie is made of a daystrip" in refused.stderr
    assert out.read_bytes() == b"earlier"


def test_a_picture_per_day_is_each_day_made_alone_and_the_empty_day_named(
    tmp_path: Path, repo: Path
) -> None:
    from datetime import timedelta

    days = [DAY + timedelta(days=n) for n in range(4)]
    few = set(range(144)) - set(range(60, 144, 6))  # 14 frames a day, hourly: 24 slots
    for day in (days[0], days[1], days[3]):  # days[2]: the camera took nothing
        write_day(tmp_path / "sky", day, few)
    config = tmp_path / "capture_config.json"
    config.write_text(json.dumps({
        "data_dir": "data", "storage_roots": [str(tmp_path)],
        "collections": {"sky": {"name": "Sky", "path": "sky", "timezone": "UTC"}},
    }))  # fmt: skip
    base = ("--collection", "sky", "--config", str(config), "--row", "7")
    assert _pylapse(repo, "index", "--config", str(config), "--no-progress").returncode == 0
    out = tmp_path / "by-day"
    done = _pylapse(repo, "picture", "daystrip", *base, "--from", str(days[0]), "--to",
                    str(days[3]), "--output-dir", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = [f"sky-daystrip-{d}.png" for d in (days[0], days[1], days[3])]
    assert sorted(p.name for p in out.glob("*.png")) == made
    for name in made:
        assert f"{out / name}: daystrip 64x24 from 14 frames" in done.stdout
    assert f"no frames on {days[2]}" in done.stdout
    for day, name in zip((days[0], days[1], days[3]), made, strict=True):
        alone = tmp_path / f"alone-{day}.png"
        one = _pylapse(repo, "picture", "daystrip", *base, "--date", str(day), "--output",
                       str(alone))  # fmt: skip
        assert one.returncode == 0, one.stderr
        with Image.open(out / name) as by_day, Image.open(alone) as single:
            assert by_day.size == single.size and by_day.tobytes() == single.tobytes()
    assert json.loads((out / f"{made[0]}.json").read_text())["parameters"]["day"] == str(days[0])


def test_bad_day_ranges_are_refused_naming_the_values(config: Path, repo: Path) -> None:
    base = ("picture", "keogram", "--collection", "sky", "--config", str(config))
    refused = _pylapse(repo, *base, "--from", "2026-03-10", "--to", "2026-03-09")
    assert refused.returncode == 1
    assert "--from 2026-03-10 --to 2026-03-09: the last day (2026-03-09) is before the first " \
        "day (2026-03-10)" in refused.stderr  # fmt: skip
    refused = _pylapse(repo, *base, "--from", "2026-01-01", "--to", "2027-01-02")
    assert refused.returncode == 1
    assert "2026-01-01 to 2027-01-02 is 367 days: at most 366 days" in refused.stderr
    refused = _pylapse(repo, *base, "--from", "2026-03-10")
    assert refused.returncode == 1 and "needs both --from and --to" in refused.stderr
    refused = _pylapse(repo, *base, "--from", "2026-03-10", "--to", "2026-03-11", "--output",
                       "k.png")  # fmt: skip
    assert refused.returncode == 1 and "--output is for one picture" in refused.stderr
    refused = _pylapse(repo, *base, "--date", "2026-03-10")
    assert refused.returncode == 1 and "keogram needs --output FILE" in refused.stderr
    assert not list(config.parent.glob("pictures"))
