"""The camera form: config -> form values -> config, losing nothing the user did not change.

Two promises shape this module:

* **Schedules round-trip exactly.** A cron schedule is edited as one line (``minute hour day
  month day_of_week``, with an optional leading ``second`` and trailing ``year``; ``week`` has
  its own box). Typed fields are stored verbatim as strings; a ``*`` that means the same as
  leaving the field out is left out. A line the user did not change keeps the schedule's stored
  values untouched, whatever they were, so a hand-written config is never rewritten.
* **Secrets never go back to the browser.** The password box is always empty (empty on submit
  means "keep the current one"), and the secrets inside the URL (its password, ``pwd=`` and the
  like) are shown masked; wherever the submitted URL still says ``***``, the real one is kept,
  also when another part of the URL was edited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from pylapse import storage, timeutil
from pylapse.config.cameras import CameraConfig, Schedule
from pylapse.redact import mask_secrets, mask_url, restore_masked_url
from pylapse.sources.base import split_credentials
from web.export_form import DAYS, days_of
from web.messages import in_words

# APScheduler's order (most to least significant) and the value a left-out field takes when a
# less significant one is given ("*" when a more significant one is given).
FIELD_ORDER = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
DEFAULTS = {
    "year": "*", "month": "1", "day": "1", "week": "*", "day_of_week": "*",
    "hour": "0", "minute": "0", "second": "0",
}  # fmt: skip
LINE_5 = ("minute", "hour", "day", "month", "day_of_week")
LINE_6 = ("second", *LINE_5)
LINE_7 = (*LINE_6, "year")
UNITS = ("seconds", "minutes", "hours", "days", "weeks")

TEXT_FIELDS = (
    "name", "description", "url", "username", "gphoto2_camera", "gphoto2_port", "output_dir",
    "day_folder", "prefix", "filename_format", "timezone", "capture_host",
)  # fmt: skip
CHOICE_FIELDS = ("type", "auth", "rtsp_transport", "ext")
INT_FIELDS = ("capture_width", "capture_height", "warmup_ms", "quality", "resize_width",
              "resize_height")  # fmt: skip
FLOAT_FIELDS = ("latitude", "longitude", "connect_timeout", "read_timeout")
BOOL_FIELDS = ("enabled", "resize", "verify_tls")
OPTIONAL_TEXT = ("url", "username", "gphoto2_camera", "gphoto2_port", "timezone", "capture_host")


def shown_value(schedule: Schedule, name: str) -> str:
    """What field ``name`` means in ``schedule``, as text (left-out fields shown as implied)."""
    value = getattr(schedule, name)
    if value is not None:
        return str(value)
    given = [f for f in FIELD_ORDER if getattr(schedule, f) is not None]
    later = given and FIELD_ORDER.index(given[-1]) > FIELD_ORDER.index(name)
    return "*" if later else DEFAULTS[name]


def cron_line(schedule: Schedule) -> str:
    """The one-line form of a cron schedule (5, 6 or 7 fields; ``week`` is separate)."""
    fields: tuple[str, ...] = LINE_5
    if schedule.year is not None:
        fields = LINE_7
    elif schedule.second is not None:
        fields = LINE_6
    return " ".join(shown_value(schedule, f) for f in fields)


class FormError(ValueError):
    """A value the form cannot take; ``field`` names the input it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_cron_line(text: str, field_name: str = "cron") -> dict[str, str | None]:
    """``"5 8,10,12 * * 1-5"`` -> ``{"minute": "5", "hour": "8,10,12", "day_of_week": "1-5", ...}``.

    Fields set to ``*`` that mean the same as leaving them out become ``None``; the least
    significant field is kept as typed, because leaving *it* out would change the meaning.
    """
    parts = text.split()
    layouts = {5: LINE_5, 6: LINE_6, 7: LINE_7}
    if len(parts) not in layouts:
        raise FormError(
            field_name,
            f"{text!r}: a cron line has 5 fields (minute hour day month day-of-week), "
            "6 with a leading second, or 7 with a trailing year",
        )
    names = layouts[len(parts)]
    values: dict[str, str | None] = dict(zip(names, parts, strict=True))
    least = names[0]  # "minute" or "second"
    for name in names:
        if name not in (least, "year") and values[name] == "*":
            values[name] = None
    return values


@dataclass
class ScheduleRow:
    """One schedule as the form shows it."""

    index: int
    id: str = ""
    original_id: str = ""
    enabled: bool = True
    type: str = "cron"
    cron: str = ""
    week: str = ""
    interval_amount: str = ""
    interval_unit: str = "minutes"
    start_date: str = ""
    sun_window: str = ""  # "day", "night" or START..END: fire only inside it (the camera's place)
    error: str = ""
    fires: list[datetime] = field(default_factory=list)
    new: bool = False

    @property
    def days(self) -> set[str] | None:
        """The weekdays the cron line's day-of-week field names, for the day boxes; None when
        the line is not a whole cron line or its field is more than days (``*/2``)."""
        parts = self.cron.split()
        if not parts:
            return set(DAYS)
        if len(parts) not in (5, 6, 7):
            return None
        return days_of(parts[4] if len(parts) == 5 else parts[5])


