"""libturbojpeg's planar decode: the planes the JPEG stores, or None for anything else."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image, ImageChops, ImageStat

from pylapse.imaging import turbo

pytestmark = pytest.mark.skipif(not turbo.available(), reason="libturbojpeg is not installed")


def _jpeg(size: tuple[int, int], **save: object) -> bytes:
    picture = Image.effect_mandelbrot(size, (-2.0, -1.5, 1.0, 1.5), 100)
    rgb = Image.merge("RGB", (picture, picture.rotate(90, expand=False), picture.transpose(0)))
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=90, **save)
    return out.getvalue()


def test_planes_are_the_picture_pillow_decodes():
    data = _jpeg((322, 242))
    planes = turbo.decode_planes(data, (322, 242))
    assert planes is not None
    y, cb, cr = planes
    assert (y.shape, cb.shape, cr.shape) == ((242, 322), (121, 161), (121, 161))
    assert all(p.flags["C_CONTIGUOUS"] for p in planes)
    # the planes as stored, upsampled by Pillow, against Pillow's own decode of the file
    chroma = [Image.fromarray(p).resize((322, 242), Image.Resampling.BILINEAR) for p in (cb, cr)]
    mine = Image.merge("YCbCr", (Image.fromarray(y), *chroma)).convert("RGB")
    theirs = Image.open(io.BytesIO(data)).convert("RGB")
    mse = sum(ImageStat.Stat(ImageChops.difference(mine, theirs)).sum2) / (322 * 242 * 3)
    assert 10 * math.log10(255**2 / mse) > 35


@pytest.mark.parametrize(
    ("make", "size"),
    [
        (lambda: _jpeg((322, 242))[:2000], (322, 242)),  # truncated: libjpeg warns
        (lambda: _jpeg((322, 242), subsampling=0), (322, 242)),  # 4:4:4
        (lambda: _jpeg((321, 241)), (321, 241)),  # odd: the library writes past the plane
        (lambda: _jpeg((322, 242)), (320, 240)),  # not the size the header said
        (lambda: b"not a jpeg at all", (10, 10)),
    ],
    ids=["truncated", "444", "odd", "other-size", "garbage"],
)
def test_anything_else_is_none(make, size):
    assert turbo.decode_planes(make(), size) is None
