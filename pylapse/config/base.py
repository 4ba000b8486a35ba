"""What every model of the config file shares: the strict base model, cron field values, zone
checks and the error type. :mod:`pylapse.config` re-exports what callers use."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from pylapse import timeutil

__all__ = ["CRON_FIELDS", "ConfigConflict", "ConfigError", "CronValue"]

CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, field and the fix."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class ConfigConflict(ConfigError):
    """A save refused because the file changed on disk since the caller read it."""


def _cron_value(value: Any) -> int | str | None:
    """A cron field: a whole number, an expression string, or unset (``None`` or ``""``)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip() or None
    raise ValueError(
        f"{value!r} is not accepted; a cron field is a number or an expression such as '*/15'"
    )


CronValue = Annotated[int | str | None, BeforeValidator(_cron_value)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


def _check_zone(value: str | None) -> str | None:
    if value:
        timeutil.zone(value)  # raises ZoneError with the accepted form
    return value or None
