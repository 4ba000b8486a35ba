"""The daystrip movie: a real ffmpeg draws the strip top to bottom, frame by frame."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image

from pylapse.ffmpeg import find_ffmpeg
from pylapse.pictures.kinds import PictureError
from pylapse.pictures.movie import daystrip_movie, reveal_command
from pylapse.progress import Progress

W, H, FRAMES = 64, 144, 12


def _frames(path) -> list[bytes]:
    """The video's frames as 8-bit grey rows."""
    raw = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(path), "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    size = W * H
    return [raw[k : k + size] for k in range(0, len(raw), size)]


def _band(frame: bytes, top: int, bottom: int) -> float:
    rows = frame[top * W : bottom * W]
    return sum(rows) / len(rows)


def test_each_frame_shows_the_strip_down_to_its_moment(tmp_path) -> None:
    strip = Image.new("RGB", (32, 8640), (200, 200, 200))
    strip.paste((90, 90, 90), (0, 4320, 32, 8640))  # the afternoon is darker
    seen: list[Progress] = []
    out = daystrip_movie(strip, tmp_path / "day.mp4", size=(W, H), fps=10, seconds=1.2,
                         progress=seen.append)  # fmt: skip
    frames = _frames(out)
    assert len(frames) == FRAMES
    for n, frame in enumerate(frames):
        edge = -(-H * (n + 1) // FRAMES)  # rows shown: 12, 24, ... 144
        dark = [y for y in range(H) if _band(frame, y, y + 1) < 40]  # black (16 in TV range)
        first_dark = dark[0] if dark else H
        assert abs(first_dark - edge) <= 2, (n, first_dark, edge)
        assert dark == list(range(first_dark, H)), n  # everything below the edge is black
    last = frames[-1]
    assert 185 < _band(last, 4, H // 2 - 4) < 215 and 75 < _band(last, H // 2 + 4, H - 4) < 105
    assert seen and seen[-1].stage == "encode" and seen[-1].done == FRAMES


def test_a_failed_movie_keeps_the_earlier_one(tmp_path) -> None:
    out = tmp_path / "day.mp4"
    out.write_bytes(b"earlier")
    with pytest.raises(PictureError, match="even numbers"):
        daystrip_movie(Image.new("RGB", (4, 4)), out, size=(65, 144))
    with pytest.raises(PictureError, match=r"must end in \.mp4"):
        daystrip_movie(Image.new("RGB", (4, 4)), tmp_path / "day.gif")
    with pytest.raises(OSError):
        daystrip_movie(Image.new("RGB", (4, 4)), out, size=(64, 64), fps=10, seconds=0.5,
                       ffmpeg=str(tmp_path / "no-ffmpeg"))  # fmt: skip
    assert out.read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.mp4"]


def test_the_command_is_an_argument_list() -> None:
    command = reveal_command("ffmpeg", "s.png", "o.mp4", (1920, 1080), 30, 600)
    assert command[0] == "ffmpeg" and command[-1] == "o.mp4"
    assert (
        "overlay=x=0:y='ceil(1080*(round(t*30)+1)/600)':eval=frame"
        in command[command.index("-filter_complex") + 1]
    )
