"""The cameras of ``capture_config.json``: where frames come from, where they go, and when.

:class:`CameraConfig` is one entry of the file's ``cameras``; its :class:`Schedule` list says
when it captures (cron fields, or an interval) and :class:`MetricsRegion` which rows the sky
metrics measure. The root model, :class:`pylapse.config.models.Config`, holds them by id.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pylapse import naming, storage, timeutil
from pylapse.config.base import (
    CRON_FIELDS,
    CronValue,
    _check_zone,
    _Model,
)
from pylapse.config.capture import check_host_name
from pylapse.config.presets import ExportPreset
from pylapse.config.retention import RetentionConfig
from pylapse.redact import mask_url

__all__ = [
    "LAYOUTS",
    "MIN_INTERVAL",
    "CameraConfig",
    "Layout",
    "MetricsRegion",
    "Schedule",
]

SOURCE_TYPES = ("http", "mjpeg", "rtsp", "picamera", "gphoto2", "synthetic")
LEGACY_RESIZE_BOX = (1920, 1080)  # pyLapse 0.2's size when "resize" is on without a size
Layout = Literal["flat", "day_folders"]
LAYOUTS: tuple[Layout, ...] = ("flat", "day_folders")

_UNITS = {
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours",
    "d": "days", "day": "days", "w": "weeks", "week": "weeks",
}  # fmt: skip


_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
MIN_INTERVAL = 0.1  # seconds; sub-second intervals are for a camera kept open (a Pi camera)


class Schedule(_Model):
    """When a camera captures: cron fields, or an interval anchored at ``start_date``."""

    id: str = Field(min_length=1, description="name of this schedule, unique within the camera")
    enabled: bool = Field(True, description="a disabled schedule keeps its settings, never fires")
    type: Literal["cron", "interval"] = Field("cron", description="'cron' or 'interval'")
    year: CronValue = Field(None, description="cron year field, e.g. 2026 or '2026-2027'")
    month: CronValue = Field(None, description="cron month field, 1-12 or jan-dec")
    day: CronValue = Field(None, description="cron day-of-month field, 1-31 or 'last'")
    week: CronValue = Field(None, description="cron ISO week field, 1-53")
    day_of_week: CronValue = Field(None, description="cron weekday field, 0-6 (0 = mon) or mon-sun")
    hour: CronValue = Field(None, description="cron hour field, 0-23, e.g. '6-20' or '*/2'")
    minute: CronValue = Field(None, description="cron minute field, 0-59, e.g. '*/15'")
    second: CronValue = Field(None, description="cron second field, 0-59 (default 0)")
    interval_amount: int | float | None = Field(
        None, gt=0, description="interval length; may be a fraction (0.5 seconds)"
    )
    interval_unit: Literal["seconds", "minutes", "hours", "days", "weeks"] = Field(
        "minutes", description="unit of interval_amount: seconds, minutes, hours, days or weeks"
    )
    start_date: datetime | None = Field(
        None, description="interval anchor (camera time zone when no offset is given)"
    )
    sun_window: str | None = Field(
        None,
        description="fire only inside this sun window of each day: 'day', 'night' or "
        "START..END, e.g. 'civil_dawn-30m..civil_dusk+30m' (needs the camera's latitude and "
        "longitude)",
    )
    # the camera's (latitude, longitude), set by CameraConfig for the sun window's trigger
    _place: tuple[float, float] | None = PrivateAttr(None)

    @field_validator("sun_window", mode="before")
    @classmethod
    def _check_sun_window(cls, value: Any) -> Any:
        return ExportPreset._check_sun_window(value)  # the same syntax as an export's

    def sun_place(self) -> tuple[float, float] | None:
        """The camera's (latitude, longitude) when this schedule has a sun window, else None."""
        return self._place if self.sun_window else None

    @field_validator("interval_unit", mode="before")
    @classmethod
    def _normalise_unit(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().lower()
            return _UNITS.get(word, word)
        return value

    @field_validator("start_date", mode="before")
    @classmethod
    def _empty_date(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(*CRON_FIELDS)
    @classmethod
    def _check_cron_field(cls, value: int | str | None, info: ValidationInfo) -> int | str | None:
        if value is None:
            return value
        from apscheduler.triggers.cron import CronTrigger  # validates the field's syntax

        assert info.field_name is not None  # a field validator is always given its field
        try:
            CronTrigger(**{info.field_name: value}, timezone=UTC)
        except ValueError as exc:
            reason = re.sub(r"^Error validating expression '[^']*': ", "", str(exc))
            raise ValueError(
                f"{value!r} is not a valid cron {info.field_name} field: {reason}"
            ) from None
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> Schedule:
        if self.type == "interval":
            if self.interval_amount is None:
                raise ValueError("an interval schedule needs 'interval_amount' (a number > 0)")
            if (self.interval_seconds() or 0) < MIN_INTERVAL:
                raise ValueError(
                    f"schedule {self.id!r}: an interval of {self.interval_amount:g} "
                    f"{self.interval_unit} is shorter than {MIN_INTERVAL:g} s, faster than any "
                    "camera delivers stills"
                )
        elif all(getattr(self, f) is None for f in CRON_FIELDS):
            raise ValueError(
                "a cron schedule needs at least one of "
                + ", ".join(CRON_FIELDS)
                + ' (or "type": "interval" with interval_amount)'
            )
        else:
            why = _never_fires(self.cron_fields())
            if why:
                raise ValueError(f"schedule {self.id!r} never fires: {why}")
        return self

    def interval_seconds(self) -> float | None:
        """An interval schedule's length in seconds (None for a cron schedule)."""
        if self.type != "interval" or self.interval_amount is None:
            return None
        return float(self.interval_amount * _UNIT_SECONDS[self.interval_unit])

    def cron_fields(self) -> dict[str, int | str]:
        """The cron fields that are set, as keyword arguments for APScheduler's CronTrigger."""
        return {f: getattr(self, f) for f in CRON_FIELDS if getattr(self, f) is not None}


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_DAYS_IN = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # the most each month ever has


def _never_fires(fields: dict[str, int | str]) -> str | None:
    """Why a cron with ``fields`` matches no time in any year, or None when it matches one.

    Only impossible calendars are refused (31 February, 29 February on a weekday in a year
    range without one); a year range that is over fired once and is kept as written.
    """
    from apscheduler.triggers.cron import CronTrigger

    # From APScheduler's first year: a finished year range is not "never". Without a year field
    # 430 years suffice (the Gregorian calendar repeats every 400), so an impossible schedule
    # costs a few ms to refuse (an editor's preview checks every keystroke); with one, the
    # search goes as far as APScheduler does (the year 9999).
    start = datetime(1970, 1, 1, tzinfo=UTC)
    end = None if "year" in fields else datetime(2400, 1, 1, tzinfo=UTC)
    trigger = CronTrigger(**fields, timezone=UTC, end_date=end)
    if trigger.get_next_fire_time(None, start) is not None:
        return None
    month, day = fields.get("month"), fields.get("day")
    if _plain_int(month) and _plain_int(day):
        m, d = int(str(month)), int(str(day))
        if 1 <= m <= 12 and d > _DAYS_IN[m - 1]:
            return f"{d} {_MONTHS[m - 1]} never happens"
    shown = ", ".join(f"{k}={v!r}" for k, v in fields.items())
    return f"no date has {shown}"


def _plain_int(value: int | str | None) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


# A zone whose offset has minutes and whose abbreviation has no digits: a name rendered at this
# time reads back with +10:30 only when the template writes the offset itself.
_OFFSET_PROBE = datetime(2026, 1, 15, 12, 34, 56, tzinfo=timeutil.zone("Australia/Adelaide"))


def _sample_name(template: str) -> str:
    return naming.format_name(_OFFSET_PROBE, template, prefix="", camera="cam", ext="jpg")


def _names_carry_offset(template: str) -> bool:
    """Whether names made with ``template`` read back with their UTC offset."""
    parsed = naming.parse_name(_sample_name(template), UTC)
    return parsed is not None and parsed.time.utcoffset() == _OFFSET_PROBE.utcoffset()


class MetricsRegion(_Model):
    """The band of rows of the full frame that the sky metrics measure (issue 18), e.g.
    ``{"top": 0, "bottom": 400}`` for clouds only; frames shorter than it are measured over the
    rows they have."""

    top: int = Field(0, ge=0, description="first row measured (0: the top of the frame)")
    bottom: int | None = Field(
        None, gt=0, description="row where the band ends, excluded (default: the frame's end)"
    )

    @model_validator(mode="after")
    def _check_band(self) -> MetricsRegion:
        if self.bottom is not None and self.bottom <= self.top:
            raise ValueError(
                f"metrics_region: bottom={self.bottom} must be below top={self.top} (rows of "
                "the full frame counted from the top; bottom is excluded)"
            )
        return self


class CameraConfig(_Model):
    """One camera: where frames come from, where they go, and when."""

    name: str = Field(min_length=1, description="display name (default: the camera id)")
    description: str = Field("", description="free text shown on the dashboard")
    enabled: bool = Field(True, description="a disabled camera keeps its settings but never fires")
    type: Literal["http", "mjpeg", "rtsp", "picamera", "gphoto2", "synthetic"] = Field(
        "http", description="source kind: http, mjpeg, rtsp, picamera, gphoto2 or synthetic"
    )
    # http / mjpeg / rtsp
    url: str | None = Field(None, description="snapshot, MJPEG or RTSP URL")
    username: str | None = Field(None, description="user for basic/digest auth")
    password: str | None = Field(None, description="password (never shown in pages or logs)")
    auth: Literal["basic", "digest"] = Field("basic", description="HTTP auth scheme")
    headers: dict[str, str] = Field(default_factory=dict, description="extra HTTP headers")
    connect_timeout: float = Field(5.0, gt=0, description="seconds to connect")
    read_timeout: float = Field(15.0, gt=0, description="seconds without data before giving up")
    max_bytes: int = Field(50_000_000, gt=0, description="largest accepted frame in bytes")
    max_redirects: int = Field(5, ge=0, description="HTTP redirects followed")
    verify_tls: bool = Field(True, description="check HTTPS certificates")
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport")
    # picamera / gphoto2 / synthetic
    capture_width: int | None = Field(None, gt=0, description="capture width (picamera, demo)")
    capture_height: int | None = Field(None, gt=0, description="capture height (picamera, demo)")
    warmup_ms: int = Field(1000, ge=0, description="picamera warm-up before the still")
    gphoto2_camera: str | None = Field(None, description="gphoto2 --camera model name")
    gphoto2_port: str | None = Field(None, description="gphoto2 --port, e.g. usb:001,004")
    # saving
    output_dir: str = Field(min_length=1, description="folder frames are saved under")
    layout: Layout | None = Field(
        None,
        description="'day_folders' (a subfolder per day) or 'flat' (straight into output_dir); "
        "unset: the config's layout",
    )
    day_folder: str = Field(
        storage.DEFAULT_DAY_FORMAT, description="strftime of the per-day subfolder; '' for none"
    )
    prefix: str = Field("", description="text at the start of every file name")
    allow_ambiguous_names: bool = Field(
        False,
        description="accept a filename_format without a UTC offset (names repeat in the hour "
        "clocks go back; such frames get a -2 suffix)",
    )
    filename_format: str = Field(naming.DEFAULT_FORMAT, description="file name template")
    ext: Literal["jpg", "jpeg", "png"] = Field("jpg", description="file extension")
    quality: int | None = Field(
        None, ge=1, le=100, description="re-encode JPEG at this quality; unset keeps camera bytes"
    )
    resize: bool = Field(False, description="fit frames into resize_width x resize_height")
    resize_width: int | None = Field(None, gt=0, description="resize box width (default 1920)")
    resize_height: int | None = Field(None, gt=0, description="resize box height (default 1080)")
    timezone: str | None = Field(None, description="IANA zone of the camera; default: local")
    latitude: float | None = Field(None, ge=-90, le=90, description="for sun position")
    longitude: float | None = Field(None, ge=-180, le=180, description="for sun position")
    metrics_region: MetricsRegion | None = Field(
        None, description="band of rows the sky metrics measure (default: the whole frame)"
    )
    schedules: list[Schedule] = Field(default_factory=list, description="when to capture")
    ignore: list[str] = Field(
        default_factory=lambda: list(storage.DEFAULT_IGNORE),
        description="folders (and files) under output_dir the index leaves out",
    )
    retention: RetentionConfig | None = Field(
        None, description="thin and expire old frames (off unless given and enabled)"
    )
    capture_host: str | None = Field(
        None,
        description="name of the only host that captures this camera (default: any host "
        "running `pylapse capture`)",
    )

    @field_validator("timezone", mode="before")
    @classmethod
    def _check_timezone(cls, value: Any) -> Any:
        return _check_zone(value) if isinstance(value, str) else value

    @field_validator("ignore")
    @classmethod
    def _check_ignore(cls, value: list[str]) -> list[str]:
        return storage.check_ignore(value)

    @field_validator("capture_host")
    @classmethod
    def _check_capture_host(cls, value: str | None) -> str | None:
        return None if value is None else check_host_name(value)

    @field_validator("filename_format")
    @classmethod
    def _check_format(cls, value: str, info: ValidationInfo) -> str:
        naming.validate_template(value)
        if not info.data.get("allow_ambiguous_names") and not _names_carry_offset(value):
            raise ValueError(
                f"{value!r} makes names without a UTC offset (such as {_sample_name(value)!r}): "
                "the hour the clocks go back repeats every name in it and the index cannot tell "
                "the two apart ({tz}, an abbreviation, is not an offset). Add {tz_offset} (or %z "
                "inside {timestamp:...}), e.g. "
                "'{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}', or set "
                '"allow_ambiguous_names": true on the camera to keep this format (a repeated '
                "name then gets a -2 suffix)"
            )
        return value

    @field_validator("ext", mode="before")
    @classmethod
    def _normalise_ext(cls, value: Any) -> Any:
        return value.strip().lstrip(".").lower() if isinstance(value, str) else value

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if "/" in value or "\\" in value or "\x00" in value:
            raise ValueError(f"{value!r} must not contain '/' or '\\' (it starts a file name)")
        return value

    @field_validator("day_folder")
    @classmethod
    def _check_day_folder(cls, value: str) -> str:
        storage.day_folder(Path("x"), datetime(2026, 2, 9, tzinfo=UTC), value)
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if value and kind in ("http", "mjpeg") and not re.match(r"^https?://", value, re.I):
            raise ValueError(f"{mask_url(value)!r} must start with http:// or https://")
        if value and kind == "rtsp" and not re.match(r"^rtsps?://", value, re.I):
            raise ValueError(f"{mask_url(value)!r} must start with rtsp:// or rtsps://")
        return value or None

    @field_validator("schedules")
    @classmethod
    def _unique_ids(cls, value: list[Schedule]) -> list[Schedule]:
        ids = [s.id for s in value]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"schedule ids must be unique; repeated: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _place_sun_windows(self) -> CameraConfig:
        windowed = [s.id for s in self.schedules if s.sun_window]
        if windowed and (self.latitude is None or self.longitude is None):
            raise ValueError(
                f"schedule {windowed[0]!r} has a sun_window: give the camera 'latitude' and "
                "'longitude' (degrees, e.g. 52.52 and 13.40) so the sun can be computed"
            )
        for schedule in self.schedules:
            if self.latitude is not None and self.longitude is not None:
                schedule._place = (self.latitude, self.longitude)
        return self

    @model_validator(mode="after")
    def _check_source(self) -> CameraConfig:
        needs_url = self.type in ("http", "mjpeg", "rtsp")
        if needs_url and not self.url and self.enabled:
            raise ValueError(
                f"a camera of type {self.type!r} needs a 'url' "
                '(or "enabled": false to keep it without one)'
            )
        return self

    def zone(self) -> tzinfo:
        """The camera's time zone (this machine's zone when ``timezone`` is not set)."""
        return timeutil.zone(self.timezone)

    def day_format(self, default_layout: Layout = "day_folders") -> str:
        """The strftime of the folder a frame goes in under ``output_dir`` ('' for none): the
        camera's ``layout``, else ``default_layout`` (the config's), picks flat or per day."""
        return "" if (self.layout or default_layout) == "flat" else self.day_folder

    def resize_box(self) -> tuple[int, int] | None:
        """The box frames are fitted into keeping their aspect, or ``None`` when not resizing.

        As in pyLapse 0.2, a missing width or height defaults to 1920 or 1080.
        """
        if not self.resize:
            return None
        return (
            self.resize_width or LEGACY_RESIZE_BOX[0],
            self.resize_height or LEGACY_RESIZE_BOX[1],
        )
