"""The models of ``capture_config.json``: load with clear errors, save atomically.

One file drives the web app and headless capture alike. The original pyLapse 0.2 format (cameras
keyed by id with ``name``, ``url``, ``output_dir``, ``prefix`` and cron ``schedules``, plus
top-level ``ffmpeg_path``, ``max_retries``, ``retry_delay``) loads unchanged and means the same:
a camera without ``name`` is named after its id, a schedule without ``id`` is ``schedule_<n>``,
``resize`` without a size fits frames into 1920x1080, empty strings in schedule fields mean
"not set", and an hour range written up to 24 (``"21-24,0-5"``, which 0.2's scheduler refused)
is read up to 23, with a note in :attr:`Config.warnings`.

Keys starting with ``_`` (``"_comment": "..."``) are comments: accepted anywhere, ignored by the
models, and written back where they were when the file is saved.

Relative paths in the file are relative to the folder the file is in.

Every problem is a :class:`ConfigError` whose lines each start with the file's path, then the
field's path and what is accepted, e.g.
``capture_config.json: cameras.porch.timezone: 'Mars/Base' is not an IANA time zone``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pylapse import db, naming, storage, timeutil
from pylapse.config.base import (
    CRON_FIELDS,
    CronValue,
    _check_zone,
    _Model,
)
from pylapse.config.capture import CaptureSettings, check_host_name
from pylapse.config.jobs import JobsConfig
from pylapse.config.notifications import NotificationConfig
from pylapse.config.presets import ExportPreset
from pylapse.config.render_schedules import RenderScheduleConfig
from pylapse.config.retention import RetentionConfig
from pylapse.redact import mask_url

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "DEFAULT_IGNORE",
    "LAYOUTS",
    "CameraConfig",
    "CollectionConfig",
    "Config",
    "InvalidCamera",
    "MetricsRegion",
    "Schedule",
    "WebSettings",
]

DEFAULT_CONFIG_NAME = "capture_config.json"
SOURCE_TYPES = ("http", "mjpeg", "rtsp", "picamera", "gphoto2", "synthetic")
LEGACY_RESIZE_BOX = (1920, 1080)  # pyLapse 0.2's size when "resize" is on without a size
Layout = Literal["flat", "day_folders"]
LAYOUTS: tuple[Layout, ...] = ("flat", "day_folders")
DEFAULT_IGNORE = storage.DEFAULT_IGNORE  # what a scan leaves out of a collection's folder
# Every key pyLapse 0.2 read or its dashboard wrote: a file holding nothing else is a 0.2 file
# and keeps 0.2's meaning (frames flat in output_dir) until it names a layout.
_V02_TOP_KEYS = frozenset({"cameras", "ffmpeg_path", "max_retries", "retry_delay"})
_V02_CAMERA_KEYS = frozenset({
    "name", "description", "url", "output_dir", "prefix", "enabled", "schedules",
    "filename_format", "ext", "quality", "resize", "resize_width", "resize_height", "timezone",
})  # fmt: skip
LEGACY_LAYOUT_NOTE = (
    "layout: not set and every key is one pyLapse 0.2 knew, so frames are saved flat in the "
    'output_dir of each camera as 0.2 saved them; add "layout": "day_folders" for a folder per day'
)


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
        default_factory=lambda: list(DEFAULT_IGNORE),
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


def _wall_clock(entry: int, key: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise ValueError(
            f"zones[{entry}].{key}: {text!r} is not a date or date and time (2024-05-01 or "
            "2024-05-01T14:00)"
        ) from None
    if when.tzinfo is not None:
        raise ValueError(f"zones[{entry}].{key}: {text!r} has an offset; give the wall clock")
    return when


def _check_timeline(spans: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
    """Each span: "timezone" (an IANA zone or "inferred"), optional "from"/"to" wall clocks
    (to exclusive), from before to, no two spans overlapping."""
    bounds = []
    for i, span in enumerate(spans):
        unknown = set(span) - {"from", "to", "timezone"}
        if unknown:
            raise ValueError(f"zones[{i}]: unknown key(s) {', '.join(sorted(unknown))}")
        zone = span.get("timezone")
        if not zone:
            raise ValueError(f"zones[{i}]: give a timezone (an IANA zone or 'inferred')")
        if zone != "inferred":
            _check_zone(zone)
        start, end = _wall_clock(i, "from", span.get("from")), _wall_clock(i, "to", span.get("to"))
        if start is not None and end is not None and start >= end:
            raise ValueError(f"zones[{i}]: from {start} is not before to {end}")
        # naive on purpose: spans are wall clocks, compared with wall clocks
        bounds.append((start or datetime.min, end or datetime.max, i))  # noqa: DTZ901
    bounds.sort()
    for (_, end, i), (start, _, j) in pairwise(bounds):
        if start < end:
            raise ValueError(f"zones[{i}] and zones[{j}] overlap")
    return spans


class CollectionConfig(_Model):
    """A named set of frames in a folder tree (a camera's output or any imported folder)."""

    name: str = Field(min_length=1, description="display name")
    path: str = Field(min_length=1, description="folder holding the frames")
    timezone: str | None = Field(None, description="IANA zone of names without an offset")
    date_source: Literal["auto", "filename", "exif", "mtime"] = Field(
        "auto", description="auto = name, then EXIF, then mtime"
    )
    filename_pattern: str | None = Field(
        None, description="regex with named groups year month day hour minute [second ampm offset]"
    )
    camera: str | None = Field(None, description="id of the camera that fills this collection")
    latitude: float | None = Field(
        None, ge=-90, le=90, description="for sun selections; default: the camera's"
    )
    longitude: float | None = Field(
        None, ge=-180, le=180, description="for sun selections; default: the camera's"
    )
    extensions: list[str] = Field(
        default_factory=lambda: list(storage.FRAME_EXTENSIONS), description="file types indexed"
    )
    ignore: list[str] = Field(
        default_factory=lambda: list(DEFAULT_IGNORE),
        description="folders (and files) under path the index leaves out",
    )
    zones: list[dict[str, str | None]] = Field(
        default_factory=list,
        description='zone timeline: [{"from": ..., "to": ..., "timezone": ...}], wall clocks; '
        'frames without offset evidence taken in a span are in its zone ("inferred": the last '
        "proven offset carries forward)",
    )
    metrics_region: MetricsRegion | None = Field(
        None,
        description="band of rows the sky metrics measure (default: the whole frame; a "
        "collection filled by a camera takes the camera's)",
    )

    @field_validator("timezone", mode="before")
    @classmethod
    def _check_timezone(cls, value: Any) -> Any:
        return _check_zone(value) if isinstance(value, str) else value

    @field_validator("zones")
    @classmethod
    def _check_zones(cls, value: list[dict[str, str | None]]) -> list[dict[str, str | None]]:
        return _check_timeline(value)

    @field_validator("ignore")
    @classmethod
    def _check_ignore(cls, value: list[str]) -> list[str]:
        return storage.check_ignore(value)

    @field_validator("date_source", mode="before")
    @classmethod
    def _legacy_source(cls, value: Any) -> Any:
        return "mtime" if value == "created" else value  # 0.2 called file times "created"

    @field_validator("filename_pattern")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value:
            naming.compile_user_pattern(value)
        return value or None

    @field_validator("extensions")
    @classmethod
    def _normalise_extensions(cls, value: list[str]) -> list[str]:
        return ["." + e.strip().lstrip(".").lower() for e in value if e.strip().lstrip(".")]

    def zone(self) -> tzinfo:
        """The zone of names without an offset (this machine's zone when not set)."""
        return timeutil.zone(self.timezone)


class WebSettings(_Model):
    host: str = Field("127.0.0.1", description="address the dashboard binds to")
    port: int = Field(8000, ge=1, le=65535, description="dashboard port")
    password_hash: str | None = Field(None, description="set with `pylapse set-password`")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="extra Host header names accepted (besides localhost)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="reverse proxies (IP addresses or networks) whose X-Forwarded-For and "
        "X-Forwarded-Proto headers are believed",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network; use e.g. '127.0.0.1', '::1' or "
                    "'10.0.0.0/8'"
                ) from None
        return [entry.strip() for entry in value]


