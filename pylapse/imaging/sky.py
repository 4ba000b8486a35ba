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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from pylapse.exif import Exposure
from pylapse.imaging.quality import histogram_median

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
_VALUES = np.arange(256, dtype=np.float64)
_SQUARES = _VALUES * _VALUES


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
    counts = np.array(band.histogram(), dtype=np.int64).reshape(3, 256)  # R, G, B
    total = counts.sum(axis=1)
    total[total == 0] = 1
    mean = counts @ _VALUES / total
    std = np.sqrt(np.maximum(0.0, counts @ _SQUARES / total - mean * mean))
    used = counts > 0
    low = np.argmax(used, axis=1)  # the first counted value of each channel
    high = 255 - np.argmax(used[:, ::-1], axis=1)
    centre = band.getpixel((band.width // 2, band.height // 2))
    assert isinstance(centre, tuple)  # an RGB image's pixel
    return Sky(
        mean=_three(np.round(mean, 2)),
        median=_three([round(max(0.0, histogram_median(c)), 2) for c in counts]),
        std=_three(np.round(std, 2)),
        min=_three(low),
        max=_three(high),
        centre=_three(centre[:3]),
        exposure=exposure or Exposure(None, None, None),
    )


def _three(values: Sequence[float] | npt.NDArray[np.generic]) -> tuple[float, float, float]:
    return float(values[0]), float(values[1]), float(values[2])
