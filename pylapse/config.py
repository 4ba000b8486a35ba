"""The models of ``capture_config.json``: load with clear errors, save atomically.

One file drives the web app and headless capture alike. The original pyLapse 0.2 format (cameras
keyed by id with ``name``, ``url``, ``output_dir``, ``prefix`` and cron ``schedules``, plus
top-level ``ffmpeg_path``, ``max_retries``, ``retry_delay``) loads unchanged and means the same.

Keys starting with ``_`` (``"_comment": "..."``) are comments: accepted anywhere, ignored by the
models, and written back where they were when the file is saved.

Relative paths in the file are relative to the folder the file is in.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from pylapse import naming, storage, timeutil

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "CameraConfig",
    "CollectionConfig",
    "Config",
    "ConfigError",
    "ExportPreset",
    "Schedule",
    "WebSettings",
    "load_config",
    "save_config",
]

DEFAULT_CONFIG_NAME = "capture_config.json"
SOURCE_TYPES = ("http", "mjpeg", "rtsp", "picamera", "gphoto2", "synthetic")
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
CronValue = int | str | None


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, field and the fix."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)


def _check_zone(value: str | None) -> str | None:
    if value:
        timeutil.zone(value)  # raises ZoneError with the accepted form
    return value


class Schedule(_Model):
    """When a camera captures: cron fields, or an interval anchored at ``start_date``."""

    id: str = Field(min_length=1, description="name of this schedule, unique within the camera")
    enabled: bool = Field(True, description="a disabled schedule keeps its settings, never fires")
    type: Literal["cron", "interval"] = Field("cron", description="'cron' or 'interval'")
    year: CronValue = Field(None, description="cron year field, e.g. 2026 or '2026-2027'")
    month: CronValue = Field(None, description="cron month field, 1-12")
    day: CronValue = Field(None, description="cron day-of-month field, 1-31 or 'last'")
    week: CronValue = Field(None, description="cron ISO week field, 1-53")
    day_of_week: CronValue = Field(None, description="cron weekday field, 0-6 or mon-sun")
    hour: CronValue = Field(None, description="cron hour field, 0-23, e.g. '6-20' or '*/2'")
    minute: CronValue = Field(None, description="cron minute field, 0-59, e.g. '*/15'")
    second: CronValue = Field(None, description="cron second field, 0-59")
    interval_amount: int | None = Field(None, gt=0, description="interval length")
    interval_unit: Literal["seconds", "minutes", "hours", "days", "weeks"] = Field(
        "minutes", description="unit of interval_amount"
    )
    start_date: datetime | None = Field(
        None, description="interval anchor (camera time zone when no offset is given)"
    )

    @model_validator(mode="after")
    def _check_kind(self) -> Schedule:
        if self.type == "interval":
            if self.interval_amount is None:
                raise ValueError("an interval schedule needs 'interval_amount' (a number > 0)")
        else:
            if all(getattr(self, f) is None for f in CRON_FIELDS):
                raise ValueError("a cron schedule needs at least one of " + ", ".join(CRON_FIELDS))
            from apscheduler.triggers.cron import CronTrigger  # validates each field's syntax

            try:
                CronTrigger(**self.cron_fields(), timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"invalid cron expression: {exc}") from None
        return self

    def cron_fields(self) -> dict[str, int | str]:
        return {f: getattr(self, f) for f in CRON_FIELDS if getattr(self, f) is not None}


class CameraConfig(_Model):
    """One camera: where frames come from, where they go, and when."""

    name: str = Field(min_length=1, description="display name")
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
    day_folder: str = Field(
        storage.DEFAULT_DAY_FORMAT, description="strftime of the per-day subfolder; '' for none"
    )
    prefix: str = Field("", description="text at the start of every file name")
    filename_format: str = Field(naming.DEFAULT_FORMAT, description="file name template")
    ext: Literal["jpg", "jpeg", "png"] = Field("jpg", description="file extension")
    quality: int | None = Field(None, ge=1, le=100, description="re-encode JPEG at this quality")
    resize: bool = Field(False, description="resize frames at capture")
    resize_width: int | None = Field(None, gt=0, description="resize width in pixels")
    resize_height: int | None = Field(None, gt=0, description="resize height in pixels")
    timezone: str | None = Field(None, description="IANA zone of the camera; default: local")
    latitude: float | None = Field(None, ge=-90, le=90, description="for sun position")
    longitude: float | None = Field(None, ge=-180, le=180, description="for sun position")
    schedules: list[Schedule] = Field(default_factory=list, description="when to capture")

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @field_validator("filename_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        return naming.validate_template(value)

    @model_validator(mode="after")
    def _check_source(self) -> CameraConfig:
        if self.type in ("http", "mjpeg", "rtsp") and not self.url:
            raise ValueError(f"a camera of type {self.type!r} needs a 'url'")
        if (
            self.url
            and self.type in ("http", "mjpeg")
            and not re.match(r"^https?://", self.url, re.I)
        ):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        if self.url and self.type == "rtsp" and not re.match(r"^rtsps?://", self.url, re.I):
            raise ValueError(f"url {self.url!r} must start with rtsp:// or rtsps://")
        if self.resize and not (self.resize_width or self.resize_height):
            raise ValueError("'resize' is on but neither resize_width nor resize_height is set")
        ids = [s.id for s in self.schedules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"schedule ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def zone(self) -> tzinfo:
        return timeutil.zone(self.timezone)


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
    extensions: list[str] = Field(
        default_factory=lambda: [".jpg", ".jpeg", ".png"], description="file types indexed"
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @field_validator("filename_pattern")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value:
            naming.compile_user_pattern(value)
        return value

    def zone(self) -> tzinfo:
        return timeutil.zone(self.timezone)


class ExportPreset(_Model):
    """A saved export: which frames of which collection, processed how, written where."""

    collection: str | None = Field(None, description="id of the collection to export")
    subdir: str | None = Field(None, description="subfolder of the export folder")
    output_dir: str | None = Field(None, description="where exported frames go")
    prefix: str = Field("", description="output file name prefix")
    year: CronValue = None
    month: CronValue = None
    day: CronValue = None
    week: CronValue = None
    day_of_week: CronValue = None
    hour: CronValue = None
    minute: CronValue = None
    second: CronValue = None


class WebSettings(_Model):
    host: str = Field("127.0.0.1", description="address the dashboard binds to")
    port: int = Field(8000, ge=1, le=65535, description="dashboard port")
    password_hash: str | None = Field(None, description="set with `pylapse set-password`")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="extra Host header names accepted (besides localhost)"
    )


class Config(_Model):
    """The whole file."""

    cameras: dict[str, CameraConfig] = Field(default_factory=dict)
    collections: dict[str, CollectionConfig] = Field(default_factory=dict)
    exports: dict[str, ExportPreset] = Field(default_factory=dict)
    data_dir: str = Field("data", description="folder of pylapse.db, the lock and job history")
    storage_roots: list[str] = Field(
        default_factory=lambda: ["timelapse"],
        description="the only folders the web app may read or write",
    )
    ffmpeg_path: str | None = Field(None, description="ffmpeg to use instead of the bundled one")
    max_retries: int = Field(3, ge=0, le=20, description="retries of a failed capture")
    retry_delay: float = Field(5.0, ge=0, description="seconds before the first retry (doubles)")
    min_free_mb: int = Field(500, ge=0, description="capture pauses below this free space")
    web: WebSettings = Field(default_factory=WebSettings)

    _source: Path | None = PrivateAttr(None)
    _comments: dict[tuple, dict[str, Any]] = PrivateAttr(default_factory=dict)

    @property
    def source(self) -> Path | None:
        """The file this config was loaded from (relative paths are relative to its folder)."""
        return self._source

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
    def root_paths(self) -> list[Path]:
        return [self.resolve(r) for r in self.storage_roots]


# --- loading --------------------------------------------------------------------------------


def _strip_comments(value: Any, path: tuple = ()) -> tuple[Any, dict[tuple, dict[str, Any]]]:
    """Remove ``_``-prefixed keys, returning them by the path of the object they were in."""
    found: dict[tuple, dict[str, Any]] = {}
    if isinstance(value, dict):
        clean = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("_"):
                found.setdefault(path, {})[key] = item
                continue
            clean[key], inner = _strip_comments(item, (*path, key))
            found.update(inner)
        return clean, found
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            cleaned, inner = _strip_comments(item, (*path, i))
            out.append(cleaned)
            found.update(inner)
        return out, found
    return value, found


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that a validation error location points into (for did-you-mean)."""
    model: type[BaseModel] | None = Config
    i = 0
    while model is not None and i < len(loc) - 1:
        field = model.model_fields.get(str(loc[i]))
        if field is None:
            return None
        ann = field.annotation
        origin = getattr(ann, "__origin__", None)
        if origin in (dict, list):
            inner = ann.__args__[-1]
            i += 2
            model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
        else:
            return None
    return model


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = ".".join(str(p) for p in loc) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        key = str(loc[-1])
        known = list(model.model_fields) if model else []
        hint = difflib.get_close_matches(key, known, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"{where}: unknown key {key!r}{suggestion}"
    message = error["msg"]
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    if kind == "literal_error" or kind.endswith("_type") or kind == "missing":
        got = error.get("input")
        if kind == "missing":
            return f"{where}: is required"
        return f"{where}: {got!r} is not accepted ({message})"
    return f"{where}: {message}"


def parse_config(raw: Any, source: str | os.PathLike[str] | None = None) -> Config:
    """Validate already-parsed JSON; ``source`` names the file in errors."""
    name = os.fspath(source) if source else "config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: the top level must be a JSON object {{...}}")
    clean, comments = _strip_comments(raw)
    try:
        config = Config.model_validate(clean)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        raise ConfigError(f"{name}: " + f"\n{name}: ".join(problems), problems) from None
    config._source = Path(source).resolve() if source else None
    config._comments = comments
    return config


