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
from datetime import datetime, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from pylapse import db, naming, storage, timeutil
from pylapse.config.base import (
    _check_zone,
    _Model,
)
from pylapse.config.cameras import CameraConfig, Layout, MetricsRegion
from pylapse.config.capture import CaptureSettings
from pylapse.config.jobs import JobsConfig
from pylapse.config.notifications import NotificationConfig
from pylapse.config.presets import ExportPreset
from pylapse.config.render_schedules import RenderScheduleConfig
from pylapse.redact import mask_url

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "DEFAULT_IGNORE",
    "CollectionConfig",
    "Config",
    "InvalidCamera",
    "WebSettings",
]

DEFAULT_CONFIG_NAME = "capture_config.json"
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

    def resolved_preset(self, preset_id: str, preset: ExportPreset | None = None) -> ExportPreset:
        """The export preset ``preset_id`` (``preset``: its settings when they are not saved
        yet) with its file paths (output folder, watermark, a font given as a file) made
        absolute against the config file's folder, as every other path in the config is;
        without an output folder of its own it gets its default one (:meth:`export_folder`
        without the ``subdir``), as the dashboard and CLI run it."""
        preset = preset or self.exports[preset_id]
        update: dict[str, str] = {}
        base = self.export_folder(preset_id, preset.model_copy(update={"subdir": None}))
        if not preset.output_dir and base is not None:
            update["output_dir"] = str(base)
        for name in ("output_dir", "watermark_image"):
            value = getattr(preset, name, None)
            if value:
                update[name] = str(self.resolve(value))
        font = getattr(preset, "font", None)
        if font and ("/" in font or font.lower().endswith((".ttf", ".otf", ".ttc"))):
            update["font"] = str(self.resolve(font))
        return preset.model_copy(update=update) if update else preset

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