def _is_v02(data: dict[str, Any]) -> bool:
    """Whether raw config data is a pyLapse 0.2 file: at least one camera, no layout anywhere,
    and only keys 0.2 knew (cameras may already be models, when built in code)."""
    cameras = data.get("cameras")
    if not isinstance(cameras, dict) or not cameras or not set(data) <= _V02_TOP_KEYS:
        return False
    for camera in cameras.values():
        keys = camera.model_fields_set if isinstance(camera, CameraConfig) else camera
        if not isinstance(keys, dict | set) or not set(keys) <= _V02_CAMERA_KEYS:
            return False
    return True


_ID = re.compile(r"^[^/\\\x00-\x1f]+$")


@dataclass(frozen=True, slots=True)
class InvalidCamera:
    """A camera entry of the file that does not validate: set aside so the others still load
    (as pyLapse 0.2 skipped a camera it could not use), reported, and written back unchanged."""

    raw: Any  # the entry exactly as the file had it, "_" comments included
    problems: tuple[str, ...]  # each "cameras.<id>.<field>: what is wrong" (no file name)
    position: int  # its place among the file's cameras, so a save puts it back there

    @property
    def message(self) -> str:
        return "; ".join(self.problems)


class Config(_Model):
    """The whole file.

    Edit a loaded config by assignment or ``model_copy(update=...)``: both keep the comments
    and the source path that :func:`save_config` writes back.
    """

    cameras: dict[str, CameraConfig] = Field(
        default_factory=dict, description="cameras keyed by id"
    )
    collections: dict[str, CollectionConfig] = Field(
        default_factory=dict, description="extra collections keyed by id"
    )
    exports: dict[str, ExportPreset] = Field(
        default_factory=dict, description="saved export presets keyed by id"
    )
    data_dir: str = Field("data", description="folder of pylapse.db, the lock and job history")
    index_url: str | None = Field(
        None,
        description="the frame index's database: none for pylapse.db in data_dir (SQLite), or "
        "postgresql://user:password@host:5432/dbname (PostgreSQL, the 'postgresql' extra)",
    )
    storage_roots: list[str] = Field(
        default_factory=lambda: ["timelapse"],
        description="the only folders the web app may read or write",
    )
    ffmpeg_path: str | None = Field(None, description="ffmpeg to use instead of the bundled one")
    max_retries: int = Field(2, ge=0, le=20, description="retries of a failed capture")
    retry_delay: float = Field(5.0, ge=0, description="seconds before the first retry (doubles)")
    min_free_mb: int = Field(500, ge=0, description="capture pauses below this free space")
    layout: Layout = Field(
        "day_folders",
        description="'day_folders' (<output_dir>/<day>/<name>) or 'flat' (<output_dir>/<name>, "
        "pyLapse 0.2's layout) for cameras without a layout of their own; a 0.2 file reads 'flat'",
    )
    web: WebSettings = Field(default_factory=WebSettings, description="dashboard settings")
    jobs: JobsConfig = Field(
        default_factory=JobsConfig, description="where jobs run: in process, or Celery workers"
    )
    capture: CaptureSettings = Field(
        default_factory=CaptureSettings, description="capture hosts: this host's name, leases"
    )
    notifications: dict[str, NotificationConfig] = Field(
        default_factory=dict, description="notification rules keyed by id"
    )
    render_schedules: dict[str, RenderScheduleConfig] = Field(
        default_factory=dict, description="videos made by themselves at set times, keyed by id"
    )

    _source: Path | None = PrivateAttr(None)
    # the file's "_" comments by the path of the object they were in (see config.file)
    _comments: dict[tuple[str | int, ...], list[tuple[str, Any, str | None]]] = PrivateAttr(
        default_factory=dict
    )
    _warnings: list[str] = PrivateAttr(default_factory=list)
    # config.file's FileStamp of the file as loaded or saved (Any: config.file imports this module,
    # and tests/test_layering.py counts imports for type checking too)
    _stamp: Any = PrivateAttr(None)
    # loaded from a pyLapse 0.2 file without a layout: read as "flat", said in warnings
    _layout_from_v02: bool = PrivateAttr(False)
    # camera entries that did not validate, by id (config.file sets them aside and saves them)
    _invalid_cameras: dict[str, InvalidCamera] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _v02_layout(cls, data: Any, handler: Any) -> Any:
        """A 0.2 file saved frames flat in ``output_dir``: it keeps doing so until it names a
        layout. ``layout`` is then set as if it were in the file, so the first save writes it and
        keys added later (a password, a new camera) never flip where frames go."""
        legacy = isinstance(data, dict) and _is_v02(data)
        if legacy:
            data = {**data, "layout": "flat"}
        config = handler(data)
        if legacy and isinstance(config, Config):
            config._layout_from_v02 = True
        return config

    @field_validator("index_url")
    @classmethod
    def _check_index_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if db.backend_of(value) is not db.Backend.POSTGRESQL:
            raise ValueError(
                f"{mask_url(value)!r} is not a PostgreSQL URL: use "
                "postgresql://user:password@host:5432/dbname, or leave index_url out for "
                "pylapse.db in data_dir"
            )
        return value

    @field_validator("cameras", "collections", "exports", "notifications", "render_schedules")
    @classmethod
    def _check_ids(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not _ID.match(key) or key.strip() != key or key in (".", ".."):
                raise ValueError(
                    f"id {key!r} is not accepted: ids are used in folder names and URLs, so "
                    "no '/', '\\', control characters or surrounding spaces"
                )
        return value

    @property
    def source(self) -> Path | None:
        """The file this config was loaded from (relative paths are relative to its folder)."""
        return self._source

    @property
    def warnings(self) -> list[str]:
        """What loading changed to read an old file (e.g. an hour range up to 24)."""
        notes = list(self._warnings)
        if self._layout_from_v02:
            notes.append(LEGACY_LAYOUT_NOTE)
        return notes

    @property
    def invalid_cameras(self) -> dict[str, InvalidCamera]:
        """Camera entries of the file that did not validate, by id: not captured and not shown
        as cameras until fixed, but kept in the file (a save writes them back unchanged)."""
        return dict(self._invalid_cameras)

    @property
    def base_dir(self) -> Path:
        return self._source.parent if self._source else Path.cwd()

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """A path from the file, made absolute against the config's folder."""
        p = Path(os.path.expanduser(os.fspath(path)))
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)

    @property
    def index_location(self) -> str | Path:
        """Where the frame index lives: ``index_url`` (PostgreSQL) when set, else the SQLite
        file in the data folder. What :class:`~pylapse.index.FrameIndex` is opened with."""
        return self.index_url or self.data_path / db.DB_NAME

    @property
    def root_paths(self) -> list[Path]:
        return [self.resolve(r) for r in self.storage_roots]

    def export_folder(self, preset_id: str, preset: ExportPreset | None = None) -> Path | None:
        """Where the export preset ``preset_id`` writes (``preset``: its settings when they are
        not saved yet): its ``output_dir`` (by default a folder of its own,
        ``<first storage root>/exports/<preset id>``) plus its ``subdir``.

        Each preset has its own default folder, so running one never replaces another's
        output. None when the preset names no folder and there is no storage root."""
        preset = preset or self.exports[preset_id]
        if preset.output_dir:
            base = self.resolve(preset.output_dir)
        elif self.root_paths:
            base = self.root_paths[0] / "exports" / preset_id
        else:
            return None
        return base / preset.subdir if preset.subdir else base

    @property
    def videos_folder(self) -> Path | None:
        """Where the dashboard's videos go: ``videos`` in the first storage root (None when
        there is no storage root)."""
        return self.root_paths[0] / "videos" if self.root_paths else None

    def export_folder_users(self, folder: Path, *, other_than: str = "") -> list[str]:
        """The presets (other than ``other_than``) that write to ``folder`` (symlinks
        resolved): two presets in one folder would replace each other's output."""
        target = folder.resolve()
        found = []
        for preset_id in self.exports:
            mine = self.export_folder(preset_id) if preset_id != other_than else None
            if mine is not None and mine.resolve() == target:
                found.append(preset_id)
        return found

    def camera_layout(self, camera_id: str) -> Layout:
        """Where camera ``camera_id`` puts frames: its own ``layout``, else the config's."""
        return self.cameras[camera_id].layout or self.layout

    def camera_collection(self, camera_id: str) -> CollectionConfig:
        """The implicit collection of a camera's frames (its output folder, zone, id and
        ignore list)."""
        camera = self.cameras[camera_id]
        return CollectionConfig(
            name=camera.name,
            path=camera.output_dir,
            timezone=camera.timezone,
            camera=camera_id,
            ignore=camera.ignore,
        )

    def all_collections(self) -> dict[str, CollectionConfig]:
        """The configured collections plus one per camera that no collection already covers.

        A camera's implicit collection has the camera's id, so its frames are indexed under it.
        """
        found = dict(self.collections)
        covered = {c.camera for c in self.collections.values() if c.camera}
        for camera_id in self.cameras:
            if camera_id not in covered and camera_id not in found:
                found[camera_id] = self.camera_collection(camera_id)
        return found
