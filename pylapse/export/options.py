"""How an export writes frames: ``ExportOptions`` (mirrored by ``ExportPreset`` in the config).

Every setting is checked when the options are made, so a typo in a preset fails when it is saved
or run, naming the field and what is accepted, before any frame is touched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from pylapse.export.staging import MIN_DIGITS, NameSet
from pylapse.imaging import fonts, process
from pylapse.imaging.overlay import Placement, TimestampOverlay, Watermark

__all__ = ["V02_WRITER_OPTIONS", "ExportOptions", "available_cores", "from_v02"]

#: pyLapse 0.2's writer options (``Export.run(outdir, **writer_args)``), translated by
#: :func:`from_v02`; ``timestamp_source_tz`` and ``progress_callback`` are taken by the caller
#: (the collection), as they concern the frames' times and the progress, not how files are made.
V02_WRITER_OPTIONS = (
    "resize",
    "quality",
    "optimize",
    "resolution",
    "keep_aspect",
    "drawtimestamp",
    "timestampformat",
    "timestampfontsize",
    "timestampcolor",
    "timestamppos",
    "timestampfont",
    "prefix",
    "zeropadding",
    "ext",
    "timestamp_display_tz",
)
#: the frame height 0.2's pixel font sizes are measured against (its default resize, 1080p)
V02_REFERENCE_HEIGHT = 1080

_CHECK_SIZE = 12  # pixels: the font is loaded at this size to see that it is one
MAX_SIDE = 16384  # pixels a side: twice 8K video; a frame this size is 800 MB in memory


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the system has one): an
    export keeps each busy with a worker process, as pyLapse 0.2's pool did (it used
    ``os.cpu_count()``). Frames are decoded by one thread per worker, so more would only wait."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class ExportOptions:
    """How frames are written. Field names mirror ``ExportPreset`` in the config."""

    prefix: str = ""
    ext: str = "jpg"  # jpg, png or webp
    width: int | None = None
    height: int | None = None
    resize_mode: str = "fit"  # fit (aspect kept, never enlarged), exact, fill (crop to cover)
    quality: int = 90
    optimize: bool = False
    drawtimestamp: bool = False
    timestamp_format: str = "%Y-%m-%d %H:%M"
    font: str | None = None  # built-in when empty; a system font name or a font file path
    font_size: float = 0.04  # fraction of the image height
    font_color: str = "#ffffff"
    backdrop: str = "outline"  # none, outline, box
    backdrop_color: str = "#000000"
    box_opacity: float = 0.5
    anchor: str = "bottom-right"
    offset_x: int = 0
    offset_y: int = 0
    margin: float = 0.02  # fraction of the image height
    display_timezone: str | None = None  # stamp in this zone; default: each frame's own clock
    watermark_text: str | None = None
    watermark_image: str | None = None  # a PNG
    watermark_opacity: float = 0.5
    watermark_size: float = 0.05
    watermark_anchor: str = "bottom-left"
    watermark_offset_x: int = 0
    watermark_offset_y: int = 0
    link: bool = True  # hard-link (or copy) frames when nothing needs processing
    workers: int = field(default_factory=available_cores)  # per machine, as in 0.2
    zeropadding: int = MIN_DIGITS  # digits at least in output numbers (0.2 wrote 5)
    deflicker: bool = False  # even out frame-to-frame brightness (pylapse.imaging.deflicker)
    deflicker_window: int = 13  # frames in the local fit (odd: ±6 around each frame)
    deflicker_strength: float = 1.0  # 0-1: share of the way to the smoothed brightness

    def __post_init__(self) -> None:
        object.__setattr__(self, "ext", self.ext.lower().lstrip("."))
        process.output_format(self.ext)
        if os.sep in self.prefix or (os.altsep and os.altsep in self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must not contain a path separator")
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be 1-100, got {self.quality}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if not 1 <= self.zeropadding <= 12:
            raise ValueError(f"zeropadding must be 1-12 digits, got {self.zeropadding}")
        self.resize_spec()
        if not 3 <= self.deflicker_window <= 1001:
            raise ValueError(f"deflicker_window must be 3-1001 frames, got {self.deflicker_window}")
        if not 0.0 <= self.deflicker_strength <= 1.0:
            raise ValueError(f"deflicker_strength must be 0-1, got {self.deflicker_strength}")
        # placement is checked even when unused, so a preset with a typo fails when saved
        Placement(self.anchor, (self.offset_x, self.offset_y), self.margin)  # type: ignore[arg-type]
        Placement(self.watermark_anchor, (0, 0), self.margin)  # type: ignore[arg-type]
        self.timestamp_overlay()
        self.watermark()
        if self.drawtimestamp or self.watermark_text:
            # a missing font, or a file that is not a font, fails now, not in every worker
            fonts.load_font(self.font, _CHECK_SIZE)

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | Any, **overrides: Any) -> ExportOptions:
        """Options from a dict or a model (e.g. an ``ExportPreset``); unknown keys are ignored
        there but refused in ``overrides`` with the accepted names. ``overrides`` may use
        pyLapse 0.2's writer option names (:data:`V02_WRITER_OPTIONS`); they are translated
        by :func:`from_v02`, and today's names given beside them win."""
        if hasattr(data, "model_dump"):
            data = data.model_dump()
        known = {f.name for f in fields(cls)}
        legacy = {k: overrides.pop(k) for k in list(overrides) if k in V02_WRITER_OPTIONS}
        overrides = {**from_v02(legacy), **overrides}
        unknown = sorted(set(overrides) - known)
        if unknown:
            accepted = sorted(known | set(V02_WRITER_OPTIONS))
            raise TypeError(
                f"unknown export option(s) {', '.join(unknown)}; accepted: {', '.join(accepted)}"
            )
        values = {k: v for k, v in dict(data or {}).items() if k in known and v is not None}
        values.update(overrides)
        return cls(**values)

    def names(self, count: int) -> NameSet:
        """The file names an export of ``count`` frames writes."""
        return NameSet(self.prefix, self.ext, count, self.zeropadding)

    def resize_spec(self) -> process.Resize | None:
        if self.width is None and self.height is None:
            return None
        for name, value in (("width", self.width), ("height", self.height)):
            if value is not None and not 1 <= value <= MAX_SIDE:
                raise ValueError(f"resize {name} must be 1-{MAX_SIDE} pixels, got {value}")
        try:
            mode = process.ResizeMode(self.resize_mode)
        except ValueError:
            accepted = ", ".join(m.value for m in process.ResizeMode)
            raise ValueError(
                f"resize_mode {self.resize_mode!r} is not one of: {accepted}"
            ) from None
        return process.Resize(self.width, self.height, mode)

    def timestamp_overlay(self) -> TimestampOverlay | None:
        if not self.drawtimestamp:
            return None
        return TimestampOverlay(
            format=self.timestamp_format,
            font=self.font or None,
            size=self.font_size,
            color=self.font_color,
            backdrop=self.backdrop,  # type: ignore[arg-type]
            backdrop_color=self.backdrop_color,
            box_opacity=self.box_opacity,
            placement=Placement(self.anchor, (self.offset_x, self.offset_y), self.margin),  # type: ignore[arg-type]
            display_timezone=self.display_timezone or None,
        )

    def watermark(self) -> Watermark | None:
        if not (self.watermark_text or self.watermark_image):
            return None
        return Watermark(
            text=self.watermark_text or None,
            image=self.watermark_image or None,
            opacity=self.watermark_opacity,
            size=self.watermark_size,
            font=self.font or None,
            color=self.font_color,
            placement=Placement(
                self.watermark_anchor,  # type: ignore[arg-type]
                (self.watermark_offset_x, self.watermark_offset_y),
                self.margin,
            ),
        )

    @property
    def processes_pixels(self) -> bool:
        """Whether frames must be re-encoded (otherwise they are linked when formats match)."""
        return bool(
            self.width
            or self.height
            or self.optimize
            or self.drawtimestamp
            or self.watermark_text
            or self.watermark_image
            or self.deflicker
        )


