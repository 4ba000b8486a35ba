"""Sky metrics of a frame (issue 18): colour statistics over a band of rows, plus its exposure.

Measured on the reduced copy the quality scores use (:func:`pylapse.imaging.quality.reduced`,
RGB here): per channel the mean, median, standard deviation, minimum and maximum 0-255, and the
colour at the region's centre, all from one Pillow histogram of the band (768 bins counted in
C, read with numpy), so measuring costs a small part of a decode. The minimum and maximum are
those of the reduced copy: for frames of 768 px and more its pixels are box means, so a lone
hot pixel does not set them; smaller frames' copies are point samples (one pixel of each cell,
:data:`pylapse.imaging.quality.BOX_FROM`), where a hot pixel counts only if it is sampled.

The region is a band of rows of the full frame (:class:`Region`; the original archive measured
rows 0-400 of its 2048x1536 frames, "clouds only", so the ground does not weigh in), scaled to
the reduced copy. A frame shorter than the band is measured over the rows it has.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse.exif import Exposure
from pylapse.imaging.quality import GREY_POWERS

__all__ = ["Region", "Sky", "measure"]


@dataclass(frozen=True, slots=True)
class Region:
    """Rows ``top`` to ``bottom`` (exclusive; ``None``: to the last row) of the full frame."""

    top: int = 0
    bottom: int | None = None

    def __post_init__(self) -> None:
        if self.top < 0:
            raise ValueError(f"metrics region: top={self.top} must be 0 or more")
        if self.bottom is not None and self.bottom <= self.top:
            raise ValueError(
                f"metrics region: bottom={self.bottom} must be below top={self.top} "
                "(rows of the full frame, counted from the top; bottom is excluded)"
            )

    def rows(self, height: int, scale: float) -> tuple[int, int]:
        """The band in a copy ``scale`` times the full frame, ``height`` rows tall: at least one
        row, clipped to the copy."""
        top = min(int(self.top * scale), height - 1)
        bottom = height if self.bottom is None else round(self.bottom * scale)
        return top, max(top + 1, min(bottom, height))


WHOLE = Region()


@dataclass(frozen=True, slots=True)
class Sky:
    """One frame's sky metrics: per channel (R, G, B) statistics 0-255 and its exposure."""

    mean: tuple[float, float, float]
    median: tuple[float, float, float]
    std: tuple[float, float, float]
    min: tuple[float, float, float]
    max: tuple[float, float, float]
    centre: tuple[float, float, float]
    exposure: Exposure

    def as_columns(self) -> dict[str, float | None]:
        """Index columns (:data:`pylapse.index.schema.SKY_COLUMNS`)."""
        columns: dict[str, float | None] = {}
        for stat in ("mean", "median", "std", "min", "max"):
            values = getattr(self, stat)
            for channel, value in zip("rgb", values, strict=True):
                columns[f"sky_{channel}_{stat}"] = value
        for channel, value in zip("rgb", self.centre, strict=True):
            columns[f"centre_{channel}"] = value
        columns["exposure_time"] = self.exposure.time
        columns["f_number"] = self.exposure.f_number
        columns["iso"] = self.exposure.iso
        return columns


def measure(
    small: Image.Image, full_height: int, region: Region = WHOLE, exposure: Exposure | None = None
) -> Sky:
    """The sky metrics of ``small``, a reduced copy of a frame ``full_height`` rows tall.

    ``small`` is converted to RGB if it is not (a grey frame has three equal channels).
    """
    if small.mode != "RGB":
        small = small.convert("RGB")
    top, bottom = region.rows(small.height, small.height / max(1, full_height))
    whole = (top, bottom) == (0, small.height)
    band = small if whole else small.crop((0, top, small.width, bottom))
    histogram = band.histogram()  # R, G, B: 256 counts each
    total = band.width * band.height
    # per channel the sum of values and of squares, in one call
    sums = (np.array(histogram, dtype=np.float64).reshape(3, 256) @ GREY_POWERS).tolist()
    mean = [summed / total for summed, _ in sums]
    square = [squares / total for _, squares in sums]
    # the rest in plain Python over the histogram: a handful of numpy calls more would cost
    # as much as the matrix products (a frame is measured right after its decode, caches cold)
    channels = [histogram[k * 256 : k * 256 + 256] for k in range(3)]
    std = [max(0.0, q - m * m) ** 0.5 for m, q in zip(mean, square, strict=True)]
    centre = band.getpixel((band.width // 2, band.height // 2))
    assert isinstance(centre, tuple)  # an RGB image's pixel
    return Sky(
        mean=_three([round(m, 2) for m in mean]),
        median=_three([round(max(0.0, _median(c, total)), 2) for c in channels]),
        std=_three([round(s, 2) for s in std]),
        min=_three([_first(c) for c in channels]),
        max=_three([255 - _first(c[::-1]) for c in channels]),
        centre=_three(centre[:3]),
        exposure=exposure or Exposure(None, None, None),
    )


def _median(counts: list[int], total: int) -> float:
    """:func:`pylapse.imaging.quality.histogram_median` of one channel's counts."""
    seen = list(accumulate(counts))
    half = total / 2
    value = bisect_left(seen, half)  # the first bin whose running count reaches half
    before = seen[value - 1] if value else 0
    return value - 0.5 + (half - before) / counts[value]


def _first(counts: list[int]) -> int:
    """The first bin counting anything."""
    return next((value for value, count in enumerate(counts) if count), 0)


def _three(values: Sequence[float] | npt.NDArray[np.generic]) -> tuple[float, float, float]:
    return float(values[0]), float(values[1]), float(values[2])
