"""The per-day segment cache with the real ffmpeg, the joined video read back by ffprobe."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from pylapse.video.command import RenderOptions
from pylapse.video.manifest import read_manifest
from pylapse.video.segments import render_segmented, why_not

FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Shot:
    """The shape of an index frame that the cache reads (path, time; size/mtime from the file)."""

    path: Path
    utc: float
    offset: int


def shoot(folder: Path, day: datetime, count: int, first: int = 0) -> list[Shot]:
    """``count`` frames an hour apart from 08:00 local on ``day``, each visibly different."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    for i in range(first, first + count):
        when = day.replace(hour=8, tzinfo=BERLIN) + timedelta(minutes=10 * i)
        image = Image.new("RGB", (96, 64), ((i * 37 + day.day * 11) % 256, 90, 160))
        ImageDraw.Draw(image).rectangle((i % 80, 2, i % 80 + 8, 12), fill="white")
        path = folder / f"cam-{when:%Y-%m-%dT%H-%M-%S}.jpg"
        image.save(path, quality=90)
        offset = int(when.utcoffset().total_seconds())  # type: ignore[union-attr]
        shots.append(Shot(path, when.timestamp(), offset))
    return shots


def probe(path: Path) -> dict:
    if not Path(FFPROBE).exists():
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height,pix_fmt,nb_read_frames:format=duration",
         "-show_entries", "packet=pts,dts", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def check_plays(video: Path, frames: int, fps: float) -> None:
    """One clean stream: every frame decodes, the duration fits, timestamps only grow."""
    info = probe(video)
    stream = info["streams"][0]
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    assert int(stream["nb_read_frames"]) == frames
    assert float(info["format"]["duration"]) == pytest.approx(frames / fps, abs=1.5 / fps)
    dts = [int(p["dts"]) for p in info["packets"]]
    pts = sorted(int(p["pts"]) for p in info["packets"])
    assert len(pts) == frames
    assert all(a < b for a, b in itertools.pairwise(dts)), "decode times go back"
    assert len(set(pts)) == frames, "two frames share a presentation time"
    assert video.read_bytes()[4:8] == b"ftyp" and b"moov" in video.read_bytes()[:4096]


def test_one_changed_day_is_encoded_again_and_the_join_plays(tmp_path: Path) -> None:
    days = [datetime(2026, 3, 27 + n) for n in range(3)]  # Berlin's DST change on the 29th
    shots = {d.day: shoot(tmp_path / "frames" / f"{d:%d}", d, 5 + d.day % 3) for d in days}
    cache, out = tmp_path / "cache", tmp_path / "videos" / "three-days.mp4"
    options = RenderOptions(fps=10, speed="draft")
    every = [s for d in days for s in shots[d.day]]

    cold = render_segmented(every, out, options, cache)
    assert cold.encoded == ("2026-03-27", "2026-03-28", "2026-03-29") and cold.reused == ()
    check_plays(out, len(every), 10)
    assert cold.result.frames == len(every)

    shots[28] += shoot(tmp_path / "frames" / "28", days[1], 1, first=20)  # one frame more
    every = [s for d in days for s in shots[d.day]]
    warm = render_segmented(every, out, options, cache)
    assert warm.encoded == ("2026-03-28",)
    assert warm.reused == ("2026-03-27", "2026-03-29")
    check_plays(out, len(every), 10)
    manifest = read_manifest(out)
    assert manifest is not None and manifest["segments"]["encoded"] == ["2026-03-28"]

    again = render_segmented(every, out, options, cache)  # nothing changed: nothing encoded
    assert again.encoded == ()
    check_plays(out, len(every), 10)

    other = render_segmented(every, tmp_path / "crf.mp4", RenderOptions(fps=10, crf=30), cache)
    assert len(other.encoded) == 3 and other.folder != again.folder  # parameters changed


def test_a_frame_replaced_in_place_invalidates_its_day(tmp_path: Path) -> None:
    day = datetime(2026, 6, 1)
    shots = shoot(tmp_path / "f", day, 4) + shoot(tmp_path / "g", day + timedelta(days=1), 4)
    out = tmp_path / "v.mp4"
    render_segmented(shots, out, RenderOptions(fps=5), tmp_path / "c")
    Image.new("RGB", (96, 64), "red").save(shots[5].path, quality=70)  # same name, new bytes
    again = render_segmented(shots, out, RenderOptions(fps=5), tmp_path / "c")
    assert again.encoded == ("2026-06-02",)
    check_plays(out, 8, 5)


def test_what_the_cache_leaves_to_a_whole_render(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    assert why_not(RenderOptions(), out) is None
    assert "whole sequence" in str(why_not(RenderOptions(stabilise=True), out))
    assert "day borders" in str(why_not(RenderOptions(deflicker=True), out))
    assert why_not(RenderOptions(duration=10), out) is not None
    assert why_not(RenderOptions(codec="gif"), tmp_path / "v.gif") is not None
    with pytest.raises(ValueError, match="segment cache: stabilise"):
        render_segmented([], out, RenderOptions(stabilise=True), tmp_path / "c")


def test_a_day_of_another_frame_shape_leaves_the_render_in_one_piece(tmp_path: Path) -> None:
    from pylapse.config.models import Config
    from pylapse.tasks.render import render
    from pylapse.video.segments import OtherSize

    wide = shoot(tmp_path / "a", datetime(2026, 6, 1), 3)
    tall = shoot(tmp_path / "b", datetime(2026, 6, 2), 2)
    for shot in tall:
        Image.new("RGB", (64, 96), "navy").save(shot.path, quality=90)
    with pytest.raises(OtherSize, match="2026-06-02"):
        render_segmented(wide + tall, tmp_path / "v.mp4", RenderOptions(fps=5), tmp_path / "c")
    config = Config.model_validate({"storage_roots": [str(tmp_path)]})
    done = render(config, lambda: wide + tall, tmp_path / "w.mp4", {"fps": 5},
                  roots=[tmp_path], segment_cache=tmp_path / "c")  # fmt: skip
    assert "segments_encoded" not in done and done["frames"] == 3 and done["skipped"] == 2


def test_a_cancelled_render_keeps_the_earlier_video_and_the_days_it_finished(
    tmp_path: Path,
) -> None:
    import threading

    from pylapse.progress import Cancelled, Progress

    days = [datetime(2026, 7, 1 + n) for n in range(3)]
    shots = [s for d in days for s in shoot(tmp_path / f"{d:%d}", d, 4)]
    out, cache = tmp_path / "v.mp4", tmp_path / "c"
    render_segmented(shots[:4], out, RenderOptions(fps=5), cache)  # the first day only
    before = out.read_bytes()
    cancel = threading.Event()

    def stop_on_day_three(p: Progress) -> None:
        if "2026-07-03" in p.message:
            cancel.set()

    with pytest.raises(Cancelled):
        render_segmented(shots, out, RenderOptions(fps=5), cache, stop_on_day_three, cancel)
    assert out.read_bytes() == before  # never half replaced
    (folder,) = cache.iterdir()
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp left
    again = render_segmented(shots, out, RenderOptions(fps=5), cache)
    assert again.encoded == ("2026-07-03",)  # the 2nd day was finished before the cancel
    check_plays(out, 12, 5)
