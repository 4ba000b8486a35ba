"""Per-frame quality scores from a reduced grey copy of a frame (issue 17).

Every score is computed on a grey image whose shorter side is :data:`SIDE` pixels, so a frame
scored at capture (from its full decode) and the same frame scored later from a JPEG draft
decode get nearly the same numbers, and frames of different sizes compare. Pillow only: the
library does not depend on numpy.

* ``luma``: mean grey level 0-255; ``contrast``: its standard deviation (near 0: blank).
* ``sharpness``: variance of the 4-neighbour Laplacian (a blurred or fogged frame drops).
* ``noise``: sigma of the grey level's noise, from the median absolute response of
  Immerkaer's noise kernel (a median, so edges barely count).
* ``clip_high`` / ``clip_low``: share 0-1 of pixels >= 250 / <= 5.
* ``dhash``: 64-bit difference hash (9x8 grey, one bit per horizontal neighbour pair), as a
  signed 64-bit integer, which is what SQLite stores; :func:`hash_distance` counts differing bits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageChops, ImageFilter, ImageStat

from pylapse.imaging.decode import open_image

__all__ = ["SIDE", "Scores", "grey", "hash_distance", "score", "score_file"]

SIDE = 256  # shorter side of the grey copy the scores are computed on
_HIGH = 250  # a pixel at or above this is clipped highlight
_LOW = 5  # at or below this, clipped shadow
_MASK = (1 << 64) - 1

# Pillow's kernel filter writes 8-bit results clipped at 0..255, so a signed response is taken
# as its positive and negative halves (the kernel and its negation), each divided by a scale
# that keeps the largest possible response (4 * 255 for the Laplacian) inside 0..255.
_LAPLACE_SCALE = 4
_LAPLACE = (0, 1, 0, 1, -4, 1, 0, 1, 0)
# Immerkaer (1996): this kernel cancels smooth gradients; on pure noise of sigma s its response
# has a standard deviation of 6 s. The median of |response| is 0.6745 of it for Gaussian noise.
_NOISE = (1, -2, 1, -2, 4, -2, 1, -2, 1)
_NOISE_FACTOR = 1 / (0.6745 * 6)


@dataclass(frozen=True, slots=True)
class Scores:
    luma: float
    contrast: float
    sharpness: float
    noise: float
    clip_high: float
    clip_low: float
    dhash: int  # signed 64-bit

    def as_columns(self) -> dict[str, float | int]:
        """Index columns of these scores (not ``hash_distance``: that needs the previous frame)."""
        return {
            "luma": self.luma,
            "sharpness": self.sharpness,
            "contrast": self.contrast,
            "noise": self.noise,
            "clip_high": self.clip_high,
            "clip_low": self.clip_low,
            "dhash": self.dhash,
        }


def grey(image: Image.Image) -> Image.Image:
    """The grey copy the scores use: shorter side :data:`SIDE` (smaller images stay as they are).

    A JPEG not loaded yet is draft-decoded (DCT scaling: a fraction of the decode's cost).
    """
    # a no-op for a loaded image and for formats without DCT scaling
    image.draft("L", (SIDE, SIDE))  # keeps at least SIDE px on each side
    factor = min(image.width, image.height) // SIDE
    if factor > 1:
        image = image.reduce(factor)  # box average: cheap, and what a draft decode approximates
    small = image.convert("L")
    short = min(small.width, small.height)
    if short > SIDE:
        ratio = SIDE / short
        small = small.resize(
            (max(1, round(small.width * ratio)), max(1, round(small.height * ratio))),
            Image.Resampling.BOX,
        )
    return small


def _abs_response(image: Image.Image, kernel: tuple[int, ...], scale: int) -> Image.Image:
    """|kernel * image| / scale as an 8-bit image, without the border the filter leaves as is."""
    positive = image.filter(ImageFilter.Kernel((3, 3), kernel, scale=scale))
    negative = image.filter(ImageFilter.Kernel((3, 3), [-k for k in kernel], scale=scale))
    both = ImageChops.add(positive, negative)  # one of the two is 0 at every pixel
    return both.crop((1, 1, both.width - 1, both.height - 1))


def _laplace_variance(image: Image.Image) -> float:
    positive = image.filter(ImageFilter.Kernel((3, 3), _LAPLACE, scale=_LAPLACE_SCALE))
    negative = image.filter(
        ImageFilter.Kernel((3, 3), [-k for k in _LAPLACE], scale=_LAPLACE_SCALE)
    )
    box = (1, 1, image.width - 1, image.height - 1)
    pos = ImageStat.Stat(positive.crop(box))
    neg = ImageStat.Stat(negative.crop(box))
    count = pos.count[0]
    if count == 0:
        return 0.0
    # the response is scale * (pos - neg), and pos * neg = 0 at every pixel
    mean = _LAPLACE_SCALE * (pos.sum[0] - neg.sum[0]) / count
    square = _LAPLACE_SCALE**2 * (pos.sum2[0] + neg.sum2[0]) / count
    return max(0.0, square - mean * mean)


def _dhash(image: Image.Image) -> int:
    tiny = image.resize((9, 8), Image.Resampling.BOX)
    pixels = tiny.tobytes()
    value = 0
    for row in range(8):
        line = pixels[row * 9 : row * 9 + 9]
        for col in range(8):
            value = (value << 1) | (line[col + 1] > line[col])
    return value - (1 << 64) if value >= 1 << 63 else value


def hash_distance(a: int, b: int) -> int:
    """Bits differing between two 64-bit hashes (signed or unsigned): 0 for the same picture."""
    return ((a ^ b) & _MASK).bit_count()


def score(image: Image.Image) -> Scores:
    """All scores of one frame (decoded, or opened and not yet loaded: then draft-decoded)."""
    small = grey(image)
    stat = ImageStat.Stat(small)
    histogram = small.histogram()
    total = stat.count[0] or 1
    if small.width > 2 and small.height > 2:
        median = _median(_abs_response(small, _NOISE, 1).histogram())
    else:
        median = 0.0
    return Scores(
        luma=round(stat.mean[0], 2),
        contrast=round(stat.stddev[0], 2),
        sharpness=round(_laplace_variance(small), 2),
        noise=round(median * _NOISE_FACTOR, 3),
        clip_high=round(sum(histogram[_HIGH:]) / total, 4),
        clip_low=round(sum(histogram[: _LOW + 1]) / total, 4),
        dhash=_dhash(small),
    )


def _median(histogram: list[int]) -> float:
    half = sum(histogram) / 2
    seen = 0
    for value, n in enumerate(histogram):
        seen += n
        if seen >= half:
            return float(value)
    return 0.0


def score_file(source: str | os.PathLike[str] | BinaryIO | bytes) -> Scores:
    """Scores of a frame on disk, draft-decoding JPEGs (HEIC, DNG previews... as they open)."""
    with open_image(source) as image:
        return score(image)
