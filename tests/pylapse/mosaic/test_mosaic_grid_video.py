"""The multi-camera grid end to end: real collections (Berlin and Tokyo), the real ffmpeg, and
each tile's pixels in the decoded video traced to the frame the rule chose."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from pylapse.collection import Collection
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.mosaic.layout import Layout, tiles
from pylapse.progress import Cancelled, Progress
from pylapse.tasks.mosaic import grid_video, queue_grid, sweep_frame_folders
from tests.pylapse.mosaic.mosaic_support import decode_video, near, tile_pixel, write_frames

START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
BERLIN, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")
GONE = {4, 5, 6}  # minutes the Tokyo camera has no frame


def red(t: datetime) -> tuple[int, int, int]:
    return (240, 20 * round((t - START).total_seconds() / 60), 0)


def blue(t: datetime) -> tuple[int, int, int]:
    return (0, 20 * round((t - START).total_seconds() / 60), 240)


@pytest.fixture
def cameras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Collection]]:
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    minutes = [START + timedelta(minutes=m) for m in range(11)]
    # each camera writes its own local time into its file names: Berlin 11:00, Tokyo 19:00
    write_frames(tmp_path / "berlin", [t.astimezone(BERLIN) for t in minutes], red, "b-")
    tokyo = [t.astimezone(TOKYO) for m, t in enumerate(minutes) if m not in GONE]
    write_frames(tmp_path / "tokyo", tokyo, blue, "t-")
    found = [
        Collection("Berlin", None, tmp_path / "berlin", timezone="Europe/Berlin"),
        Collection("Tokyo", None, tmp_path / "tokyo", timezone="Asia/Tokyo"),
    ]
    yield found
    for c in found:
        c.close()


def test_cameras_in_two_zones_line_up_on_the_instant(cameras, tmp_path: Path) -> None:
    output = tmp_path / "out" / "grid.mp4"
    seen: list[str] = []
    result = grid_video(cameras, "2026-03-10", "2026-03-10", output,
                        lambda p: seen.append(p.stage), size=(320, 120), labels=False,
                        render={"fps": 10})  # fmt: skip
    assert result["frames"] == 11 and output.is_file()
    assert [s for i, s in enumerate(seen) if s not in seen[:i]] == ["select", "compose", "encode"]
    video = decode_video(output)
    assert video.shape == (11, 120, 320, 3)
    left, right = (t.box for t in tiles("grid", 2, (320, 120)))
    for k, frame in enumerate(video):
        assert near(tile_pixel(frame, left), (240, 20 * k, 0)), k
        if k in GONE:  # the last frame before the gap (minute 3), dimmed to 40 %
            assert near(tile_pixel(frame, right), (0, 24, 96)), k
        else:  # the same real minute as Berlin's, though its clock reads 19:0k
            assert near(tile_pixel(frame, right), (0, 20 * k, 240)), k
    manifest = json.loads(output.with_name("grid.mp4.json").read_text())
    mosaic = manifest["mosaic"]
    assert mosaic["kind"] == "grid" and [t["name"] for t in mosaic["tiles"]] == ["Berlin", "Tokyo"]
    assert mosaic["tile_frames"] == {"fresh": 19, "stale": 3, "none": 0}
    assert mosaic["first_instant"] == START.isoformat()
    assert sorted(output.parent.iterdir()) == [output, output.with_name("grid.mp4.json")]


def test_a_placeholder_instead_of_the_dimmed_frame(cameras, tmp_path: Path) -> None:
    output = tmp_path / "grid.mp4"
    grid_video(cameras, "2026-03-10", "2026-03-10", output, size=(320, 120), labels=False,
               missing="placeholder", render={"fps": 10})  # fmt: skip
    frame = decode_video(output)[5]
    assert near(tile_pixel(frame, tiles("grid", 2, (320, 120))[1].box), (48, 48, 48))


def test_labels_show_each_cameras_local_time(cameras, tmp_path: Path) -> None:
    plain, labelled = tmp_path / "plain.mp4", tmp_path / "labelled.mp4"
    common = {"size": (320, 120), "render": {"fps": 10, "crf": 10}}
    grid_video(cameras, "2026-03-10", "2026-03-10", plain, labels=False, **common)
    grid_video(cameras, "2026-03-10", "2026-03-10", labelled, labels=True, **common)
    a, b = decode_video(plain)[0].astype(int), decode_video(labelled)[0].astype(int)
    # the label sits in each tile's top-left corner and nowhere else
    assert abs(a[:20, :120] - b[:20, :120]).max() > 60
    assert abs(a[:20, 160:280] - b[:20, 160:280]).max() > 60
    assert abs(a[80:, :] - b[80:, :]).max() < 20


@pytest.mark.parametrize("stage", ["compose", "encode"])
def test_cancel_leaves_nothing(cameras, tmp_path: Path, stage: str) -> None:
    output = tmp_path / "out" / "grid.mp4"
    output.parent.mkdir()
    output.write_bytes(b"the earlier video")
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.stage == stage:
            cancel.set()

    with pytest.raises(Cancelled):
        grid_video(cameras, "2026-03-10", "2026-03-10", output, progress, cancel,
                   size=(320, 120), render={"fps": 10})  # fmt: skip
    assert output.read_bytes() == b"the earlier video"
    assert [p.name for p in output.parent.iterdir()] == ["grid.mp4"]


def test_a_range_without_frames_is_refused(cameras, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames in the range for Berlin, Tokyo"):
        grid_video(cameras, "2026-04-01", "2026-04-02", tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[JobRunner]:
    jobs = JobRunner(tmp_path / "jobs.db", workers=1, queue_size=4)
    jobs.start()
    yield jobs
    jobs.shutdown()


def test_a_mosaic_job_reports_its_steps(cameras, runner: JobRunner, tmp_path: Path) -> None:
    output = tmp_path / "job.mp4"
    updates = runner.subscribe()
    job = queue_grid(runner, cameras, date(2026, 3, 10), date(2026, 3, 10), output,
                     size=(320, 120), layout=Layout.STRIP, render={"fps": 10})  # fmt: skip
    record = runner.wait(job, timeout=120)
    assert record.state is JobState.DONE, record.error
    assert record.kind == "mosaic" and record.params["layout"] == "strip"
    seen: list[str] = []
    while not updates.empty():
        step = updates.get().step
        if step and step not in seen:
            seen.append(step)
    assert seen == ["select", "compose", "encode"]
    assert record.result is not None and record.result["frames"] == 11
    big, small = tiles("strip", 2, (320, 120))
    frame = decode_video(output)[0]
    assert near(tile_pixel(frame, big.box), (240, 0, 0))
    assert near(tile_pixel(frame, small.box), (0, 0, 240))


def test_a_cancelled_mosaic_job_writes_nothing(cameras, runner: JobRunner, tmp_path: Path) -> None:
    release = threading.Event()
    blocker = runner.submit("test", "hold the worker", lambda p, c: release.wait(30) and None)
    output = tmp_path / "never.mp4"
    job = queue_grid(runner, cameras, date(2026, 3, 10), date(2026, 3, 10), output)
    assert runner.cancel(job)
    release.set()
    runner.wait(blocker, timeout=60)
    assert runner.wait(job, timeout=60).state is JobState.CANCELLED
    assert list(tmp_path.glob("*.mp4*")) == [] and list(tmp_path.glob(".never*")) == []


def test_frames_a_killed_mosaic_left_are_swept(cameras, tmp_path: Path) -> None:
    out = tmp_path / "out"
    gone = subprocess.Popen(["true"])
    gone.wait()
    left = out / f".grid.mp4.frames.pylapse-{gone.pid}-abc123"
    mine = out / f".grid.mp4.frames.pylapse-{os.getpid()}-def456"  # a live owner's: kept
    for folder in (left, mine):
        folder.mkdir(parents=True)
        (folder / "mosaic-0000000.jpg").write_bytes(b"x")
    grid_video(cameras, "2026-03-10", "2026-03-10", out / "grid.mp4", size=(320, 120),
               render={"fps": 10})  # fmt: skip
    assert not left.exists() and mine.is_dir()
    assert sweep_frame_folders(out) == []


def test_a_gif_output_makes_a_gif(cameras, tmp_path: Path) -> None:
    output = tmp_path / "grid.gif"
    result = grid_video(cameras, "2026-03-10", "2026-03-10", output, size=(160, 60),
                        labels=False, render={"fps": 5})  # fmt: skip
    with Image.open(output) as made:
        assert made.format == "GIF" and made.n_frames == result["frames"] == 11
        made.seek(5)
        left = made.convert("RGB").getpixel((40, 40))
    assert near(left, (240, 100, 0), slack=40)  # a palette's colour, minute 5


def test_a_long_mosaic_is_encoded_in_parts_and_joined(cameras, tmp_path: Path) -> None:
    output = tmp_path / "out" / "parts.mp4"
    seen: list[Progress] = []
    result = grid_video(cameras, "2026-03-10", "2026-03-10", output, seen.append,
                        size=(320, 120), labels=False, render={"fps": 10}, chunk=4)  # fmt: skip
    video = decode_video(output)
    assert result["frames"] == len(video) == 11  # parts of 4, 4 and 3 frames
    left, right = (t.box for t in tiles("grid", 2, (320, 120)))
    for k, frame in enumerate(video):
        assert near(tile_pixel(frame, left), (240, 20 * k, 0)), k
        want = (0, 24, 96) if k in GONE else (0, 20 * k, 240)
        assert near(tile_pixel(frame, right), want), k
    manifest = json.loads(output.with_name("parts.mp4.json").read_text())
    assert manifest["parts"] == 3 and manifest["output_frames"] == 11
    assert manifest["mosaic"]["tile_frames"]["stale"] == 3
    assert "encoding part 3 of 3" in {p.message for p in seen}
    stages = [p.stage for p in seen]
    assert stages.index("encode") > max(i for i, s in enumerate(stages) if s == "compose")
    assert sorted(p.name for p in output.parent.iterdir()) == ["parts.mp4", "parts.mp4.json"]


def test_cancel_between_parts_leaves_nothing(cameras, tmp_path: Path) -> None:
    output = tmp_path / "out" / "parts.mp4"
    output.parent.mkdir()
    output.write_bytes(b"the earlier video")
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.message.startswith("encoding part 2"):
            cancel.set()

    with pytest.raises(Cancelled):
        grid_video(cameras, "2026-03-10", "2026-03-10", output, progress, cancel,
                   size=(320, 120), render={"fps": 10}, chunk=4)  # fmt: skip
    assert output.read_bytes() == b"the earlier video"
    assert [p.name for p in output.parent.iterdir()] == ["parts.mp4"]
