"""Selection: which frames a rule picks (cron targets, day slices, ranges), matching, slot grids
and quality filters, and the sun (events, windows).

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.selection.matching import Matched, match, match_nearest
    from pylapse.selection.quality_filter import QualityFilter
    from pylapse.selection.selection import (
        DEFAULT_SLICE_TOLERANCE,
        DEFAULT_TOLERANCE,
        EVERYTHING,
        FrameLoader,
        Selection,
        SelectionCounts,
        seconds_of,
        select_all,
        select_cron,
        select_day_slice,
        select_sun,
        trim_to_span,
    )
    from pylapse.selection.sun import SunEvent, SunGap, SunPoint, sun_window
    from pylapse.selection.targets import (
        CRON_FIELDS,
        CronRule,
        DaySpan,
        SelectionError,
        resolve_range,
    )

_WHERE = {
    "CRON_FIELDS": "targets",
    "CronRule": "targets",
    "DEFAULT_SLICE_TOLERANCE": "selection",
    "DEFAULT_TOLERANCE": "selection",
    "DaySpan": "targets",
    "EVERYTHING": "selection",
    "FrameLoader": "selection",
    "Matched": "matching",
    "QualityFilter": "quality_filter",
    "Selection": "selection",
    "SelectionCounts": "selection",
    "SelectionError": "targets",
    "SunEvent": "sun",
    "SunGap": "sun",
    "SunPoint": "sun",
    "match": "matching",
    "match_nearest": "matching",
    "resolve_range": "targets",
    "seconds_of": "selection",
    "select_all": "selection",
    "select_cron": "selection",
    "select_day_slice": "selection",
    "select_sun": "selection",
    "sun_window": "sun",
    "trim_to_span": "selection",
}

__all__ = [
    "CRON_FIELDS",
    "DEFAULT_SLICE_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "EVERYTHING",
    "CronRule",
    "DaySpan",
    "FrameLoader",
    "Matched",
    "QualityFilter",
    "Selection",
    "SelectionCounts",
    "SelectionError",
    "SunEvent",
    "SunGap",
    "SunPoint",
    "match",
    "match_nearest",
    "resolve_range",
    "seconds_of",
    "select_all",
    "select_cron",
    "select_day_slice",
    "select_sun",
    "sun_window",
    "trim_to_span",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
