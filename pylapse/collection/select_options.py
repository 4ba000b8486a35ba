"""What :meth:`Collection.select` and :meth:`Collection.day_slice` accept: the quality filter
options beside the cron fields, the checks on what combines, and an export preset's fields as
``select``'s arguments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pylapse.selection.selection import DEFAULT_TOLERANCE
from pylapse.selection.targets import CRON_FIELDS, SelectionError

if TYPE_CHECKING:
    from pylapse.config.presets import ExportPreset

__all__ = ["QUALITY_NAMES", "check_day_slice_options", "preset_select_args", "read_select_options"]

QUALITY_NAMES = (
    "min_luma",
    "max_luma",
    "min_contrast",
    "max_clip_high",
    "min_sharpness",
    "drop_duplicates",
    "drop_frozen",
    "frozen_run",
    "best_in_window",
    "keep_dead_frames",
)


def read_select_options(
    options: dict[str, Any],
    rules: Iterable[Mapping[str, Any]] | None,
    *,
    sun: object,
    best_of_day: object,
    sun_window: object,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``select``'s keyword ``options`` as (quality filter options, cron rules: ``rules`` and
    the cron fields given); raises :class:`SelectionError` on an unknown option or a mix that
    does not combine (the sun or ``best_of_day`` with cron fields)."""
    quality = {k: options.pop(k) for k in QUALITY_NAMES if k in options}
    cron = options  # what is left: cron fields
    unknown = sorted(set(cron) - set(CRON_FIELDS))
    if unknown:
        raise SelectionError(
            f"unknown selection field {unknown[0]!r}; accepted: {', '.join(CRON_FIELDS)}, "
            f"{', '.join(QUALITY_NAMES)}, best_of_day, rules, tolerance, date_from, date_to"
        )
    all_rules = [dict(r) for r in rules or ()]
    fields = {k: v for k, v in cron.items() if v is not None}
    if fields:
        all_rules.append(fields)
    if sun is not None and (all_rules or best_of_day is not None):
        raise SelectionError("sun takes one frame per day per point: give no cron fields")
    if best_of_day is not None:
        if sun_window is not None:
            raise SelectionError("sun_window does not combine with best_of_day")
        if all_rules:
            raise SelectionError("best_of_day takes one frame per day: give no cron fields")
    return quality, all_rules


def check_day_slice_options(quality: Mapping[str, Any]) -> None:
    """A day slice takes the quality filter options only."""
    unknown = sorted(set(quality) - set(QUALITY_NAMES))
    if unknown:
        raise SelectionError(
            f"unknown day slice option {unknown[0]!r}; accepted: {', '.join(QUALITY_NAMES)}"
        )


def preset_select_args(preset: ExportPreset) -> dict[str, Any]:
    """The arguments of ``select`` that pick an export preset's frames."""
    fields = {f: getattr(preset, f) for f in CRON_FIELDS if getattr(preset, f) is not None}
    quality = {f: getattr(preset, f, None) for f in QUALITY_NAMES}
    best_of_day = getattr(preset, "best_of_day", None)
    tolerance: timedelta | float = getattr(preset, "tolerance", DEFAULT_TOLERANCE.total_seconds())
    if best_of_day and "tolerance" not in getattr(preset, "model_fields_set", ()):
        tolerance = DEFAULT_TOLERANCE  # select() then takes the day slice's hour
    return {
        "best_of_day": best_of_day,
        "sun": getattr(preset, "sun", None) or None,
        "sun_window": getattr(preset, "sun_window", None) or None,
        **{k: v for k, v in quality.items() if v is not None and v is not False},
        "tolerance": tolerance,
        "date_from": getattr(preset, "date_from", None),
        "date_to": getattr(preset, "date_to", None),
        **fields,
    }
