"""Which instants retention never touches: the days a camera's ``retention.keep`` names and the
date ranges of the export presets over its frames.

A preset without a range protects nothing: it exports whatever frames there are, and keeping
every frame for it would make retention do nothing at all. A range open at one end protects
everything from (or up to) its bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import tzinfo

from pylapse.config.presets import ExportPreset
from pylapse.config.retention import RetentionConfig
from pylapse.selection.targets import resolve_range

__all__ = ["Span", "is_protected", "keep_spans", "preset_spans"]

Span = tuple[float, float]  # [start, stop) in UTC seconds


def keep_spans(retention: RetentionConfig, zone: tzinfo) -> list[Span]:
    """The ``keep`` days (``YYYY-MM-DD`` or ``A..B``, inclusive) as UTC spans in ``zone``."""
    spans = []
    for item in retention.keep:
        first, _, last = item.partition("..")
        span = resolve_range(first, last or first, zone)
        assert span.start is not None and span.stop is not None  # both bounds were given
        spans.append((span.start, span.stop))
    return spans


def preset_spans(presets: Iterable[tuple[ExportPreset, tzinfo]]) -> list[Span]:
    """The ``date_from``..``date_to`` of each ``(preset, its collection's zone)`` that has one."""
    spans = []
    for preset, zone in presets:
        if preset.date_from is None and preset.date_to is None:
            continue
        span = resolve_range(preset.date_from, preset.date_to, zone)
        start = -math.inf if span.start is None else span.start
        stop = math.inf if span.stop is None else span.stop
        spans.append((start, stop))
    return spans


def is_protected(utc: float, spans: Iterable[Span]) -> bool:
    """Whether ``utc`` lies in one of ``spans``."""
    return any(start <= utc < stop for start, stop in spans)