def load_config(path: str | os.PathLike[str]) -> Config:
    """Load and validate ``path``; every problem is a :class:`ConfigError` naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (copy capture_config.example.json to start)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    return parse_config(raw, path)


def _restore_comments(data: Any, comments: dict[tuple, dict[str, Any]], path: tuple = ()) -> Any:
    if isinstance(data, dict):
        out = dict(comments.get(path, {}))
        for key, item in data.items():
            out[key] = _restore_comments(item, comments, (*path, key))
        return out
    if isinstance(data, list):
        return [_restore_comments(item, comments, (*path, i)) for i, item in enumerate(data)]
    return data


def to_json(config: Config) -> str:
    data = config.model_dump(mode="json", exclude_unset=True)
    for key in ("cameras", "collections", "exports"):
        data.setdefault(key, {})
    data = _restore_comments(data, config._comments)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def save_config(config: Config, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``config`` atomically, keeping the previous file as ``<name>.bak``."""
    target = Path(path) if path else config.source
    if target is None:
        raise ConfigError("save_config: no path given and the config was not loaded from a file")
    text = to_json(config)
    parse_config(json.loads(text), target)  # never write what we could not load back
    if target.exists():
        shutil.copy2(target, target.with_name(target.name + ".bak"))
    storage.atomic_write(target, text.encode("utf-8"))
    config._source = target.resolve()
    return target
