"""Overlays drawn on a 4:2:0 frame's planes come out as they do drawn on RGB."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageStat

from pylapse.imaging.overlay import Anchor, Backdrop, Placement, TimestampOverlay, Watermark
from pylapse.imaging.planes import Planes, ycbcr

WHEN = datetime(2026, 6, 1, 12, 34, tzinfo=UTC)


def _psnr(a: Image.Image, b: Image.Image) -> float:
    mse = sum(ImageStat.Stat(ImageChops.difference(a, b)).sum2) / (a.width * a.height * 3)
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def _picture() -> Image.Image:
    """A smooth colour picture (chroma that varies, as a sky does)."""
    x = np.linspace(0, 1, 640)[None, :]
    y = np.linspace(0, 1, 360)[:, None]
    rgb = np.stack([60 + 120 * x + 0 * y, 90 + 100 * y + 0 * x, 200 - 80 * x * y], axis=2)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def _planes_of(picture: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, cb, cr = picture.convert("YCbCr").split()
    half = (picture.width // 2, picture.height // 2)
    return (
        np.array(y),
        np.array(cb.resize(half, Image.Resampling.BOX)),
        np.array(cr.resize(half, Image.Resampling.BOX)),
    )


def _as_rgb(
    planes: tuple[np.ndarray, np.ndarray, np.ndarray], size: tuple[int, int]
) -> Image.Image:
    y, cb, cr = (Image.fromarray(p) for p in planes)
    chroma = [c.resize(size, Image.Resampling.NEAREST) for c in (cb, cr)]
    return Image.merge("YCbCr", (y, *chroma)).convert("RGB")


@pytest.mark.parametrize(
    "overlay",
    [
        TimestampOverlay(),  # white with a black outline, bottom right
        TimestampOverlay(
            color="#ffcc00",
            backdrop=Backdrop.BOX,
            placement=Placement(Anchor.TOP_LEFT, offset=(3, 5)),  # odd: inside a 2x2 block
        ),
        Watermark(text="pyLapse", color="#3366ff", opacity=0.6),
    ],
    ids=["stamp", "boxed-odd", "text-watermark"],
)
def test_an_overlay_on_planes_is_the_overlay_on_rgb(overlay):
    picture = _picture()
    planes = _planes_of(picture)
    canvas = Planes(*planes, picture.size)
    on_rgb = _as_rgb(planes, picture.size)  # the same start, drawn the RGB way
    if isinstance(overlay, TimestampOverlay):
        box = overlay.apply(canvas, WHEN)
        assert overlay.apply(on_rgb, WHEN) == box
    else:
        box = overlay.apply(canvas)
        assert overlay.apply(on_rgb) == box
    drawn = _as_rgb(planes, picture.size)
    # the RGB way's picture as a 4:2:0 encode stores it: chroma averaged over 2x2 blocks
    rgb_way = _as_rgb(_planes_of(on_rgb), picture.size)
    before = _as_rgb(_planes_of(picture), picture.size).crop(box)
    assert _psnr(drawn.crop(box), before) < 25  # the overlay is there
    # ~45-48 dB measured in the box, ~45 over the whole (the RGB round trip's own rounding)
    assert _psnr(drawn.crop(box), rgb_way.crop(box)) > 40
    assert _psnr(drawn, rgb_way) > 40


def test_colours_convert_as_libjpeg_does():
    assert ycbcr((255, 255, 255)) == (255, 128, 128)
    assert ycbcr((0, 0, 0)) == (0, 128, 128)
    red = ycbcr((255, 0, 0))  # 76.2, 85.0, 255.5 by the JPEG formulas, in Pillow's fixed point
    assert red[0] == 76 and abs(red[1] - 85) <= 1 and red[2] == 255


def test_a_picture_watermark_is_refused_on_planes(tmp_path):
    mark = tmp_path / "mark.png"
    Image.new("RGBA", (20, 10), (255, 0, 0, 128)).save(mark)
    planes = _planes_of(_picture())
    with pytest.raises(TypeError, match="picture watermark"):
        Watermark(image=str(mark)).apply(Planes(*planes, (640, 360)))
