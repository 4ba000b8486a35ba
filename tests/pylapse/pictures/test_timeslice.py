"""Time slices: column x from the frame of slot floor((x + 0.5) * slots / width)."""

from __future__ import annotations

from PIL import Image

from pylapse.pictures.frames import decode_reduced
from pylapse.pictures.timeslice import bands, timeslice
from tests.pylapse.pictures.picture_support import DAY, MISSING, Generated, H, W, pixel_frame


def _column(image: Image.Image, x: int) -> list[tuple[int, int, int]]:
    return [image.getpixel((x, y)) for y in range(image.height)]  # type: ignore[misc]


def test_bands_cover_every_column_once_in_time_order() -> None:
    assert bands(4, 8) == [(0, 0, 2), (1, 2, 4), (2, 4, 6), (3, 6, 8)]
    assert bands(10, 4) == [(1, 0, 1), (3, 1, 2), (6, 2, 3), (8, 3, 4)]
    assert bands(1, 3) == [(0, 0, 3)]
    many = bands(8640, 1920)
    assert len(many) == 1920 and [b[1] for b in many] == list(range(1920))
    assert many[0][0] == 2 and many[-1][0] == 8637


def test_each_column_comes_from_the_frame_of_its_time(generated: Generated) -> None:
    image = generated.collection.pictures.timeslice(DAY).image
    assert image.size == (W, H)
    for x in range(W):
        k = (2 * x + 1) * 144 // (2 * W)
        expected = [(0, 0, 0)] * H if k in MISSING else _column(pixel_frame(k), x)
        assert _column(image, x) == expected, x


def test_real_frames_fewer_than_columns_give_bands(real_frames: list) -> None:
    paths = real_frames[:40]
    image = timeslice(paths, scale=4)
    assert image.size == (192, 144)
    for x in (0, 4, 5, 100, 191):
        k = (2 * x + 1) * 40 // (2 * 192)
        assert _column(image, x) == _column(decode_reduced(paths[k], 4), x), x
