"""Sky metrics (issue 18) over a band of rows of real image files and decoded images."""

from __future__ import annotations

import io

import piexif
import pytest
from PIL import Image, ImageDraw
from pydantic import ValidationError

from pylapse import exif
from pylapse.config.cameras import CameraConfig, MetricsRegion
from pylapse.imaging import quality, sky

SKY, GROUND = (70, 130, 230), (40, 160, 30)


def _landscape(size: tuple[int, int] = (1600, 1200), horizon: int = 800) -> Image.Image:
    """A blue sky above row ``horizon`` and green ground below, a white cloud in the sky (on
    the 8 px grid of the copy's boxes, so no box mixes cloud and sky)."""
    image = Image.new("RGB", size, GROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], horizon - 1), fill=SKY)
    draw.rectangle((96, 96, 295, 295), fill=(255, 255, 255))
    return image


def _jpeg(image: Image.Image, exif_bytes: bytes = b"") -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95, exif=exif_bytes)
    return buf.getvalue()


def test_a_band_of_rows_measures_the_sky_without_the_ground() -> None:
    image = _landscape()
    small = quality.reduced(image, "RGB")
    band = sky.measure(small, image.height, sky.Region(0, 800))
    cloud_share = 200 * 200 / (1600 * 800)
    for k in range(3):
        want = SKY[k] * (1 - cloud_share) + 255 * cloud_share
        assert band.mean[k] == pytest.approx(want, abs=0.5)
        assert band.median[k] == pytest.approx(SKY[k], abs=0.5)
        assert band.min[k] == SKY[k] and band.max[k] == 255
        spread = (255 - SKY[k]) * (cloud_share * (1 - cloud_share)) ** 0.5
        assert band.std[k] == pytest.approx(spread, abs=0.5)
    assert band.centre == tuple(float(v) for v in SKY)
    whole = sky.measure(small, image.height)
    assert whole.min[0] == GROUND[0] and whole.max[1] == 255  # the ground counts now
    assert whole.centre == tuple(float(v) for v in SKY)  # row 600 of 1200
    lower = sky.measure(small, image.height, sky.Region(600, None))
    assert lower.centre == tuple(float(v) for v in GROUND)  # row 900
    assert whole.mean[2] < band.mean[2] - 50


def test_a_draft_decoded_jpeg_measures_like_the_full_frame() -> None:
    data = _jpeg(_landscape())
    region = sky.Region(0, 800)
    with Image.open(io.BytesIO(data)) as image:
        height = image.height
        drafted = sky.measure(quality.reduced(image, "RGB"), height, region)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        full = sky.measure(quality.reduced(image, "RGB"), height, region)
    for a, b in zip(drafted.mean + drafted.median, full.mean + full.median, strict=True):
        assert a == pytest.approx(b, abs=2)


def test_a_band_below_a_small_frame_measures_its_last_row() -> None:
    image = Image.new("RGB", (64, 48), GROUND)
    got = sky.measure(image, 48, sky.Region(1000, 1400))
    assert got.mean == tuple(float(v) for v in GROUND)


def test_columns_carry_every_statistic_and_the_exposure() -> None:
    columns = sky.measure(Image.new("RGB", (8, 8), SKY), 8).as_columns()
    assert columns["sky_b_max"] == SKY[2] and columns["centre_g"] == SKY[1]
    assert columns["exposure_time"] is None and len(columns) == 21


def test_exposure_comes_from_the_exif_header() -> None:
    tags = {
        piexif.ExifIFD.ExposureTime: (1, 250),
        piexif.ExifIFD.FNumber: (28, 10),
        piexif.ExifIFD.ISOSpeedRatings: 400,
    }
    data = _jpeg(Image.new("RGB", (32, 24), SKY), piexif.dump({"Exif": tags}))
    with Image.open(io.BytesIO(data)) as image:
        got = exif.exposure(image)
    assert (got.time, got.f_number, got.iso) == (pytest.approx(0.004), pytest.approx(2.8), 400)
    with Image.open(io.BytesIO(_jpeg(Image.new("RGB", (32, 24))))) as image:
        assert exif.exposure(image) == exif.Exposure(None, None, None)


def test_a_region_upside_down_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="bottom=100 must be below top=400"):
        sky.Region(400, 100)
    bad = {"top": 400, "bottom": 100}
    with pytest.raises(ValidationError, match="metrics_region: bottom=100 must be below top=400"):
        CameraConfig(name="x", type="synthetic", output_dir="out", metrics_region=bad)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        MetricsRegion(top=-1)
    region = {"bottom": 4}
    camera = CameraConfig(name="x", type="synthetic", output_dir="out", metrics_region=region)
    assert camera.metrics_region == MetricsRegion(top=0, bottom=4)