def _hex_color(value: Any) -> str:
    """0.2 gave colours as ``(r, g, b)``; a string (``"#ffcc00"``, ``"white"``) passes through."""
    if isinstance(value, str):
        return value
    try:
        r, g, b = (int(c) for c in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"timestampcolor must be (r, g, b) or a colour name, got {value!r}"
        ) from None
    if not all(0 <= c <= 255 for c in (r, g, b)):
        raise ValueError(f"timestampcolor values must be 0-255, got {value!r}")
    return f"#{r:02x}{g:02x}{b:02x}"


def _resize_fields(args: Mapping[str, Any]) -> dict[str, Any]:
    """0.2's ``resize``/``resolution``/``keep_aspect`` as width, height and resize_mode.

    0.2 resized with Pillow's ``thumbnail`` (aspect kept, never enlarged: ``fit``) or, with
    ``keep_aspect=False``, to exactly ``resolution`` (``exact``). A resolution given without
    ``resize`` resizes, as 0.2's writer did (its ``resize`` defaulted to True).
    """
    wants = args.get("resize")
    if wants is None:
        wants = "resolution" in args or "keep_aspect" in args
    if not wants:
        return {"width": None, "height": None} if "resize" in args else {}
    try:
        width, height = (int(v) for v in args.get("resolution") or (1920, 1080))
    except (TypeError, ValueError):
        raise ValueError(
            f"resolution must be (width, height), got {args.get('resolution')!r}"
        ) from None
    mode = "fit" if args.get("keep_aspect", True) else "exact"
    return {"width": width, "height": height, "resize_mode": mode}


