"""Per-frame quality scores from a reduced grey copy of a frame (issue 17).

Every score is computed on a grey copy reduced by a power of two to a shorter side of
:data:`SIDE` to twice that, so a frame scored at capture (from its full decode) and the same
frame scored later from a JPEG draft decode get nearly the same numbers. Pillow shrinks and
greys (in C, box averages), numpy takes the Laplacian in 16-bit integers, and every statistic
comes from a histogram: the scores cost a fraction of a decode.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image

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
_LAP_RANGE = 4 * 255  # the Laplacian of 8-bit pixels lies in -1020..1020
_LAP_VALUES = np.arange(-_LAP_RANGE, _LAP_RANGE + 1, dtype=np.float64)
_GREY_VALUES = np.arange(256, dtype=np.float64)


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


def _factor(width: int, height: int) -> int:
    """The power of two that leaves the shorter side :data:`SIDE` to ``2 * SIDE - 1`` px."""
    factor = 1
    while min(width, height) // (factor * 2) >= SIDE:
        factor *= 2
    return factor


def reduced(image: Image.Image, mode: str = "L") -> Image.Image:
    """The reduced copy the scores and sky metrics use: reduced by the power of two that
    leaves its shorter side :data:`SIDE` to ``2 * SIDE - 1`` px (smaller images stay as they
    are), in its own mode (``mode`` is what a draft decode produces: "L" or "RGB").

    Powers of two are what a JPEG draft decode scales by, so a JPEG not loaded yet is
    draft-decoded (a fraction of the full decode's cost) to about the size the full decode
    reduced here would have: capture and the backfill job score a frame alike.
    """
    factor = _factor(image.width, image.height)
    width = image.width
    image.draft(mode, (SIDE, SIDE))  # a no-op once loaded and for formats without DCT scaling
    factor = max(1, factor * image.width // width)
    if factor > 1:
        image = image.reduce(factor)  # box average, as DCT scaling approximately is
    return image


def grey(image: Image.Image) -> Image.Image:
    """The grey copy the scores use (:func:`reduced`, in grey)."""
    if getattr(image, "tile", None):  # a file not decoded yet: a JPEG drafts straight to grey
        return reduced(image, "L").convert("L")
    if image.mode != "L" and _factor(image.width, image.height) <= 2:
        # Halving or less: one 8-bit plane is cheaper to reduce than RGB's four bytes a pixel
        # (0.36 against 0.44 ms at 768x576); by 4 and more, converting the few pixels left
        # after the reduction is cheaper (converting all of 8 MP alone costs 4 ms).
        image = image.convert("L")
    return reduced(image, "L").convert("L")


def _laplacian(pixels: npt.NDArray[np.uint8]) -> tuple[float, float]:
    """Variance of the 4-neighbour Laplacian and the median absolute deviation of it.

    Exact, in 16-bit integers (``4c - l - r - u - d`` lies in -1020..1020): a few passes over
    the grey copy, then statistics from its histogram.
    """
    h, w = pixels.shape
    if w < 3 or h < 3:
        return 0.0, 0.0
    wide = pixels.astype(np.int16)
    lap = (wide[1:-1, 1:-1] << 2) - wide[:-2, 1:-1] - wide[2:, 1:-1]
    lap -= wide[1:-1, :-2]
    lap -= wide[1:-1, 2:]
    lap += _LAP_RANGE  # 0..2040, what bincount counts
    counts = np.bincount(lap.ravel(), minlength=2 * _LAP_RANGE + 1)
    _mean, variance = _moments(counts, _LAP_VALUES)
    middle = histogram_median(counts) - _LAP_RANGE
    # deviations from the median, rounded to the bin whose centre they are nearest, as the
    # interpolating median reads bins (flooring them under-read the noise by half a bin)
    deviations = np.bincount(
        np.minimum(np.rint(np.abs(_LAP_VALUES - middle)), 2 * _LAP_RANGE).astype(np.intp),
        weights=counts,
        minlength=2 * _LAP_RANGE + 1,
    )
    return variance, histogram_median(deviations)


def _moments(
    counts: npt.NDArray[np.int64] | npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """Mean and variance of the values a histogram counts."""
    total = float(counts.sum()) or 1.0
    mean = float(counts @ values) / total
    square = float(counts @ (values * values)) / total
    return mean, max(0.0, square - mean * mean)


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
    histogram = np.array(small.histogram(), dtype=np.int64)
    total = float(histogram.sum()) or 1.0
    mean, variance = _moments(histogram, _GREY_VALUES)
    sharpness, deviation = _laplacian(np.asarray(small))
    return Scores(
        luma=round(mean, 2),
        contrast=round(variance**0.5, 2),
        sharpness=round(sharpness, 2),
        noise=round(deviation * _NOISE_FACTOR, 3),
        clip_high=round(float(histogram[_HIGH:].sum()) / total, 4),
        clip_low=round(float(histogram[: _LOW + 1].sum()) / total, 4),
        dhash=_dhash(small),
    )


def histogram_median(histogram: Sequence[int] | npt.NDArray[np.generic]) -> float:
    """The median of the values a histogram counts (bin i holds value i), interpolated within
    its bin; 0 for an empty histogram."""
    counts = np.asarray(histogram, dtype=np.float64)
    seen = np.cumsum(counts)
    if not len(seen) or seen[-1] <= 0:
        return 0.0
    half = seen[-1] / 2
    value = int(np.searchsorted(seen, half))  # the first bin whose running count reaches half
    before = seen[value - 1] if value else 0.0
    return float(value - 0.5 + (half - before) / counts[value])


def score_file(source: str | os.PathLike[str] | BinaryIO | bytes) -> Scores:
    """Scores of a frame on disk, draft-decoding JPEGs (HEIC, DNG previews... as they open)."""
    with open_image(source) as image:
        return score(image)
