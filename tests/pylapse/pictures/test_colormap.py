"""The colour map: each pixel is the stored sky colour of the frame in that slot of that day
(wall-clock days across a DST change), from the index alone; plus its 1920x1080 copy."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from pylapse import timeutil
from pylapse.collection import Collection
from pylapse.index.store import FrameIndex
from pylapse.pictures.colormap import colormap
from pylapse.pictures.kinds import PictureError

BERLIN = timeutil.zone("Europe/Berlin")
FIRST, LAST = date(2026, 3, 28), date(2026, 3, 30)  # DST starts in Berlin on the 29th
STEP = timedelta(minutes=20)


def _colour(i: int, stat: str) -> tuple[float, float, float]:
    base = {"mean": 0.0, "median": 1.0, "max": 2.0}[stat]
    return ((i * 7 + base) % 256, (i * 3 + 0.4) % 256, (200 - i + base) % 256)


@pytest.fixture
def sky(tmp_path):
    with FrameIndex(tmp_path / "pylapse.db") as index:
        start = datetime(2026, 3, 27, 22, 0, tzinfo=BERLIN)  # the day before: left out
        frames = []
        for i in range(3 * 72 + 12):
            when = (start.astimezone(UTC) + i * STEP).astimezone(BERLIN)  # real time
            frames.append((index.add_frame("cam", tmp_path / f"f{i}.jpg", when, size=1, mtime=0),
                           when))  # fmt: skip
        scores = []
        for i, (fid, _when) in enumerate(frames):
            if i % 11 == 5:
                continue  # not measured: stays black
            columns = {}
            for stat in ("mean", "median", "max"):
                for c, v in zip("rgb", _colour(i, stat), strict=True):
                    columns[f"sky_{c}_{stat}"] = v
            scores.append((fid, columns))
        index.set_scores(scores)
        collection = Collection("cam", None, tmp_path, timezone=BERLIN, index=index, key="cam")
        yield collection, frames


@pytest.mark.parametrize("stat", ["mean", "median", "max"])
def test_each_pixel_is_its_frames_stored_colour(sky, stat) -> None:
    collection, frames = sky
    picture = collection.pictures.colormap(FIRST, LAST, stat=stat, slot_width=1200)
    image = picture.image
    assert image.size == (72, 3)  # 20-minute slots, three days
    expected: dict[tuple[int, int], tuple[int, int, int]] = {}
    for i, (_fid, when) in enumerate(frames):
        day = (when.date() - FIRST).days
        if i % 11 == 5 or not 0 <= day < 3:
            continue
        slot = (when.hour * 3600 + when.minute * 60) // 1200
        expected[(slot, day)] = tuple(math.floor(v + 0.5) for v in _colour(i, stat))
    assert len(expected) > 150
    # the 29th is 23 hours long in Berlin: its slots 02:00-03:00 never happen, so stay black
    assert not {(6, 1), (7, 1), (8, 1)} & set(expected)
    assert {(6, 0), (6, 2)} <= set(expected)
    for y in range(3):
        for x in range(72):
            assert image.getpixel((x, y)) == expected.get((x, y), (0, 0, 0)), (x, y)
    assert picture.manifest["frames"] >= len(expected)  # measured frames read from the index
    (scaled,) = picture.variants.values()
    assert scaled.size == (1920, 1080)


def test_a_saved_colour_map_has_its_scaled_copy(sky, tmp_path) -> None:
    collection, _ = sky
    saved = collection.pictures.colormap("2026-03-28", "2026-03-30").save(tmp_path / "map.png")
    assert saved.manifest["slot_width"] == 1200  # the frames' spacing
    assert saved.manifest["variants"] == ["map-1920x1080.png"]
    with Image.open(tmp_path / "map-1920x1080.png") as image:
        assert image.size == (1920, 1080)


def test_refusals_name_what_is_wrong(sky) -> None:
    collection, _ = sky
    with pytest.raises(PictureError, match="stat: 'mode'"):
        collection.pictures.colormap(FIRST, LAST, stat="mode")
    with pytest.raises(PictureError, match="no frames with sky colours from 2027-01-01"):
        collection.pictures.colormap("2027-01-01", "2027-01-02")
    with pytest.raises(PictureError, match="before"):
        import numpy as np

        colormap(np.zeros(1), np.zeros(1, np.int64), np.zeros((1, 3)), LAST, FIRST, 10)
