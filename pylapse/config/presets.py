"""Export presets in the config: which frames of which collection, processed how, written where.

The processing fields mirror :class:`pylapse.export.options.ExportOptions`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from pylapse.config.base import CronValue, _check_zone, _Model

__all__ = ["ExportPreset"]


# A date or an ISO datetime, as selection.resolve_range reads it.
_WHEN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?$"


_Anchor = Literal[
    "top-left",
    "top-center",
    "top-right",
    "middle-left",
    "center",
    "middle-right",
    "bottom-left",
    "bottom-center",
    "bottom-right",
]


class ExportPreset(_Model):
    """A saved export: which frames of which collection, processed how, written where."""

    collection: str | None = Field(None, description="id of the collection to export")
    subdir: str | None = Field(None, description="subfolder of the export folder")
    output_dir: str | None = Field(None, description="where exported frames go")
    prefix: str = Field("", description="output file name prefix")
    year: CronValue = None
    month: CronValue = None
    day: CronValue = None
    week: CronValue = None
    day_of_week: CronValue = None
    hour: CronValue = None
    minute: CronValue = None
    second: CronValue = None
    tolerance: float = Field(
        300, ge=0, description="seconds a frame may be from its cron target (nearest wins)"
    )
    date_from: str | None = Field(
        None, pattern=_WHEN, description="first day (YYYY-MM-DD) or instant exported, inclusive"
    )
    date_to: str | None = Field(
        None, pattern=_WHEN, description="last day (whole day) or instant exported, inclusive"
    )
    # quality filters at selection time (pylapse.selection.quality_filter); all off by default,
    # and a frame never scored is never dropped
    min_luma: float | None = Field(None, ge=0, le=255, description="drop frames darker (0-255)")
    max_luma: float | None = Field(None, ge=0, le=255, description="drop frames brighter")
    min_contrast: float | None = Field(None, ge=0, description="drop blank (uniform) frames")
    max_clip_high: float | None = Field(
        None, ge=0, le=1, description="drop frames with more clipped highlights (share 0-1)"
    )
    min_sharpness: float | None = Field(
        None, ge=0, description="drop blurrier frames (variance of the Laplacian)"
    )
    drop_duplicates: bool = Field(False, description="drop repeats of the previous frame")
    drop_frozen: bool = Field(False, description="drop runs of identical frames (frozen camera)")
    best_in_window: bool = Field(
        False, description="the sharpest acceptable frame within the tolerance, not the nearest"
    )
    keep_dead_frames: bool = Field(
        False,
        description="keep frames of a dead camera (frozen runs, blank pictures, frames far darker "
        "than the same time the day before), which are otherwise left out",
    )
    best_of_day: str | None = Field(
        None,
        pattern=r"^\d{1,2}:\d{2}(:\d{2})?$",
        description="one frame per day: the sharpest acceptable one near this clock time",
    )
    # the sun (pylapse.selection.sun): needs the collection's latitude/longitude
    sun: list[str] = Field(
        default_factory=list,
        description="one frame per day at each sun point, e.g. ['sunset-30m'] (instead of cron)",
    )
    sun_window: str | None = Field(
        None,
        description="keep only frames inside this sun window of each day: 'day', 'night' or "
        "START..END, e.g. 'civil_dawn-30m..civil_dusk+30m'",
    )
    # processing (mirrors pylapse.export.ExportOptions; unset fields take its defaults)
    ext: Literal["jpg", "png", "webp"] = Field("jpg", description="output format")
    width: int | None = Field(None, gt=0, le=16384, description="resize to this width in pixels")
    height: int | None = Field(None, gt=0, le=16384, description="resize to this height in pixels")
    resize_mode: Literal["fit", "exact", "fill"] = Field(
        "fit", description="fit (aspect kept, never enlarged), exact (stretch), fill (crop)"
    )
    quality: int = Field(90, ge=1, le=100, description="JPEG/WebP quality")
    optimize: bool = Field(False, description="smaller files, slower export")
    link: bool = Field(True, description="hard-link frames when nothing needs processing")
    zeropadding: int = Field(
        6, ge=1, le=12, description="digits at least in output numbers (pyLapse 0.2 wrote 5)"
    )
    deflicker: bool = Field(False, description="even out frame-to-frame brightness")
    deflicker_window: int = Field(13, ge=3, le=1001, description="frames in deflicker's fit")
    deflicker_strength: float = Field(
        1.0, ge=0, le=1, description="share of the way to the smoothed brightness"
    )
    drawtimestamp: bool = Field(False, description="stamp each frame's time on it")
    timestamp_format: str = Field("%Y-%m-%d %H:%M", min_length=1, description="strftime format")
    font: str | None = Field(None, description="font name or file; empty: the built-in font")
    font_size: float = Field(0.04, ge=0.005, le=0.5, description="text height / image height")
    font_color: str = Field("#ffffff", description="text colour, e.g. #ffffff or white")
    backdrop: Literal["none", "outline", "box"] = Field(
        "outline", description="keeps text readable: none, outline or a translucent box"
    )
    backdrop_color: str = Field("#000000", description="outline or box colour")
    box_opacity: float = Field(0.5, ge=0, le=1, description="opacity of the box backdrop")
    anchor: _Anchor = Field("bottom-right", description="where the timestamp goes")
    offset_x: int = Field(0, description="pixels moved inward from the anchored edge")
    offset_y: int = Field(0, description="pixels moved inward from the anchored edge")
    margin: float = Field(0.02, ge=0, le=0.5, description="edge gap / image height")
    display_timezone: str | None = Field(
        None, description="stamp times in this IANA zone; default: each frame's own clock"
    )
    watermark_text: str | None = Field(None, description="a fixed text drawn on every frame")
    watermark_image: str | None = Field(None, description="a PNG drawn on every frame")
    watermark_opacity: float = Field(0.5, ge=0, le=1, description="watermark opacity")
    watermark_size: float = Field(0.05, ge=0.005, le=1, description="watermark height / image")
    watermark_anchor: _Anchor = Field("bottom-left", description="where the watermark goes")
    watermark_offset_x: int = Field(0, description="pixels moved inward from the anchored edge")
    watermark_offset_y: int = Field(0, description="pixels moved inward from the anchored edge")

    @field_validator("sun", mode="before")
    @classmethod
    def _check_sun(cls, value: Any) -> Any:
        from pylapse.selection.sun import SunPoint
        from pylapse.selection.targets import SelectionError

        if value is None or value == "":
            return []
        items = [p for p in value.split(",")] if isinstance(value, str) else list(value)
        try:
            return [str(SunPoint.parse(str(p))) for p in items if str(p).strip()]
        except SelectionError as exc:
            raise ValueError(str(exc).removeprefix("sun: ")) from None

    @field_validator("sun_window", mode="before")
    @classmethod
    def _check_sun_window(cls, value: Any) -> Any:
        from pylapse.selection.sun import NAMED_WINDOWS, parse_window, window_text
        from pylapse.selection.targets import SelectionError

        if value is None or not str(value).strip():
            return None
        text = str(value).strip().lower()
        try:
            pair = parse_window(text)
        except SelectionError as exc:
            raise ValueError(str(exc).removeprefix("sun window: ")) from None
        return text if text in NAMED_WINDOWS else window_text(*pair)

    @field_validator("display_timezone")
    @classmethod
    def _check_display_zone(cls, value: str | None) -> str | None:
        return _check_zone(value)
