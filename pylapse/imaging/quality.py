"""Per-frame quality scores from a reduced grey copy of a frame (issue 17).

Every score is computed on a grey copy reduced by a power of two to a shorter side of
:data:`SIDE` to twice that, so a frame scored at capture (from its full decode) and the same
frame scored later from a JPEG draft decode get nearly the same numbers. Pillow only (the
library does not depend on numpy), in 8-bit operations: the scores cost a fraction of a decode.

* ``luma``: mean grey level 0-255; ``contrast``: its standard deviation (near 0: blank).
* ``sharpness``: variance of the 4-neighbour Laplacian (a blurred or fogged frame drops).
* ``noise``: sigma of the grey level's noise, from the median absolute deviation of the same
  Laplacian (a median, so edges barely count; resolution about 0.3 grey level).
* ``clip_high`` / ``clip_low``: share 0-1 of pixels >= 250 / <= 5.
* ``dhash``: 64-bit difference hash (9x8 grey, one bit per horizontal neighbour pair), as a
  signed 64-bit integer, which is what SQLite stores; :func:`hash_distance` counts differing bits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageChops

from pylapse.imaging.decode import open_image

__all__ = [
    "SIDE",
    "Scores",
    "grey",
    "hash_distance",
    "histogram_median",
    "reduced",
    "score",
    "score_file",
]

SIDE = 256  # the grey copy's shorter side is SIDE to 2 * SIDE - 1 px
_HIGH = 250  # a pixel at or above this is clipped highlight
_LOW = 5  # at or below this, clipped shadow
_MASK = (1 << 64) - 1
# The 4-neighbour Laplacian on pure noise of sigma s has a standard deviation of sqrt(20) s,
# and the median absolute deviation of Gaussian values is 0.6745 of their standard deviation.
_NOISE_FACTOR = 1 / (0.6745 * 20**0.5)


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


def reduced(image: Image.Image, mode: str = "L") -> Image.Image:
    """The reduced copy the scores and sky metrics use: reduced by the power of two that
    leaves its shorter side :data:`SIDE` to ``2 * SIDE - 1`` px (smaller images stay as they
    are), in its own mode (``mode`` is what a draft decode produces: "L" or "RGB").

    Powers of two are what a JPEG draft decode scales by, so a JPEG not loaded yet is
    draft-decoded (a fraction of the full decode's cost) to about the size the full decode
    reduced here would have: capture and the backfill job score a frame alike.
    """
    factor = 1
    while min(image.width, image.height) // (factor * 2) >= SIDE:
        factor *= 2
    width = image.width
    image.draft(mode, (SIDE, SIDE))  # a no-op once loaded and for formats without DCT scaling
    factor = max(1, factor * image.width // width)
    if factor > 1:
        image = image.reduce(factor)  # box average, as DCT scaling approximately is
    return image


def grey(image: Image.Image) -> Image.Image:
    """The grey copy the scores use (:func:`reduced`, in grey)."""
    return reduced(image, "L").convert("L")


def _laplacian(image: Image.Image) -> tuple[float, float]:
    """Variance of the 4-neighbour Laplacian and the median absolute deviation of it.

    In 8-bit chops (Pillow's kernel filter is several times slower): ``c - mean(l, r, u, d)``
    offset by 128 is a quarter of the Laplacian, clipped where it exceeds +-128 (512 in full).
    """
    w, h = image.size
    if w < 3 or h < 3:
        return 0.0, 0.0
    centre = image.crop((1, 1, w - 1, h - 1))
    left, right = image.crop((0, 1, w - 2, h - 1)), image.crop((2, 1, w, h - 1))
    up, down = image.crop((1, 0, w - 1, h - 2)), image.crop((1, 2, w - 1, h))
    around = ImageChops.add(ImageChops.add(left, right, 2.0), ImageChops.add(up, down, 2.0), 2.0)
    histogram = ImageChops.subtract(centre, around, 1.0, 128).histogram()
    total = sum(histogram)
    mean = sum(v * n for v, n in enumerate(histogram)) / total
    square = sum(v * v * n for v, n in enumerate(histogram)) / total
    variance = 16 * max(0.0, square - mean * mean)
    middle = histogram_median(histogram)
    deviations = [0] * 256
    for v, n in enumerate(histogram):
        if n:
            deviations[min(255, int(abs(v - middle)))] += n
    return variance, 4 * histogram_median(deviations)


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
    histogram = small.histogram()
    total = sum(histogram) or 1
    mean = sum(v * n for v, n in enumerate(histogram)) / total
    square = sum(v * v * n for v, n in enumerate(histogram)) / total
    sharpness, deviation = _laplacian(small)
    return Scores(
        luma=round(mean, 2),
        contrast=round(max(0.0, square - mean * mean) ** 0.5, 2),
        sharpness=round(sharpness, 2),
        noise=round(deviation * _NOISE_FACTOR, 3),
        clip_high=round(sum(histogram[_HIGH:]) / total, 4),
        clip_low=round(sum(histogram[: _LOW + 1]) / total, 4),
        dhash=_dhash(small),
    )


def histogram_median(histogram: list[int]) -> float:
    """The median of the values a histogram counts, interpolated within its bin."""
    half = sum(histogram) / 2
    seen = 0
    for value, n in enumerate(histogram):
        if n and seen + n >= half:
            return value - 0.5 + (half - seen) / n
        seen += n
    return 0.0


def score_file(source: str | os.PathLike[str] | BinaryIO | bytes) -> Scores:
    """Scores of a frame on disk, draft-decoding JPEGs (HEIC, DNG previews... as they open)."""
    with open_image(source) as image:
        return score(image)
