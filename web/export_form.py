"""The export preset form: form fields <-> ``ExportPreset``, and the checks a save runs
(cron fields, colours, output folder inside the storage roots, font and watermark files inside
them too), each naming its field."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pylapse import storage
from pylapse.config.presets import ExportPreset
from pylapse.selection.targets import SelectionError
from web.messages import in_words
from web.routes import _media as m

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.export.options import ExportOptions
    from pylapse.runtime import Runtime

# quality filters at selection time (pylapse.selection.quality_filter), all off when empty
QUALITY_NUMBERS = ("min_luma", "max_luma", "min_contrast", "max_clip_high", "min_sharpness")
QUALITY_SWITCHES = ("drop_duplicates", "drop_frozen", "best_in_window", "keep_dead_frames")
CRON = ("minute", "hour", "day", "month", "day_of_week", "week", "year", "second")
TEXT_FIELDS = (
    "collection", "subdir", "output_dir", "prefix", *CRON, "tolerance", "date_from", "date_to",
    "ext", "width", "height", "resize_mode", "quality", "timestamp_format", "font", "font_size",
    "font_color", "backdrop", "backdrop_color", "box_opacity", "anchor", "offset_x", "offset_y",
    "margin", "display_timezone", "watermark_text", *QUALITY_NUMBERS, "best_of_day",
    "deflicker_window", "deflicker_strength", "sun", "sun_window",
)  # fmt: skip
BOOL_FIELDS = ("optimize", "link", "drawtimestamp", "deflicker", *QUALITY_SWITCHES)
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

# what the form calls a field, for messages that name it
_LABELS = {
    "tolerance": "The tolerance", "width": "The width", "height": "The height",
    "quality": "The quality", "font_size": "The text height", "box_opacity": "The box opacity",
    "margin": "The margin", "offset_x": "Offset x", "offset_y": "Offset y",
    "date_from": "The first day", "date_to": "The last day", "prefix": "The file name prefix",
    "min_luma": "The darkest mean brightness", "max_luma": "The brightest mean brightness",
    "min_contrast": "The least contrast", "max_clip_high": "The share of clipped highlights",
    "min_sharpness": "The least sharpness", "best_of_day": "The time of the best of the day",
    "deflicker_window": "The deflicker window", "deflicker_strength": "The deflicker strength",
    "sun": "The sun points", "sun_window": "The sun window",
}  # fmt: skip
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # the cron's order: 0 = Monday

# -- form <-> preset -----------------------------------------------------------------------------


def values_of(preset: ExportPreset | None) -> dict[str, Any]:
    """Form values of a preset (or the defaults of a new one)."""
    data = (preset or ExportPreset()).model_dump()
    values: dict[str, str | bool] = {k: text_of(data.get(k)) for k in TEXT_FIELDS}
    values.update({k: bool(data.get(k)) for k in BOOL_FIELDS})
    return values


def text_of(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # sun points: shown as "sunset-30m, noon"
        return ", ".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def form_values(source: Mapping[str, object]) -> dict[str, Any]:
    values: dict[str, Any] = {k: str(source.get(k, "") or "").strip() for k in TEXT_FIELDS}
    values.update({k: source.get(k) in ("on", "1", "true") for k in BOOL_FIELDS})
    for extra in ("preset_id", "fps", "codec", "make_video"):
        values[extra] = str(source.get(extra, "") or "").strip()
    rule = str(source.get("day_of_week_rule", "") or "").strip()
    getlist = getattr(source, "getlist", None)
    if source.get("dow_names") and getlist is not None and not rule:
        ticked = {str(d) for d in getlist("dow")}
        # none ticked picks no day at all: kept as a value the check names, not "every day"
        values["day_of_week"] = day_rule([d for d in DAYS if d in ticked]) if ticked else "none"
    elif rule:
        values["day_of_week"] = rule
    return values


def days_of(rule: str) -> set[str] | None:
    """The days a day-of-week rule names, when it is only days and ranges of days (``mon-fri``,
    ``0,6``, ``*``); None for a rule the day boxes cannot show (``*/2``, ``mon-fri/2``)."""
    text = rule.strip().lower()
    if text in ("", "*"):
        return set(DAYS)
    if text == "none":  # the boxes came back all unticked (see form_values)
        return set()
    picked: set[str] = set()
    for part in text.split(","):
        ends = [_day_index(end) for end in part.strip().split("-")]
        if None in ends or len(ends) > 2:
            return None
        first, last = ends[0], ends[-1]
        assert first is not None and last is not None  # checked above
        if last < first:
            return None
        picked.update(DAYS[first : last + 1])
    return picked


def _day_index(text: str) -> int | None:
    text = text.strip()
    if text in DAYS:
        return DAYS.index(text)
    if text.isdigit() and int(text) < len(DAYS):
        return int(text)
    return None


def day_rule(days: list[str]) -> str:
    """The day-of-week rule for ``days`` (in week order): '' for every day, runs of three or
    more as a range (``mon-fri``), others listed (``sat,sun``)."""
    if len(days) == len(DAYS):
        return ""
    index = [DAYS.index(d) for d in days]
    parts: list[str] = []
    start = 0
    for i in range(1, len(index) + 1):
        if i == len(index) or index[i] != index[i - 1] + 1:
            run = days[start:i]
            parts.append(f"{run[0]}-{run[-1]}" if len(run) >= 3 else ",".join(run))
            start = i
    return ",".join(parts)


def preset_from(values: dict[str, Any]) -> ExportPreset:
    """An ExportPreset from form values; raises FieldError for the first bad field."""
    data: dict[str, Any] = {k: values[k] for k in TEXT_FIELDS if values.get(k, "") != ""}
    data.update({k: bool(values.get(k)) for k in BOOL_FIELDS})
    try:
        return ExportPreset(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "form"
        raise m.FieldError(field, in_words(first, _LABELS.get(field))) from None


def confined_files(config: Config, preset: ExportPreset) -> dict[str, str]:
    """The preset's font and watermark files as absolute paths inside the storage roots.

    The dashboard reads only files inside the roots: a font file elsewhere is refused unless it
    is one of the installed fonts (listed in the form anyway) or the built-in one, a watermark
    image elsewhere always. The refusal reads the same whether or not something is at the path,
    so the form cannot be used to find out what exists on the server. Relative paths are taken
    relative to the config file's folder, like its other paths.
    """
    from pylapse.imaging.fonts import FONT_SUFFIXES

    found: dict[str, str] = {}
    font = (preset.font or "").strip()
    if font and (font.lower().endswith(FONT_SUFFIXES) or "/" in font or "\\" in font):
        installed = _installed_fonts()
        plain = len(font) <= storage.MAX_PATH_CHARS and "\x00" not in font
        real = os.path.realpath(config.resolve(font)) if plain else ""
        found["font"] = real if real in installed else _inside(config, font, "font")
    if preset.watermark_image:
        found["watermark_image"] = _inside(config, preset.watermark_image, "watermark_image")
    return found


@cache
def _installed_fonts() -> frozenset[str]:
    """The files of the installed fonts and the built-in one (as cached as the font list)."""
    from pylapse.imaging.fonts import system_fonts

    return frozenset(os.path.realpath(p) for p in system_fonts().values())


_WHAT = {"font": "a font file", "watermark_image": "a watermark image"}


def _inside(config: Config, raw: str, field: str) -> str:
    try:
        return str(storage.confine(config.resolve(raw), config.root_paths))
    except (storage.PathNotAllowed, ValueError):
        roots = ", ".join(str(r) for r in config.root_paths) or "none configured"
        shown = raw if len(raw) <= 100 else raw[:100] + "..."
        message = f"{shown!r}: {_WHAT[field]} must lie inside a storage root ({roots})"
        if field == "font":
            message += "; or pick an installed font, or leave it empty for the built-in one"
        raise m.FieldError(field, message) from None


def options_of(preset: ExportPreset, config: Config, **overrides: Any) -> ExportOptions:
    """``ExportOptions`` of a preset; its checks (fonts, colours, anchors, and font and
    watermark files inside the storage roots of ``config``) as FieldErrors."""
    from pylapse.export.options import ExportOptions
    from pylapse.imaging.fonts import FontError

    overrides = {**confined_files(config, preset), **overrides}
    try:
        return ExportOptions.from_mapping(preset, **overrides)
    except FontError as exc:
        raise m.FieldError("font", str(exc)) from None
    except (ValueError, TypeError) as exc:
        text = str(exc)
        field = next((f for phrase, f in _OPTION_FIELDS if phrase in text), "form")
        raise m.FieldError(field, text) from None


def output_folder(runtime: Runtime, preset_id: str, preset: ExportPreset) -> Path:
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


def check_folder_is_its_own(runtime: Runtime, preset_id: str, folder: Path) -> None:
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
    """Each cron field must be a valid cron expression (the error names the field, in words)."""
    from pylapse.selection.targets import CronRule

    if preset.day_of_week == "none":  # every day box unticked
        raise m.FieldError("day_of_week", "tick at least one day of the week")
    fields = {f: getattr(preset, f) for f in CRON if getattr(preset, f) is not None}
    if fields:
        try:
            CronRule(fields)
        except SelectionError as exc:
            field = str(exc).split(":", 1)[0]
            field = field if field in CRON else "minute"
            raise m.FieldError(field, cron_in_words(field, fields.get(field), str(exc))) from None


# the cron library's wording -> ours ("the last value (61) is higher than the maximum value (59)")
_CRON_WORDS = (
    (re.compile(r"the (?:last|first) value \((\d+)\) is higher than the maximum value \((\d+)\)"),
     "{0} is more than {1}"),
    (re.compile(r"the (?:last|first) value \((\d+)\) is lower than the minimum value \((\d+)\)"),
     "{0} is less than {1}"),
    (re.compile(r"Increment must be higher than 0"), "a step (*/n) must be 1 or more"),
    (re.compile(r'Invalid weekday name "([^"]*)"'), "{0!r} is not a day (mon, tue … sun)"),
    (re.compile(r'Invalid month name "([^"]*)"'), "{0!r} is not a month (jan, feb … dec)"),
)  # fmt: skip


def cron_in_words(field: str, value: Any, message: str) -> str:
    """A cron field's error for people: what is wrong, when the library says it in a way we
    know, and what the field accepts (our own wording, from the rule's message)."""
    accepted = message.split("; accepted: ", 1)[1] if "; accepted: " in message else ""
    what = ""
    for pattern, words in _CRON_WORDS:
        found = pattern.search(message)
        if found:
            what = words.format(*found.groups())
            break
    label = field.replace("_", " ")
    text = f"{label} {str(value)!r} is not a rule pyLapse understands"
    if what:
        text += f": {what}"
    return text + (f". Accepted: {accepted}" if accepted else "")


def check_dates(preset: ExportPreset) -> None:
    """The first and last day must be days on the calendar, the last not before the first."""
    from pylapse.selection.targets import resolve_range

    for field in ("date_from", "date_to"):
        value = getattr(preset, field)
        if value:
            try:
                resolve_range(value, None, UTC)
            except (SelectionError, ValueError):
                raise m.FieldError(
                    field, f"{value} is not a day on the calendar: pick one (YYYY-MM-DD)"
                ) from None
    try:
        resolve_range(preset.date_from, preset.date_to, UTC)
    except (SelectionError, ValueError):
        raise m.FieldError(
            "date_to", f"the last day ({preset.date_to}) is before the first ({preset.date_from})"
        ) from None


def check_colours(preset: ExportPreset) -> None:
    """Colours are checked even when the overlay is off, so a saved preset never holds a typo."""
    from pylapse.imaging.overlay import parse_color

    for field in ("font_color", "backdrop_color"):
        try:
            parse_color(getattr(preset, field), field.replace("_", " "))
        except ValueError as exc:
            raise m.FieldError(field, str(exc)) from None


def check(runtime: Runtime, preset_id: str, values: dict[str, Any]) -> tuple[ExportPreset, Path]:
    preset = preset_from(values)
    if not preset.collection or preset.collection not in runtime.collections():
        raise m.FieldError("collection", "choose the collection to export")
    check_cron(preset)
    check_dates(preset)
    check_colours(preset)
    options_of(preset, runtime.config)
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
