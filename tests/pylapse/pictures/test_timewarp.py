"""The time warp: band b of video frame j is frame j + b's band, by pixels; encoded by a real
ffmpeg; a cancelled run keeps the earlier video."""

from __future__ import annotations

import subprocess
import threading

import pytest

from pylapse.ffmpeg import find_ffmpeg
from pylapse.pictures.kinds import PictureError
from pylapse.pictures.timewarp import timewarp, timewarp_frames
from pylapse.progress import Cancelled, Progress
from tests.pylapse.pictures.picture_support import DAY, H, W, pixel_frame


@pytest.fixture
def slots(tmp_path):
    paths = []
    for k in range(20):
        path = tmp_path / f"f{k:02d}.png"
        pixel_frame(k).save(path)
        paths.append(path)
    paths[10] = None  # a gap
    return paths


def test_each_band_comes_from_its_own_slot(slots) -> None:
    frames = list(timewarp_frames(slots, (W, H), 8, workers=2))
    assert len(frames) == 20 - 8 + 1
    for j, frame in enumerate(frames):
        assert frame.size == (W, H)
        for b in range(8):
            box = (8 * b, 0, 8 * b + 8, H)
            want = bytes(8 * H * 3) if j + b == 10 else pixel_frame(j + b).crop(box).tobytes()
            assert frame.crop(box).tobytes() == want, (j, b)


def test_too_few_slots_and_bad_bands_are_refused(slots) -> None:
    with pytest.raises(PictureError, match="needs at least 64 slots; there are 20"):
        list(timewarp_frames(slots, (W, H), 1))
    with pytest.raises(PictureError, match="band: 0"):
        list(timewarp_frames(slots, (W, H), 0))


def test_the_video_has_a_frame_per_position(slots, tmp_path) -> None:
    seen: list[Progress] = []
    out = timewarp(slots, tmp_path / "warp.mp4", (W, H), band=16, fps=10, progress=seen.append)
    raw = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(out), "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert len(raw) == (20 - 4 + 1) * W * H * 3
    assert seen[-1].done == seen[-1].total == 17


def test_a_cancelled_time_warp_keeps_the_earlier_video(slots, tmp_path) -> None:
    out = tmp_path / "warp.mp4"
    out.write_bytes(b"earlier")
    cancel = threading.Event()

    def progress(p: Progress) -> None:
        if p.done >= 3:
            cancel.set()

    with pytest.raises(Cancelled):
        timewarp(slots * 5, out, (W, H), band=16, progress=progress, cancel=cancel)
    assert out.read_bytes() == b"earlier"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_collection_day_as_a_time_warp(generated, tmp_path) -> None:
    out = generated.collection.pictures.timewarp(DAY, tmp_path / "day.mkv", band=32, fps=12)
    raw = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(out), "-f", "rawvideo",
         "-pix_fmt", "gray", "-"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert len(raw) == (144 - 2 + 1) * W * H  # 10-minute slots, two bands of 32 columns
