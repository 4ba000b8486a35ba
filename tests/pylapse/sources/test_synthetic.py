"""The demo camera renders a real JPEG whose sky follows the sun at the camera's location."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageStat

from pylapse.sources.base import create_source
from pylapse.sources.synthetic import sky_color

INSTANT = datetime(2026, 6, 21, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo, 23:00 in New York


def image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def sky_brightness(img: Image.Image) -> float:
    top = img.crop((0, 0, img.width, img.height // 4)).convert("L")
    return ImageStat.Stat(top).mean[0]


def demo(make_camera, **fields):
    values = {"type": "synthetic", "timezone": "Asia/Tokyo", "latitude": 35.68, "longitude": 139.69}
    values.update(fields)
    return create_source(make_camera(**values))


def test_default_frame_is_a_1280x720_jpeg(make_camera):
    img = image(demo(make_camera).grab(INSTANT))
    assert (img.format, img.size) == ("JPEG", (1280, 720))


def test_capture_size_is_honoured(make_camera):
    img = image(demo(make_camera, capture_width=640, capture_height=360).grab(INSTANT))
    assert img.size == (640, 360)


def test_sky_follows_the_sun_at_the_camera_location(make_camera):
    tokyo = demo(make_camera).grab(INSTANT)  # noon there
    new_york = demo(make_camera, timezone="America/New_York", latitude=40.71, longitude=-74.0).grab(
        INSTANT
    )  # 23:00 there
    assert sky_brightness(image(tokyo)) > sky_brightness(image(new_york)) + 60


def test_day_and_night_at_one_place(make_camera):
    source = demo(make_camera)
    tz = ZoneInfo("Asia/Tokyo")
    noon = image(source.grab(datetime(2026, 1, 10, 12, 0, tzinfo=tz)))
    midnight = image(source.grab(datetime(2026, 1, 10, 0, 0, tzinfo=tz)))
    assert sky_brightness(noon) > sky_brightness(midnight) + 60


def test_location_guessed_from_the_time_zone_when_not_configured(make_camera):
    source = demo(make_camera, latitude=None, longitude=None)
    tz = ZoneInfo("Asia/Tokyo")
    noon = image(source.grab(datetime(2026, 4, 1, 12, 0, tzinfo=tz)))
    night = image(source.grab(datetime(2026, 4, 1, 1, 0, tzinfo=tz)))
    assert sky_brightness(noon) > sky_brightness(night) + 60


def test_same_instant_same_frame_and_time_moves_the_scene(make_camera):
    source = demo(make_camera)
    in_tokyo = INSTANT.astimezone(ZoneInfo("Asia/Tokyo"))
    assert source.grab(INSTANT) == source.grab(in_tokyo)  # drawn in the camera's own zone
    assert source.grab(INSTANT) != source.grab(INSTANT + timedelta(seconds=1))  # the clock
    a, b = image(source.grab(INSTANT)), image(source.grab(INSTANT + timedelta(minutes=5)))
    sky_a = a.crop((0, 0, a.width, a.height // 2)).tobytes()
    sky_b = b.crop((0, 0, b.width, b.height // 2)).tobytes()
    assert sky_a != sky_b  # clouds drift


def test_now_when_no_time_given(make_camera):
    assert image(demo(make_camera).grab()).format == "JPEG"


def test_sky_colour_brightens_with_the_sun():
    night, _ = sky_color(-30)
    day, _ = sky_color(45)
    assert sum(day) > sum(night) + 200
