"""Per-frame quality scores from a small grey copy of a frame (issue 17).

Every score is computed on a copy with one pixel per ``stride`` x ``stride`` cell of the frame
(:func:`stride`: the copy's shorter side is :data:`SIDE` to twice that), made the same way
whether the frame was decoded in full (at capture) or is opened from disk (the backfill job of
``pylapse metrics``), so both store the same numbers:

* frames under :data:`BOX_FROM` px (shorter side under 768: webcams): each cell's centre pixel.
  Pillow picks them without reading the rest of the frame, so a 768x576 frame is scored for a
  fifth of its decode; the backfill job decodes such small frames in full to pick the same ones.
* larger frames: each cell's mean (the stride is a power of two), which a JPEG draft decode
  delivers (DCT scaling, up to 1/8) for a fraction of the full decode's cost, and Pillow's box
  reduction gives from a decoded frame.

Numpy takes the Laplacian in 16-bit integers and every statistic comes from a histogram.

* ``luma``: mean grey level 0-255; ``contrast``: its standard deviation (near 0: blank).
* ``sharpness``: variance of the 4-neighbour Laplacian of the copy (a blurred or fogged frame
  drops; its scale depends on the scene and the frame size, so it compares frames of a camera).
* ``noise``: sigma of the grey level's noise in the copy, from the median absolute deviation of
  the same Laplacian (a median, so edges barely count; resolution about 0.3 grey level).
* ``clip_high`` / ``clip_low``: share 0-1 of pixels >= 250 / <= 5.
* ``dhash``: 64-bit difference hash (9x8 grey, one bit per horizontal neighbour pair), as a
  signed 64-bit integer, which is what SQLite stores; :func:`hash_distance` counts differing bits.
* ``grain``: 64 bits, the parity of the sum of the copy's grey levels in each cell of an 8x8
  grid (signed 64-bit as ``dhash``). It tells a live picture from one served again, which no
  other score does: a still scene seen by a live sensor changes 10-88 % of the copy's pixels
  by a level or more from frame to frame (sensor noise, measured with noise of sigma 0.3-3 on
  real frames, bright and at 8 % of their light), so each cell's parity is a coin toss and
  about half the bits differ; the same picture served again (a cached JPEG, or its pixels
  re-encoded with a new clock drawn on) changes at most the cells under the clock (0.1 % of
  the pixels). Mean luma, contrast, sharpness and the dHash all stay within rounding in both
  cases, so only this decides whether a frame repeats the previous picture
  (:mod:`pylapse.selection.dead_camera`). It adds no decode and ~20 us.

Versions
    :data:`VERSION` names this method; the index stores it with each frame's scores
    (``frames.score_version``; NULL: the method before it, whose copy was a power-of-two box
    reduction with a shorter side of 256-511 px, until commit 6f2c991). A change that moves
    any score of the same frame bumps it, so that thresholds and comparisons never mix scales
    unknowingly (``pylapse metrics --rescore-old`` scores older frames again). Version 1
    against the method before, measured on the same files (old code from 6f2c991):

    * sequence-real, 80 frames 768x576: sharpness x4.52-5.01 (median x4.77, Spearman rank
      correlation of the 80 values 0.84), noise x2.21-2.38 (median x2.31), contrast +0.5 to
      +1.1 %, luma within 0.3 %, clipped shares within 0.0024; the dHash differs in 1-7 bits
      (median 4; no frame kept its hash), so a frozen camera's run breaks where the method
      changed; sky metrics: green std +0.55 (median), centre pixel up to 15 levels apart.
    * exif-real, 30 readable frames from 10x10 to 4608x1976: sharpness x0.57-x15.4 (median
      x2.35; frames under 192 px, which both copy as they are, x0.99-1.00), noise x0.48-3.6,
      contrast -6.7 to +0.5 %; the dHash differs in 0-6 bits (identical in 14 of 30).

    So a ``min_sharpness`` set on one version means another thing on the other, by a factor
    that depends on the frame size and the scene: no conversion, only a rescore, makes them
    comparable.

    Version 2 adds the ``grain`` (``frames.grain``); every other score of a frame is the same
    number as version 1's (the same code), so thresholds carry over, and scoring a version-1
    frame again only fills its grain, without which the dead-camera rule may take a still scene
    under steady light for a frozen camera (:mod:`pylapse.selection.dead_camera`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse.imaging.decode import open_image

__all__ = [
    "BOX_FROM",
    "GREY_POWERS",
    "SIDE",
    "VERSION",
    "Scores",
    "grey",
    "hash_distance",
    "histogram_median",
    "reduced",
    "score",
    "score_file",
    "stride",
]

#: the scoring method's version, stored with each frame's scores (see Versions above): bump it
#: with any change that moves a score or a sky metric (the copy they share included)
VERSION = 2
SIDE = 96  # the copy's shorter side is SIDE to 2 * SIDE - 1 px
# Frames whose shorter side is at least this get box means (a JPEG draft decode's 1/8 scale
# and beyond); smaller ones point samples. Decoding those at 1/2 or 1/4 saves little, while
# averaging boxes in a decoded frame reads all of it (Pillow's reduce costs ~0.3 ms at
# 768x576, a third of its decode); picking one pixel in 36 costs ~0.02 ms.
BOX_FROM = 8 * SIDE
_NEAREST = Image.Resampling.NEAREST
_HIGH = 250  # a pixel at or above this is clipped highlight
_LOW = 5  # at or below this, clipped shadow
_MASK = (1 << 64) - 1
# The 4-neighbour Laplacian on pure noise of sigma s has a standard deviation of sqrt(20) s,
# and the median absolute deviation of Gaussian values is 0.6745 of their standard deviation.
_NOISE_FACTOR = 1 / (0.6745 * 20**0.5)
_LAP_RANGE = 4 * 255  # the Laplacian of 8-bit pixels lies in -1020..1020
_LAP_VALUES = np.arange(-_LAP_RANGE, _LAP_RANGE + 1, dtype=np.float64)
# a histogram times these columns gives the sum of the values and of their squares in one
# call (each numpy call counts right after a decode: see _laplacian)
_LAP_POWERS = np.stack([_LAP_VALUES, _LAP_VALUES * _LAP_VALUES], axis=1)
_GREY_VALUES = np.arange(256, dtype=np.float64)
# a 256-bin histogram times these columns: the sum of the grey levels and of their squares
GREY_POWERS = np.stack([_GREY_VALUES, _GREY_VALUES * _GREY_VALUES], axis=1)


@dataclass(frozen=True, slots=True)
class Scores:
    luma: float
    contrast: float
    sharpness: float
    noise: float
    clip_high: float
    clip_low: float
    dhash: int  # signed 64-bit
    grain: int | None = None  # signed 64-bit (None: made by code before it existed)

    def as_columns(self) -> dict[str, float | int | None]:
        """Index columns of these scores (not ``hash_distance``: that needs the previous frame),
        with the :data:`VERSION` of the method that made them."""
        return {
            "luma": self.luma,
            "sharpness": self.sharpness,
            "contrast": self.contrast,
            "noise": self.noise,
            "clip_high": self.clip_high,
            "clip_low": self.clip_low,
            "dhash": self.dhash,
            "grain": self.grain,
            "score_version": VERSION,
        }


def stride(width: int, height: int) -> int:
    """Pixels of the frame per pixel of the copy, along each side: what leaves the copy's
    shorter side :data:`SIDE` to ``2 * SIDE - 1`` px (1 for frames smaller than that); a
    power of two for frames of :data:`BOX_FROM` px and more, as draft decoding scales."""
    short = min(width, height)
    if short < BOX_FROM:
        return max(1, short // SIDE)
    step = 8
    while short // (step * 2) >= SIDE:
        step *= 2
    return step


def reduced(image: Image.Image, mode: str = "L") -> Image.Image:
    """The copy the scores and sky metrics use, one pixel per :func:`stride` x :func:`stride`
    cell of ``image`` (smaller images stay as they are): the cell's centre pixel for frames
    under :data:`BOX_FROM` px, the cell's mean from there on. For those a JPEG not loaded yet
    is draft-decoded (in ``mode``, what a draft decode produces: "L" or "RGB"), the smaller
    ones are decoded in full. The copy keeps the image's mode, except that modes other than
    "L" and "RGB" become RGB.
    """
    step = stride(image.width, image.height)
    if step == 1:
        return image
    width, height = image.size
    size = (width // step, height // step)
    if min(width, height) < BOX_FROM:
        # the centre pixel of each cell: x * step + step // 2
        small = image.resize(size, _NEAREST, box=(0, 0, size[0] * step, size[1] * step))
        return small if small.mode in ("L", "RGB") else small.convert("RGB")
    image.draft(mode, (SIDE, SIDE))  # a no-op once loaded and for formats without DCT scaling
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    factor = max(1, step * image.width // width)
    if factor > 1:
        image = image.reduce(factor)  # box means, as DCT scaling nearly is
    return image


def grey(image: Image.Image) -> Image.Image:
    """The grey copy the scores use (:func:`reduced`, in grey: a JPEG drafts straight to grey,
    a decoded frame is greyed once reduced, as few pixels are left)."""
    return reduced(image, "L").convert("L")


def _laplacian(pixels: npt.NDArray[np.uint8]) -> tuple[float, float]:
    """Variance of the 4-neighbour Laplacian and the median absolute deviation of it.

    Exact, in 16-bit integers (``4c - l - r - u - d`` lies in -1020..1020): a few passes over
    the grey copy, then everything from one histogram of it, whose sums stay integers in
    float64. As few numpy calls as that: a frame is scored right after its decode, when each
    call pays for cold caches (and a dot over the pixels would go to BLAS, whose threads wait
    milliseconds for a core on a busy machine).
    """
    h, w = pixels.shape
    if w < 3 or h < 3:
        return 0.0, 0.0
    wide = pixels.astype(np.int16)
    lap = wide[1:-1, 1:-1] << 2
    lap -= wide[:-2, 1:-1]
    lap -= wide[2:, 1:-1]
    lap -= wide[1:-1, :-2]
    lap -= wide[1:-1, 2:]
    lap += _LAP_RANGE  # 0..2040, what bincount counts
    counts = np.bincount(lap.ravel(), minlength=2 * _LAP_RANGE + 1)
    n = lap.size
    total, squares = (counts @ _LAP_POWERS).tolist()
    mean = total / n
    variance = max(0.0, squares / n - mean * mean)
    middle = _median(counts, n) - _LAP_RANGE
    # deviations from the median, rounded to the bin whose centre they are nearest, as the
    # interpolating median reads bins (flooring them under-read the noise by half a bin)
    deviations = np.bincount(
        np.rint(np.abs(_LAP_VALUES - middle)).astype(np.intp), weights=counts, minlength=1
    )
    return variance, _median(deviations, n)


def _median(counts: npt.NDArray[np.int64] | npt.NDArray[np.float64], total: int) -> float:
    """:func:`histogram_median` of a histogram holding ``total`` > 0 values, in fewer calls."""
    seen = counts.cumsum()
    half = total / 2
    value = int(seen.searchsorted(half))  # the first bin whose running count reaches half
    before = float(seen[value - 1]) if value else 0.0
    return value - 0.5 + (half - before) / float(counts[value])


def _dhash(image: Image.Image) -> int:
    pixels = image.resize((9, 8), Image.Resampling.BOX).tobytes()
    value = 0  # row by row, the first pair the top bit (plain Python: 64 steps cost less than
    for row in range(0, 72, 9):  # the four numpy calls of packbits right after a decode)
        for left, right in pairwise(pixels[row : row + 9]):
            value = (value << 1) | (right > left)
    return value - (1 << 64) if value >= 1 << 63 else value


def _grain(grey: npt.NDArray[np.uint8]) -> int:
    """The parity of each cell's sum of grey levels, 8x8 cells row by row, the first cell the
    top bit, as a signed 64-bit integer (a copy under 8 px a side: 0)."""
    height, width = grey.shape[0] // 8 * 8, grey.shape[1] // 8 * 8
    if not height or not width:
        return 0
    cells = grey[:height, :width].reshape(8, height // 8, 8, width // 8)
    bits = (cells.sum(axis=(1, 3), dtype=np.int64) & 1).astype(np.uint8).ravel()
    value = int.from_bytes(np.packbits(bits).tobytes(), "big")
    return value - (1 << 64) if value >= 1 << 63 else value


def hash_distance(a: int, b: int) -> int:
    """Bits differing between two 64-bit hashes (signed or unsigned): 0 for the same picture."""
    return ((a ^ b) & _MASK).bit_count()


def score(image: Image.Image) -> Scores:
    """All scores of one frame, decoded or opened and not yet loaded (:func:`reduced` then
    decodes it: a JPEG of :data:`BOX_FROM` px and more at draft scale)."""
    small = grey(image)
    total = small.width * small.height or 1
    histogram = small.histogram()
    summed, squares = (np.array(histogram, dtype=np.float64) @ GREY_POWERS).tolist()
    mean = summed / total
    variance = max(0.0, squares / total - mean * mean)
    sharpness, deviation = _laplacian(np.asarray(small))
    return Scores(
        luma=round(mean, 2),
        contrast=round(variance**0.5, 2),
        sharpness=round(sharpness, 2),
        noise=round(deviation * _NOISE_FACTOR, 3),
        clip_high=round(sum(histogram[_HIGH:]) / total, 4),
        clip_low=round(sum(histogram[: _LOW + 1]) / total, 4),
        dhash=_dhash(small),
        grain=_grain(np.asarray(small)),
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
    """Scores of a frame on disk (JPEGs of :data:`BOX_FROM` px and more draft-decoded; HEIC,
    DNG previews... as they open)."""
    with open_image(source) as image:
        return score(image)
