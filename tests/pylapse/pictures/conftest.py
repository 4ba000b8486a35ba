"""Frames for the picture tests: generated PNGs (each pixel a known function of the frame's
number, so a picture's every row and column can be traced to its frame) in a real collection
with a real index, and the real JPEG sequence of ../shared."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import naming, storage
from pylapse.collection import Collection
from tests.conftest import shared_testdata

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


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Generated]:
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "frames"
    by_slot = write_day(root, DAY, MISSING, offset=3)  # 3 s late: the grid still holds them
    collection = Collection("gen", None, root, timezone="UTC")
    yield Generated(root, collection, by_slot)
    collection.close()


@pytest.fixture
def real_frames() -> list[Path]:
    frames = sorted((shared_testdata("sequence-real") / "frames").glob("*.jpg"))
    assert len(frames) == 80
    return frames
