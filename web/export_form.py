"""The export preset form: form fields <-> ``ExportPreset``, and the checks a save runs
(cron fields, colours, output folder inside the storage roots), each naming its field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pylapse.config import ExportPreset
from pylapse.selection import SelectionError
from web.routes import _media as m

CRON = ("minute", "hour", "day", "month", "day_of_week", "week", "year", "second")
TEXT_FIELDS = (
    "collection", "subdir", "output_dir", "prefix", *CRON, "tolerance", "date_from", "date_to",
    "ext", "width", "height", "resize_mode", "quality", "timestamp_format", "font", "font_size",
    "font_color", "backdrop", "backdrop_color", "box_opacity", "anchor", "offset_x", "offset_y",
    "margin", "display_timezone", "watermark_text",
)  # fmt: skip
BOOL_FIELDS = ("optimize", "link", "drawtimestamp")
ANCHORS = ("top-left", "top-center", "top-right", "middle-left", "center", "middle-right",
           "bottom-left", "bottom-center", "bottom-right")  # fmt: skip
RESERVED = {"new", "preview", "overlay", "overlay.jpg", "history", "jobs"}
PRESET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
# which form field an ExportOptions error is about, by a phrase of its message
_OPTION_FIELDS = (
    ("timestamp colour", "font_color"), ("watermark colour", "font_color"),
    ("backdrop", "backdrop_color"), ("colour", "font_color"), ("prefix", "prefix"),
    ("anchor", "anchor"), ("format", "timestamp_format"), ("font", "font"),
    ("quality", "quality"), ("resize", "resize_mode"), ("watermark", "watermark_text"),
)  # fmt: skip

# -- form <-> preset -----------------------------------------------------------------------------


def values_of(preset: ExportPreset | None) -> dict[str, Any]:
    """Form values of a preset (or the defaults of a new one)."""
    data = (preset or ExportPreset()).model_dump()
    values = {k: text_of(data.get(k)) for k in TEXT_FIELDS}
    values.update({k: bool(data.get(k)) for k in BOOL_FIELDS})
    return values


def text_of(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def form_values(source: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: str(source.get(k, "") or "").strip() for k in TEXT_FIELDS}
    values.update({k: source.get(k) in ("on", "1", "true") for k in BOOL_FIELDS})
    for extra in ("preset_id", "fps", "codec", "make_video"):
        values[extra] = str(source.get(extra, "") or "").strip()
    return values


def preset_from(values: dict[str, Any]) -> ExportPreset:
    """An ExportPreset from form values; raises FieldError for the first bad field."""
    data: dict[str, Any] = {k: values[k] for k in TEXT_FIELDS if values.get(k, "") != ""}
    data.update({k: bool(values.get(k)) for k in BOOL_FIELDS})
    try:
        return ExportPreset(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "form"
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        raise m.FieldError(field, f"{message} (got {values.get(field, '')!r})") from None


def options_of(preset: ExportPreset, **overrides: Any) -> Any:
    """``ExportOptions`` of a preset; its checks (fonts, colours, anchors) as FieldErrors."""
    from pylapse.export import ExportOptions
    from pylapse.imaging.fonts import FontError

    try:
        return ExportOptions.from_mapping(preset, **overrides)
    except FontError as exc:
        raise m.FieldError("font", str(exc)) from None
    except (ValueError, TypeError) as exc:
        text = str(exc)
        field = next((f for phrase, f in _OPTION_FIELDS if phrase in text), "form")
        raise m.FieldError(field, text) from None


def output_folder(runtime: Any, preset_id: str, preset: ExportPreset) -> Path:
    """Where the preset writes (its own folder by default), confined to the storage roots."""
    if preset.subdir:
        sub = Path(preset.subdir)
        if sub.is_absolute() or ".." in sub.parts or "\x00" in preset.subdir:
            raise m.FieldError(
                "subdir", f"subfolder {preset.subdir!r} must be a plain relative name"
            )
    config = runtime.config
    if preset.output_dir:
        m.confine(config, preset.output_dir, "output_dir")
    target = config.export_folder(preset_id, preset)
    if target is None:
        raise m.FieldError("output_dir", "no storage roots are configured")
    return m.confine(config, target, "subdir" if preset.subdir else "output_dir")


def check_folder_is_its_own(runtime: Any, preset_id: str, folder: Path) -> None:
    """Two presets writing to one folder would replace each other's output: refused."""
    others = runtime.config.export_folder_users(folder, other_than=preset_id)
    if others:
        names = " and ".join(repr(o) for o in others)
        raise m.FieldError(
            "output_dir",
            f"{folder} is already the output folder of export {names}; export {preset_id!r} "
            "would replace its frames there: give it another output folder or a subfolder",
        )


def check_cron(preset: ExportPreset) -> None:
    """Each cron field must be a valid cron expression (the error names the field)."""
    from pylapse.targets import CronRule

    fields = {f: getattr(preset, f) for f in CRON if getattr(preset, f) is not None}
    if fields:
        try:
            CronRule(fields)
        except SelectionError as exc:
            field = str(exc).split(":", 1)[0]
            raise m.FieldError(field if field in CRON else "minute", str(exc)) from None


def check_colours(preset: ExportPreset) -> None:
    """Colours are checked even when the overlay is off, so a saved preset never holds a typo."""
    from pylapse.imaging.overlay import parse_color

    for field in ("font_color", "backdrop_color"):
        try:
            parse_color(getattr(preset, field), field.replace("_", " "))
        except ValueError as exc:
            raise m.FieldError(field, str(exc)) from None


def check(runtime: Any, preset_id: str, values: dict[str, Any]) -> tuple[ExportPreset, Path]:
    preset = preset_from(values)
    if not preset.collection or preset.collection not in runtime.collections():
        raise m.FieldError("collection", "choose the collection to export")
    check_cron(preset)
    check_colours(preset)
    options_of(preset)
    folder = output_folder(runtime, preset_id, preset)
    check_folder_is_its_own(runtime, preset_id, folder)
    return preset, folder


def fps_of(values: dict[str, Any]) -> float:
    try:
        fps = float(values.get("fps") or 24)
    except ValueError:
        raise m.FieldError("fps", f"fps {values.get('fps')!r} is not a number") from None
    if not 0.1 <= fps <= 240:
        raise m.FieldError("fps", f"fps {fps:g} is outside 0.1-240")
    return fps


# -- pages ---------------------------------------------------------------------------------------


def rule_text(preset: ExportPreset) -> str:
    parts = [
        f"{f.replace('_', ' ')} {getattr(preset, f)}"
        for f in CRON
        if getattr(preset, f) is not None
    ]
    return ", ".join(parts) or "every frame"
