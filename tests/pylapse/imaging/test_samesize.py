"""Frames kept at their size through libjpeg-turbo: the same picture as Pillow's way, and every
frame it should not take is left to Pillow."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageOps, ImageStat

from pylapse.imaging import samesize, turbo
from pylapse.imaging.overlay import TimestampOverlay
from pylapse.imaging.planes import Planes
from pylapse.imaging.process import Resize, exif_bytes_for
from tests.conftest import shared_testdata

PSNR_FLOOR = 40.0  # dB against Pillow's decode + stamp of the same frame; measured ~44-49
WHEN = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BOX = Resize(1920, 1080)

pytestmark = pytest.mark.skipif(not samesize.available(), reason="simplejpeg is not installed")


def _psnr(a: Image.Image, b: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (a.width * a.height * 3)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def _frame_1080p(path: Path, orientation: int | None = None, **save: object) -> Path:
    """A real photo cut to 1920x1080, saved as a camera would (q92, with its EXIF camera)."""
    with Image.open(shared_testdata("exif-real") / "samsung_g965w_subsec6.jpg") as photo:
        picture = ImageOps.fit(photo.convert("RGB"), (1920, 1080), Image.Resampling.LANCZOS)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    picture.save(path, "JPEG", quality=92, exif=exif.tobytes(), **save)
    return path


@pytest.mark.parametrize(
    "planes",
    [
        False,
        pytest.param(
            True, marks=pytest.mark.skipif(not turbo.available(), reason="no libturbojpeg")
        ),
    ],
    ids=["rgb", "planes"],
)
def test_a_stamped_frame_is_pillows_picture_with_its_exif_and_no_orientation(tmp_path, planes):
    source = _frame_1080p(tmp_path / "in.jpg", orientation=1)
    frame = samesize.open_frame(source, BOX, planes=planes)
    assert frame is not None and frame.image.size == (1920, 1080)
    assert isinstance(frame.image, Planes) == planes
    frame.exif.pop(ExifTags.Base.Orientation, None)
    stamp = TimestampOverlay()
    box = stamp.apply(frame.image, WHEN)
    out = tmp_path / "out.jpg"
    samesize.encode(frame, out, quality=90, exif=exif_bytes_for(frame.exif))

    with Image.open(source) as src:
        reference = src.convert("RGB")
    stamp.apply(reference, WHEN)
    with Image.open(out) as written:
        assert written.format == "JPEG" and written.size == reference.size
        exif = written.getexif()
        assert exif[ExifTags.Base.Make] == "TestCam"
        assert ExifTags.Base.Orientation not in exif
        pixels = written.convert("RGB")
    assert _psnr(pixels, reference) >= PSNR_FLOOR
    # the stamp is in the file (drawn on the pixels that were encoded, not on a copy)
    assert _psnr(pixels.crop(box), reference.crop(box)) >= PSNR_FLOOR - 10
    with Image.open(source) as src:
        unstamped = src.convert("RGB").crop(box)
    assert _psnr(pixels.crop(box), unstamped) < PSNR_FLOOR - 15


def test_without_exif_the_file_has_none(tmp_path):
    source = tmp_path / "in.jpg"
    Image.new("RGB", (64, 48), (10, 200, 30)).save(source, quality=95)
    frame = samesize.open_frame(source, None)
    assert frame is not None
    samesize.encode(frame, tmp_path / "out.jpg", quality=90, exif=None)
    with Image.open(tmp_path / "out.jpg") as written:
        assert written.size == (64, 48) and "exif" not in written.info
        assert written.getpixel((5, 5)) == pytest.approx((10, 200, 30), abs=3)


def _truncated(path: Path) -> Path:
    _frame_1080p(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _xmp_turned(path: Path) -> Path:
    xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'
    return _frame_1080p(path, xmp=xmp)


def _saved(mode: str, fmt: str = "JPEG"):  # type: ignore[no-untyped-def]
    def make(path: Path) -> Path:
        Image.new(mode, (64, 48)).save(path, fmt)
        return path

    return make


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "resize"),
    [
        (lambda p: _frame_1080p(p, orientation=6), BOX),  # turned upright by Pillow
        (_xmp_turned, BOX),  # Pillow turns it by its XMP orientation
        (_frame_1080p, Resize(1280, 720)),  # shrunk: libvips or Pillow
        (_saved("L"), None),  # grey: Pillow makes it RGB
        (_saved("CMYK"), None),  # four channels
        (_saved("RGB", "PNG"), None),  # not a JPEG
        (_truncated, BOX),  # libjpeg warns: Pillow's way skips it with its reason
        (_empty, None),
        (lambda p: p, None),  # missing
    ],
    ids=[
        "exif-turned",
        "xmp-turned",
        "shrunk",
        "grey",
        "cmyk",
        "png",
        "truncated",
        "empty",
        "missing",
    ],
)
def test_frames_it_does_not_take_are_left_to_pillow(tmp_path, make, resize):
    assert samesize.open_frame(make(tmp_path / "frame.jpg"), resize) is None


def test_an_upright_frame_of_the_export_size_is_taken(tmp_path):
    # the counterpart of the cases above: the same frame, upright and already the size, is
    assert samesize.open_frame(_frame_1080p(tmp_path / "frame.jpg", orientation=1), BOX)
    assert samesize.open_frame(_frame_1080p(tmp_path / "bare.jpg"), None)


def test_a_frame_over_pillows_pixel_limit_is_left_to_its_bomb_guard(tmp_path, monkeypatch):
    path = tmp_path / "frame.jpg"
    Image.new("RGB", (64, 48)).save(path, "JPEG")
    assert samesize.open_frame(path, None) is not None
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 48 - 1)  # Pillow's setting, not ours
    assert samesize.open_frame(path, None) is None
