"""Frames for the picture tests: generated PNGs (each pixel a known function of the frame's
number, so a picture's every row and column can be traced to its frame) in a real collection
with a real index, and the real JPEG sequence of ../shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from PIL import Image

from pylapse import naming, storage
from pylapse.collection import Collection

DAY = date(2026, 3, 10)
STEP = timedelta(minutes=10)
W, H = 64, 48
MISSING = {0, 1, 50, 51, 52, 143}  # slots of DAY with no frame (gaps)


def pixel_frame(k: int, size: tuple[int, int] = (W, H)) -> Image.Image:
    width, height = size
    data = bytes(
        v
        for y in range(height)
        for x in range(width)
        for v in ((x * 4 + k * 3) % 256, (y * 5 + k * 7) % 256, (k * 11) % 256)
    )
    return Image.frombytes("RGB", size, data)


@dataclass
class Generated:
    root: Path
    collection: Collection
    by_slot: dict[int, Path]  # slot number of DAY (0..143) -> frame file


def write_day(root: Path, day: date, missing: set[int], *, offset: int = 0) -> dict[int, Path]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    out = {}
    for k in range(144):
        if k in missing:
            continue
        when = start + k * STEP + timedelta(seconds=offset)
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / naming.format_name(when, prefix="gen-", ext="png")
        pixel_frame(k).save(path)
        out[k] = path
    return out
