"""One output frame: tiles scaled in keeping their shape, a band of rows, stale frames dimmed or
repeated, placeholders, labels with the camera's local time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from pylapse.mosaic.compose import (
    Missing,
    TileArt,
    compose,
    decode_tile,
    label_text,
    parse_band,
)
from pylapse.mosaic.layout import Tile
from pylapse.mosaic.timeline import TileState


@pytest.fixture
def halves(tmp_path: Path) -> Path:
    """A 640x480 JPEG, red above row 240 and blue below."""
    image = Image.new("RGB", (640, 480), (255, 0, 0))
    image.paste((0, 0, 255), (0, 240, 640, 480))
    path = tmp_path / "halves.jpg"
    image.save(path, quality=95)
    return path


def test_a_frame_is_fitted_into_its_tile_keeping_its_shape(halves: Path) -> None:
    image = decode_tile(halves, Tile(0, 0, 200, 100))
    assert image.size == (133, 100)
    assert image.getpixel((66, 10))[0] > 200 and image.getpixel((66, 90))[2] > 200


def test_a_band_of_rows_is_cropped_before_scaling(halves: Path) -> None:
    image = decode_tile(halves, Tile(0, 0, 160, 60), band=(240, 480))
    assert image.size == (160, 60)
    assert all(image.getpixel((x, y))[2] > 200 for x in (5, 80, 150) for y in (2, 30, 57))
    assert parse_band("240:480") == (240, 480)
    for bad in ("480:240", "a:b", "12", "-1:5"):
        with pytest.raises(ValueError, match="band: "):
            parse_band(bad)


def _frame(missing: Missing, state: TileState, image: Image.Image | None) -> Image.Image:
    return compose((100, 50), [TileArt(Tile(0, 0, 100, 50), image, state)], missing)


def test_stale_frames_are_dimmed_or_repeated_and_gaps_dark_or_grey() -> None:
    red = Image.new("RGB", (100, 50), (250, 0, 0))
    assert _frame(Missing.DIM, TileState.FRESH, red).getpixel((50, 25)) == (250, 0, 0)
    assert _frame(Missing.DIM, TileState.STALE, red).getpixel((50, 25)) == (100, 0, 0)
    assert _frame(Missing.REPEAT, TileState.STALE, red).getpixel((50, 25)) == (250, 0, 0)
    assert _frame(Missing.DARK, TileState.STALE, red).getpixel((50, 25)) == (0, 0, 0)
    assert _frame(Missing.PLACEHOLDER, TileState.NONE, None).getpixel((50, 25)) == (48, 48, 48)
    assert _frame(Missing.DARK, TileState.NONE, None).getpixel((50, 25)) == (0, 0, 0)


def test_the_label_reads_each_cameras_local_time() -> None:
    instant = datetime(2026, 3, 10, 10, 0, tzinfo=UTC).timestamp()
    assert label_text("Roof", instant, ZoneInfo("Europe/Berlin")) == "Roof  2026-03-10 11:00:00"
    assert label_text("Bay", instant, ZoneInfo("Asia/Tokyo")) == "Bay  2026-03-10 19:00:00"
    assert label_text("Bay", None, ZoneInfo("Asia/Tokyo")) == "Bay  no frame"
    assert label_text("50%", instant, UTC) == "50%  2026-03-10 10:00:00"


def test_a_label_is_drawn_in_the_tiles_top_left_and_differs_by_time() -> None:
    grey = Image.new("RGB", (320, 240), (128, 128, 128))
    tile = Tile(0, 0, 320, 240)
    plain = compose((320, 240), [TileArt(tile, grey, TileState.FRESH)])
    one = compose((320, 240), [TileArt(tile, grey, TileState.FRESH, "A  2026-03-10 11:00:00")])
    two = compose((320, 240), [TileArt(tile, grey, TileState.FRESH, "A  2026-03-10 19:00:00")])
    corner = (0, 0, 320, 40)
    assert plain.crop(corner).tobytes() != one.crop(corner).tobytes()
    assert one.crop(corner).tobytes() != two.crop(corner).tobytes()
    assert plain.crop((0, 120, 320, 240)).tobytes() == one.crop((0, 120, 320, 240)).tobytes()
    assert grey.getpixel((5, 5)) == (128, 128, 128)  # the cached tile image is not drawn on


def test_cover_fills_the_tile_cropping_evenly(halves: Path) -> None:
    image = decode_tile(halves, Tile(0, 0, 200, 100), cover=True)
    assert image.size == (200, 100)  # 640x480 scaled to 200x150, 25 rows cut top and bottom
    assert image.getpixel((100, 5))[0] > 200 and image.getpixel((100, 45))[0] > 200
    assert image.getpixel((100, 55))[2] > 200 and image.getpixel((100, 95))[2] > 200
    band = decode_tile(halves, Tile(0, 0, 100, 100), band=(240, 480), cover=True)
    assert band.size == (100, 100) and band.getpixel((50, 50))[2] > 200


def test_a_label_shrinks_to_fit_a_narrow_tile() -> None:
    grey = Image.new("RGB", (150, 200), (128, 128, 128))
    tile = Tile(0, 0, 150, 200)
    text = "Harbour  2026-03-10 19:01:30"  # 24 px high (3 % of 800) it is 300 px wide
    one = compose((800, 800), [TileArt(tile, grey, TileState.FRESH, text)])
    plain = compose((800, 800), [TileArt(tile, grey, TileState.FRESH)])
    top = (0, 0, 150, 30)
    assert one.crop(top).tobytes() != plain.crop(top).tobytes()  # a label is there
    edge = (148, 0, 150, 200)  # and it ends before the right edge: nothing cut
    assert one.crop(edge).tobytes() == plain.crop(edge).tobytes()