def row_from_schedule(index: int, schedule: Schedule) -> ScheduleRow:
    return ScheduleRow(
        index=index,
        id=schedule.id,
        original_id=schedule.id,
        enabled=schedule.enabled,
        type=schedule.type,
        cron=cron_line(schedule) if schedule.type == "cron" else "",
        week="" if schedule.week is None else str(schedule.week),
        interval_amount="" if schedule.interval_amount is None else str(schedule.interval_amount),
        interval_unit=schedule.interval_unit,
        start_date=_show_start(schedule.start_date),
        sun_window=schedule.sun_window or "",
    )


def row_from_form(form: Mapping[str, Any], index: int) -> ScheduleRow:
    def get(name: str) -> str:
        value = form.get(f"s-{index}-{name}")
        return value.strip() if isinstance(value, str) else ""

    return ScheduleRow(
        index=index,
        id=get("id"),
        original_id=get("original_id"),
        enabled=bool(get("enabled")),
        type=get("type") or "cron",
        cron=get("cron"),
        week=get("week"),
        interval_amount=get("interval_amount"),
        interval_unit=get("interval_unit") or "minutes",
        start_date=get("start_date"),
        sun_window=get("sun_window"),
    )


def row_is_blank(row: ScheduleRow) -> bool:
    return not row.original_id and not row.cron and not row.interval_amount


def schedule_from_row(row: ScheduleRow, original: Schedule | None) -> Schedule:
    """Build the Schedule a row describes (raises FormError with the row's field)."""
    prefix = f"s-{row.index}-"
    data: dict[str, Any] = original.model_dump(exclude_unset=True) if original else {}
    data["id"] = row.id or f"schedule-{row.index + 1}"
    # enabled and type are written only when they say something (never rewrite what was there)
    for name, value, default in (("enabled", row.enabled, True), ("type", row.type, "cron")):
        if name in data or value != default:
            data[name] = value
    if row.type == "interval":
        for name in ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second"):
            data.pop(name, None)
        try:
            amount = float(row.interval_amount)
        except ValueError:
            amount = 0.0
        if not amount > 0 or amount != amount or amount == float("inf"):
            raise FormError(
                prefix + "interval_amount", "the interval needs a number above 0, e.g. 10 or 0.5"
            )
        # whole numbers stay whole in the file; a fraction (a fast Pi camera) is kept as given
        data["interval_amount"] = int(amount) if amount.is_integer() else amount
        if row.interval_unit not in UNITS:
            raise FormError(prefix + "interval_unit", f"the unit must be one of {', '.join(UNITS)}")
        if "interval_unit" in data or row.interval_unit != "minutes":
            data["interval_unit"] = row.interval_unit
        stored = original.start_date if original is not None else None
        if stored is not None and row.start_date == _show_start(stored):
            pass  # unchanged: keep it as stored, with its offset if it had one
        elif row.start_date:
            data["start_date"] = _start_date(row.start_date, prefix + "start_date")
        else:
            data.pop("start_date", None)
    else:
        for name in ("interval_amount", "interval_unit", "start_date"):
            data.pop(name, None)
        unchanged = (
            original is not None
            and original.type == "cron"
            and " ".join(row.cron.split()) == cron_line(original)
        )
        if not unchanged:
            for name in FIELD_ORDER:
                data.pop(name, None)
            data.update({k: v for k, v in parse_cron_line(row.cron, prefix + "cron").items() if v})
        week_now = "" if original is None or original.week is None else str(original.week)
        if row.week != week_now or not unchanged:
            data.pop("week", None)
            if row.week:
                data["week"] = row.week
    if row.sun_window:
        data["sun_window"] = row.sun_window
    else:
        data.pop("sun_window", None)
    try:
        return Schedule.model_validate(data)
    except ValidationError as exc:
        message = "; ".join(in_words(e) for e in exc.errors())
        target = "cron" if row.type == "cron" else "interval_amount"
        if any(e.get("loc", ("",))[0] == "sun_window" for e in exc.errors()):
            target = "sun_window"
        raise FormError(prefix + target, message) from None