def from_v02(args: Mapping[str, Any]) -> dict[str, Any]:
    """pyLapse 0.2 writer options (:data:`V02_WRITER_OPTIONS`) as :class:`ExportOptions` fields.

    ``None`` means "not given", as in 0.2. The stamp's size was in pixels, drawn at
    ``timestamppos`` from the top-left corner; here a size is a share of the frame's height,
    so ``timestampfontsize`` is measured against a 1080-pixel frame (0.2's default resize) and
    the stamp scales with frames of another height. Unknown names raise ``TypeError``.
    """
    given = {k: v for k, v in args.items() if v is not None}
    unknown = sorted(set(given) - set(V02_WRITER_OPTIONS))
    if unknown:
        raise TypeError(
            f"unknown 0.2 writer option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(V02_WRITER_OPTIONS)}"
        )
    out: dict[str, Any] = _resize_fields(given)
    renamed = {
        "quality": "quality",
        "optimize": "optimize",
        "drawtimestamp": "drawtimestamp",
        "prefix": "prefix",
        "zeropadding": "zeropadding",
        "ext": "ext",
        "timestampfont": "font",
        "timestamp_display_tz": "display_timezone",
    }
    out.update({new: given[old] for old, new in renamed.items() if old in given})
    if given.get("timestampformat"):
        out["timestamp_format"] = given["timestampformat"]
    if "timestampfontsize" in given:
        out["font_size"] = float(given["timestampfontsize"]) / V02_REFERENCE_HEIGHT
    if "timestampcolor" in given:
        out["font_color"] = _hex_color(given["timestampcolor"])
    if "timestamppos" in given:
        try:
            x, y = (int(v) for v in given["timestamppos"])
        except (TypeError, ValueError):
            raise ValueError(
                f"timestamppos must be (x, y), got {given['timestamppos']!r}"
            ) from None
        out.update(anchor="top-left", offset_x=x, offset_y=y, margin=0.0)
    return out
