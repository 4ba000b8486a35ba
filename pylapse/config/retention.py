"""A camera's ``retention`` block of the config file (issue 20 §4): how long every frame is kept,
then thinned, then deleted. What runs it: :mod:`pylapse.retention` and
:mod:`pylapse.tasks.retention`."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field, field_validator, model_validator

from pylapse.config.base import _Model

__all__ = ["RetentionConfig"]

_KEEP_DAY = r"\d{4}-\d{2}-\d{2}"
_KEEP_RE = re.compile(rf"^({_KEEP_DAY})(\.\.({_KEEP_DAY}))?$")


class RetentionConfig(_Model):
    """A camera's retention (issue 20, section 4): keep every frame for ``keep_all_days``,
    then one frame per ``thin_minutes``, and none older than ``delete_after_days``. Off by
    default; frames go to a trash folder in the camera's folder, emptied after ``trash_days``."""

    enabled: bool = Field(False, description="run retention for this camera (off by default)")
    keep_all_days: float = Field(30, ge=0, description="days every frame is kept")
    thin_minutes: float | None = Field(
        None, gt=0, le=1440, description="after keep_all_days, one frame per this many minutes"
    )
    delete_after_days: float | None = Field(
        None, gt=0, description="frames older than this many days go (protected ones stay)"
    )
    trash_days: float = Field(7, ge=0, description="days trashed frames wait before deletion")
    keep: list[str] = Field(
        default_factory=list,
        description="days never thinned or deleted: 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD'",
    )

    @field_validator("keep")
    @classmethod
    def _check_keep(cls, value: list[str]) -> list[str]:
        out = []
        for i, item in enumerate(value):
            text = str(item).strip()
            match = _KEEP_RE.match(text)
            try:
                days = [datetime.fromisoformat(d) for d in (match.group(1, 3) if match else ())
                        if d]  # fmt: skip
            except ValueError:
                days = []
            if not days:
                raise ValueError(
                    f"keep[{i}]: {item!r} is not a day or a range of days "
                    "(accepted: 'YYYY-MM-DD' or 'YYYY-MM-DD..YYYY-MM-DD')"
                )
            if len(days) == 2 and days[1] < days[0]:
                raise ValueError(f"keep[{i}]: {item!r} ends before it starts")
            out.append(text)
        return out

    @model_validator(mode="after")
    def _check_ages(self) -> RetentionConfig:
        if self.enabled and self.thin_minutes is None and self.delete_after_days is None:
            raise ValueError(
                "retention is enabled but removes nothing: set thin_minutes (e.g. 10) and/or "
                "delete_after_days (e.g. 365)"
            )
        if self.delete_after_days is not None and self.delete_after_days <= self.keep_all_days:
            raise ValueError(
                f"delete_after_days={self.delete_after_days:g} must be more than "
                f"keep_all_days={self.keep_all_days:g} (every frame is kept that long)"
            )
        return self
