"""A render schedule of the config file (issue 20 §1): a video made by itself at set times.

``render_schedules: {ID: {"collection": "garden", "period": "yesterday", "at": "06:00",
"keep": 7, ...}}``. The period is ``yesterday``, ``last_7_days``, ``month_to_date``, ``all`` or a
five-field cron rule (``"0 6 * * 1"``: it fires by the rule and covers the time since the rule's
previous firing; ``at`` is then unused). Times are in the schedule's ``timezone``, else the
collection's. What runs it: :mod:`pylapse.tasks.render_schedule`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from pylapse.config.base import _check_zone, _Model

__all__ = ["NAMED_PERIODS", "RenderScheduleConfig", "cron_trigger"]

NAMED_PERIODS = ("yesterday", "last_7_days", "month_to_date", "all")
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_days(field: str) -> str:
    """crontab's day of week (0 or 7 = Sunday, names, ranges, steps, lists) as the explicit
    list of day names APScheduler reads: its own numbers start at Monday = 0, so ``1`` would
    silently mean Tuesday."""
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        else:
            a, _, b = span.partition("-")
            first = _DAYS.index(a[:3]) if a[:3] in _DAYS else int(a)
            last = (_DAYS.index(b[:3]) if b[:3] in _DAYS else int(b)) if b else first
        if not (0 <= first <= 7 and 0 <= last <= 7 and step > 0 and first <= last):
            raise ValueError(f"day of week {part!r} is not 0-7 (0 and 7 are Sunday) or a name")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(rule: str, zone: Any) -> Any:
    """APScheduler's CronTrigger for a five-field crontab rule (crontab's meaning, also of the
    day of week) in ``zone``; ValueError when malformed."""
    from apscheduler.triggers.cron import CronTrigger

    fields = rule.split()
    if len(fields) != 5:
        raise ValueError("a cron rule has five fields: minute hour day month day-of-week")
    minute, hour, day, month, dow = fields
    try:
        dow = _cron_days(dow)
    except ValueError as exc:  # int() of a word: say which field
        text = str(exc)
        raise ValueError(text if "day of week" in text else f"day of week {dow!r}") from None
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=dow,
                       timezone=zone)  # fmt: skip


class RenderScheduleConfig(_Model):
    """One render schedule: which frames, when, how encoded, where and how many kept."""

    collection: str = Field(min_length=1, description="the collection (or camera) id to render")
    period: str = Field(
        "yesterday",
        description="'yesterday', 'last_7_days', 'month_to_date', 'all' or a five-field cron "
        "rule (fires by the rule, covers the time since its previous firing)",
    )
    at: str = Field("06:00", description="HH:MM the named periods run at (schedule's zone)")
    timezone: str | None = Field(None, description="IANA zone; default: the collection's")
    keep: int = Field(
        7, ge=0, description="outputs of this schedule kept (older ones removed); 0 keeps all"
    )
    output_dir: str | None = Field(
        None, description="folder of the videos (default: the dashboard's videos folder)"
    )
    name: str = Field(
        "{schedule}-{period}", description="file name rule: {schedule}, {collection}, {period}"
    )
    select: dict[str, Any] = Field(
        default_factory=dict,
        description="selection rules as Collection.select takes them (hour, minute, "
        "tolerance, sun, sun_window, quality filters, ...)",
    )
    preset: str | None = Field(
        None, description="an export preset id whose selection rules pick the frames "
        "(its dates are replaced by the period); instead of select"
    )
    codec: str = Field("h264", description="h264, h265, mpeg4, vp9 or gif")
    fps: float = Field(24.0, gt=0, le=240, description="frames per second")
    crf: int | None = Field(None, ge=0, le=63, description="quality; none: the codec's default")
    speed: Literal["draft", "final"] | None = Field(None, description="'draft' or 'final'")
    size: str | None = Field(None, description="fit inside WIDTHxHEIGHT, e.g. 1920x1080")
    deflicker: bool = Field(False, description="even out brightness (renders in one piece)")
    segment_cache: bool = Field(
        True, description="encode each day once and join cached days (see docs)"
    )
    enabled: bool = Field(True, description="a disabled schedule keeps its settings, never runs")

    @model_validator(mode="after")
    def _one_selection(self) -> RenderScheduleConfig:
        if self.preset is not None and self.select:
            raise ValueError("preset and select both pick frames: give one of them")
        return self

    @field_validator("period")
    @classmethod
    def _check_period(cls, value: str) -> str:
        value = value.strip()
        if value in NAMED_PERIODS:
            return value
        try:
            cron_trigger(value, "UTC")
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not {', '.join(NAMED_PERIODS)} or a cron rule ({exc})"
            ) from None
        return value

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        if not _AT.match(value.strip()):
            raise ValueError(f"{value!r} is not a time of day as HH:MM (e.g. 06:00)")
        return value.strip()

    @field_validator("timezone", mode="before")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if "{period}" not in value:
            raise ValueError(f"{value!r} must hold {{period}}, so outputs never share a name")
        try:
            text = value.format(schedule="s", collection="c", period="p")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"{value!r}: only {{schedule}}, {{collection}} and {{period}} ({exc})"
            ) from None
        if "/" in text or "\\" in text or text.startswith("."):
            raise ValueError(f"{value!r} is a file name: no folders, no leading dot")
        return value

    @field_validator("size")
    @classmethod
    def _check_size(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{1,5}x\d{1,5}", value.strip().lower()):
            raise ValueError(f"{value!r} is not WIDTHxHEIGHT, e.g. 1920x1080")
        return value.strip().lower() if value else None
