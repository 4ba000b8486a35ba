"""Daystrips and keograms: one line of each slot's frame, traced back to the frame by pixels."""

from __future__ import annotations

import pytest
from PIL import Image

from pylapse.pictures.daystrip import daystrip
from pylapse.pictures.frames import decode_reduced
from pylapse.pictures.keogram import keogram
from pylapse.pictures.kinds import PictureError
from tests.pylapse.pictures.picture_support import DAY, MISSING, Generated, H, W, pixel_frame

BLACK_ROW = [(0, 0, 0)] * W


def _row(image: Image.Image, y: int) -> list[tuple[int, int, int]]:
    return [image.getpixel((x, y)) for x in range(image.width)]  # type: ignore[misc]


def _column(image: Image.Image, x: int) -> list[tuple[int, int, int]]:
    return [image.getpixel((x, y)) for y in range(image.height)]  # type: ignore[misc]


def test_a_collection_daystrip_has_one_row_per_slot_from_its_frame(generated: Generated) -> None:
    picture = generated.collection.pictures.daystrip(DAY)
    strip = picture.image
    assert strip.size == (W, 144)  # 10-minute slots: the frames' own spacing
    for k in range(144):
        if k in MISSING:
            assert _row(strip, k) == BLACK_ROW, k
        else:
            assert _row(strip, k) == _row(pixel_frame(k), H // 2), k
    assert picture.manifest["slot_width"] == 600
    frames = picture.manifest["frames"]
    assert len(frames) == 144 and frames[0][1] is None
    assert frames[2][1] == str(generated.by_slot[2])


def test_a_daystrip_takes_the_row_asked_for(generated: Generated) -> None:
    strip = generated.collection.pictures.daystrip(DAY, row=7).image
    assert _row(strip, 10) == _row(pixel_frame(10), 7)
    with pytest.raises(PictureError, match="row: 48 is outside the frame"):
        generated.collection.pictures.daystrip(DAY, row=H)


def test_a_keogram_has_one_column_per_slot(generated: Generated) -> None:
    image = generated.collection.pictures.keogram(DAY, column=5).image
    assert image.size == (144, H)
    assert _column(image, 20) == _column(pixel_frame(20), 5)
    assert _column(image, 50) == [(0, 0, 0)] * H
    centre = generated.collection.pictures.keogram(DAY).image
    assert _column(centre, 99) == _column(pixel_frame(99), W // 2)


def test_real_frames_at_half_scale(real_frames: list) -> None:
    paths = [*real_frames[:10], None, *real_frames[10:20]]
    strip = daystrip(paths, row=400, scale=2, workers=2)
    assert strip.size == (384, 21)
    for i in (0, 5, 20):
        frame = decode_reduced(paths[i], 2)
        assert _row(strip, i) == _row(frame, 200), i
    assert _row(strip, 10) == [(0, 0, 0)] * 384
    keo = keogram(paths, scale=4)
    assert keo.size == (21, 144)
    assert _column(keo, 3) == _column(decode_reduced(paths[3], 4), 96)


def test_a_day_without_readable_frames_is_refused(tmp_path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a picture")
    with pytest.raises(PictureError, match="no frame of the day could be read"):
        daystrip([None, bad])