def _show_start(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value else ""


def _start_date(text: str, field_name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise FormError(field_name, f"{text!r} is not a date and time") from None


# -- the camera itself ---------------------------------------------------------------------------


def form_values(camera: CameraConfig | None) -> dict[str, Any]:
    """What the form's inputs show for ``camera`` (defaults for a new one); no password."""
    source = camera or CameraConfig.model_construct(name="", output_dir="")
    values: dict[str, Any] = {}
    for name in (*TEXT_FIELDS, *CHOICE_FIELDS, *INT_FIELDS, *FLOAT_FIELDS, *BOOL_FIELDS):
        value = getattr(source, name, None)
        if value is None and name in CameraConfig.model_fields:
            default = CameraConfig.model_fields[name].default
            value = None if callable(default) else default
        values[name] = value
    values["url"] = mask_url(camera.url) if camera and camera.url else (values["url"] or "")
    values["has_password"] = bool(camera and camera.password)
    values["password"] = ""
    return values


def text_value(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: Mapping[str, Any], name: str, kind: type) -> int | float | None:
    text = text_value(form, name)
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise FormError(name, f"{text!r} is not {what}") from None


def camera_from_form(
    form: Mapping[str, Any], existing: CameraConfig | None
) -> tuple[CameraConfig | None, dict[str, str], list[ScheduleRow]]:
    """Validate the submitted form: (camera or None, errors by input name, schedule rows)."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = existing.model_dump(exclude_unset=True) if existing else {}
    data.pop("schedules", None)
    for name in TEXT_FIELDS:
        if name not in form:
            continue  # a form without this input leaves the value alone
        text = text_value(form, name)
        if name == "filename_format" and not text:
            data.pop(name, None)  # back to the default format
            continue
        data[name] = (text or None) if name in OPTIONAL_TEXT else text
    for name in CHOICE_FIELDS:
        if text_value(form, name):
            data[name] = text_value(form, name)
    for name, kind in [(n, int) for n in INT_FIELDS] + [(n, float) for n in FLOAT_FIELDS]:
        try:
            number = _number(form, name, kind)
        except FormError as exc:
            errors[exc.field] = str(exc)
            continue
        if number is None and name in ("connect_timeout", "read_timeout", "warmup_ms"):
            data.pop(name, None)  # back to the default
        else:
            data[name] = number
    for name in BOOL_FIELDS:
        data[name] = bool(text_value(form, name))
    if existing and existing.url and isinstance(data.get("url"), str):
        # the form showed the URL masked: where "***" came back, the real secret is kept
        data["url"] = restore_masked_url(data["url"], existing.url)
    password = form.get("password")
    if isinstance(password, str) and password:
        data["password"] = password
    elif text_value(form, "clear_password"):
        data["password"] = None
    _drop_untouched_defaults(data, existing)

    rows, schedules = _schedules(form, existing, errors)
    data["schedules"] = schedules
    if errors:
        return None, errors, rows
    try:
        return CameraConfig.model_validate(data), errors, rows
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"]
            if loc and loc[0] == "schedules" and len(loc) > 1:
                name = f"s-{loc[1]}-cron"
            else:
                name = str(loc[0]) if loc else "form"
            errors[name] = _without_secrets(in_words(error), data)
        return None, errors, rows


def _without_secrets(message: str, data: dict[str, Any]) -> str:
    """Validation messages quote values (``url 'ftp://user:pw@cam' must start with ...``):
    never let the password in a URL, or the password field, reach the page that way."""
    url = data.get("url")
    secrets = [data.get("password")]
    if isinstance(url, str) and url:
        message = message.replace(url, mask_url(url))
        secrets.append(split_credentials(url)[2])
    return mask_secrets(message, *secrets)


def _drop_untouched_defaults(data: dict[str, Any], existing: CameraConfig | None) -> None:
    """Keep the file tidy: a field the camera never set and the form left at its default stays
    out of the saved config."""
    was_set = existing.model_fields_set if existing else set()
    for name in list(data):
        info = CameraConfig.model_fields.get(name)
        if info is None or name in was_set or name in ("name", "output_dir"):
            continue
        default = info.get_default(call_default_factory=True)
        if data[name] == default:
            del data[name]


def _schedules(
    form: Mapping[str, Any], existing: CameraConfig | None, errors: dict[str, str]
) -> tuple[list[ScheduleRow], list[Schedule]]:
    originals = {s.id: s for s in (existing.schedules if existing else [])}
    indexes = sorted({int(m.group(1)) for key in form for m in [re.match(r"s-(\d+)-", key)] if m})
    rows, schedules = [], []
    for index in indexes:
        row = row_from_form(form, index)
        if text_value(form, f"s-{index}-remove") or row_is_blank(row):
            continue
        rows.append(row)
        try:
            schedule = schedule_from_row(row, originals.get(row.original_id))
        except FormError as exc:
            row.error = str(exc)
            errors[exc.field] = str(exc)
            continue
        schedules.append(schedule)
    return rows, schedules


def slug(text: str) -> str:
    """A camera id from its name: lower case, ``-`` between words."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "camera"


def zone_names() -> tuple[str, ...]:
    return timeutil.all_zones()


def check_output_dir(
    config: Any, camera: CameraConfig, existing: CameraConfig | None, errors: dict[str, str]
) -> None:
    """A folder named through the dashboard must lie inside a storage root (symlinks resolved).

    An output folder that was already configured (by hand) and is left unchanged is accepted.
    """
    if existing is not None and existing.output_dir == camera.output_dir:
        return
    try:
        storage.confine(config.resolve(camera.output_dir), config.root_paths)
    except storage.PathNotAllowed as exc:
        errors["output_dir"] = str(exc)
