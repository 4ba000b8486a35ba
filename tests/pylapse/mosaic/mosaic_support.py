"""Frames and videos for the mosaic tests: solid-colour JPEGs named with their time (each
camera its own colour, the frame's minute in the green channel, so a tile's pixels say which
frame it shows) and a rendered video decoded back to RGB arrays with the real ffmpeg."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse import naming, storage
from pylapse.ffmpeg import find_ffmpeg

W, H = 160, 120
CLOSE = 14  # what h264's 4:2:0 round trip may move a solid colour by, per channel


def write_frame(root: Path, when: datetime, color: tuple[int, int, int], prefix: str) -> Path:
    folder = storage.day_folder(root, when)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / naming.format_name(when, prefix=prefix)
    Image.new("RGB", (W, H), color).save(path, "JPEG", quality=95)
    return path


def write_frames(root: Path, times: Iterable[datetime], color_of, prefix: str) -> list[Path]:
    return [write_frame(root, t, color_of(t), prefix) for t in times]


def decode_video(path: Path) -> npt.NDArray[np.uint8]:
    """Every frame of the video at ``path`` as an (n, height, width, 3) array."""
    probe = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(path), "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    info = subprocess.run(
        [str(find_ffmpeg().path), "-i", str(path)], capture_output=True, text=True, timeout=60
    ).stderr
    import re

    w, h = map(int, re.search(r", (\d{2,5})x(\d{2,5})", info).groups())  # type: ignore[union-attr]
    data = np.frombuffer(probe.stdout, np.uint8)
    return data.reshape(-1, h, w, 3)


def near(pixel: Iterable[int], color: Iterable[float], slack: int = CLOSE) -> bool:
    return all(abs(int(a) - round(b)) <= slack for a, b in zip(pixel, color, strict=True))


def tile_pixel(frame: npt.NDArray[np.uint8], box: tuple[int, int, int, int]) -> list[int]:
    """The mean colour of the middle of a tile, below where a label would sit."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) // 2, y0 + (y1 - y0) * 3 // 4
    patch = frame[cy - 4 : cy + 4, cx - 4 : cx + 4].reshape(-1, 3)
    return [int(v) for v in patch.mean(axis=0).round()]


def utc_of(when: datetime, zone: tzinfo) -> datetime:
    return when.astimezone(zone)
