"""Sky metrics of a frame (issue 18): colour statistics over a band of rows, plus its exposure.

Measured on the reduced copy the quality scores use (:func:`pylapse.imaging.quality.reduced`,
RGB here): per channel the mean, median, standard deviation, minimum and maximum 0-255, and the
colour at the region's centre, all from one Pillow histogram of the band (768 bins counted in
C), so measuring costs a small part of a decode. The minimum and maximum are those of the
reduced copy, whose pixels are box averages: a lone hot pixel does not set them.

The region is a band of rows of the full frame (:class:`Region`; the original archive measured
rows 0-400 of its 2048x1536 frames, "clouds only", so the ground does not weigh in), scaled to
the reduced copy. A frame shorter than the band is measured over the rows it has.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    histogram = band.histogram()
    stats = [_channel(histogram[i * 256 : i * 256 + 256]) for i in range(3)]
    centre = band.getpixel((band.width // 2, band.height // 2))
    assert isinstance(centre, tuple)  # an RGB image's pixel
    return Sky(
        mean=_three([s[0] for s in stats]),
        median=_three([s[1] for s in stats]),
        std=_three([s[2] for s in stats]),
        min=_three([s[3] for s in stats]),
        max=_three([s[4] for s in stats]),
        centre=_three([float(v) for v in centre[:3]]),
        exposure=exposure or Exposure(None, None, None),
    )


def _channel(histogram: list[int]) -> tuple[float, float, float, float, float]:
    """Mean, median (interpolated within its bin), standard deviation, min and max."""
    total = sum(histogram) or 1
    mean = sum(v * n for v, n in enumerate(histogram)) / total
    square = sum(v * v * n for v, n in enumerate(histogram)) / total
    used = [v for v, n in enumerate(histogram) if n]
    return (
        round(mean, 2),
        round(max(0.0, histogram_median(histogram)), 2),
        round(max(0.0, square - mean * mean) ** 0.5, 2),
        float(used[0] if used else 0),
        float(used[-1] if used else 0),
    )


def _three(values: list[float]) -> tuple[float, float, float]:
    return values[0], values[1], values[2]
