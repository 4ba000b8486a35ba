"""The plan of an import: 0.2's collections, their exports and its history mapped onto today's
collections, export presets and finished jobs, each decision a report item."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pylapse import timeutil
from pylapse.tasks.import_v02.files import V02Files, kind_of
from pylapse.tasks.import_v02.report import Outcome, ReportItem

if TYPE_CHECKING:
    from pylapse.config.models import CollectionConfig, Config
    from pylapse.config.presets import ExportPreset

IMPORTED_FROM = "pyLapse 0.2"  # params["imported_from"] of every job this import adds

# what 0.2's export form and runner used when a setting was missing
_V02_TIMESTAMP_FORMAT = "%Y-%m-%d %I:%M:%S %p"
_V02_SCHEDULE = {"hour": "*", "minute": "*", "second": "0"}
HISTORY_KEPT = 1000  # JobRunner's max_history: the finished jobs it keeps
_ASSUMED_HEIGHT = 1080  # 0.2 sized the timestamp in pixels; ours is a share of the frame height


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "imported"


def _text(value: Any, default: str = "") -> str:
    return value.strip() if isinstance(value, str) else default


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


@dataclass
class JobRow:
    kind: str
    title: str
    params: dict[str, Any]
    result: dict[str, Any]
    when: float
    total: int = 0
    item: int = -1  # its place in the report, where its job id goes


class Planner:
    """Works out what to add to ``config`` and the job history, and the report; writes nothing."""

    def __init__(self, config: Config, files: V02Files, known_jobs: set[tuple[str, str]]) -> None:
        self.config = config
        self.folder = files.folder
        self.known_jobs = known_jobs
        self.collections: dict[str, CollectionConfig] = {}
        self.presets: dict[str, ExportPreset] = {}
        self.jobs: list[JobRow] = []
        self.items: list[ReportItem] = []

    def _add(
        self, what: str, name: str, outcome: Outcome, target: str = "", note: str = "", **kw: str
    ) -> None:
        self.items.append(ReportItem(what, name, outcome, target, note, **kw))

    # paths -------------------------------------------------------------------------------------
    def _path(self, raw: str) -> Path:
        """A path from the 0.2 files, absolute (relative ones were relative to 0.2's folder)."""
        p = Path(os.path.expanduser(raw))
        return Path(os.path.normpath(p if p.is_absolute() else self.folder / p))

    def _stored(self, path: Path) -> str:
        """``path`` as the config holds it: relative to the config's folder when inside it."""
        try:
            return str(path.relative_to(self.config.base_dir.resolve()))
        except ValueError:
            return str(path)

    def _all_collections(self) -> dict[str, CollectionConfig]:
        return {**self.config.all_collections(), **self.collections}

    def _collection_at(self, path: Path) -> str | None:
        target = path.resolve()
        for cid, coll in self._all_collections().items():
            if self.config.resolve(coll.path).resolve() == target:
                return cid
        return None

    def _free(self, base: str, taken: Iterable[str]) -> tuple[str, int]:
        used = set(taken)
        if base not in used:
            return base, 1
        n = 2
        while f"{base}-{n}" in used:
            n += 1
        return f"{base}-{n}", n

    # collections -------------------------------------------------------------------------------
    def add_collections(self, data: dict[str, Any]) -> None:
        for v02_id, entry in data.items():
            if not isinstance(entry, dict):
                self._add(
                    "collection",
                    str(v02_id),
                    Outcome.SKIPPED,
                    note=f"is {kind_of(entry)}, not an object",
                )
                continue
            target = self._add_collection(str(v02_id), entry)
            exports = entry.get("exports", {})
            if not isinstance(exports, dict):
                self._add(
                    "export preset",
                    f"{v02_id}/exports",
                    Outcome.SKIPPED,
                    note=f"is {kind_of(exports)}, not an object",
                )
                continue
            for exp_id, exp in exports.items():
                self._add_presets(target, str(exp_id), exp)

    def _add_collection(self, v02_id: str, entry: dict[str, Any]) -> str | None:
        from pylapse.config.models import CollectionConfig

        name = _text(entry.get("name")) or v02_id
        raw = _text(entry.get("path"))
        if not raw:
            self._add(
                "collection",
                name,
                Outcome.SKIPPED,
                note='has no "path" (the folder of its frames)',
                origin=v02_id,
            )
            return None
        path = self._path(raw)
        existing = self._collection_at(path)
        if existing is not None:
            other = self._all_collections()[existing].name
            note = "the same folder" + (f", named {other!r} here" if other != name else "")
            self._add("collection", name, Outcome.PRESENT, existing, note, origin=v02_id)
            return existing
        notes: list[str] = [] if path.is_dir() else [f"{path} is not a folder here (yet)"]
        values: dict[str, Any] = {"path": self._stored(path)}
        zone = _text(entry.get("timezone"))
        if zone:
            try:
                timeutil.zone(zone)
                values["timezone"] = zone
            except ValueError:
                notes.append(f"time zone {zone!r} is not an IANA zone: left unset (local time)")
        source = _text(entry.get("date_source"), "filename")
        if source in ("filename", "exif", "mtime", "created", "auto"):
            values["date_source"] = source
        else:
            notes.append(f"date source {source!r} is unknown: read as auto")
        ext = _text(entry.get("ext")).lstrip(".").lower()
        if ext:
            values["extensions"] = [ext]  # 0.2 read only files with this extension
        taken_names = {c.name.casefold(): cid for cid, c in self._all_collections().items()}
        taken_ids = {*self._all_collections(), *self.config.cameras}
        cid = base = _slug(name)
        clash = taken_names.get(name.casefold())
        if clash is not None or base in taken_ids:
            n = 2
            while f"{base}-{n}" in taken_ids or f"{name} {n}".casefold() in taken_names:
                n += 1
            notes.insert(
                0, f"the name is taken by {clash or base!r} (another folder): named {name} {n}"
            )
            cid, values["name"] = f"{base}-{n}", f"{name} {n}"
        try:
            self.collections[cid] = CollectionConfig(**{"name": name, **values})
        except ValidationError as exc:
            self._add("collection", name, Outcome.SKIPPED, note=_first_error(exc), origin=v02_id)
            return None
        self._add("collection", name, Outcome.ADDED, cid, "; ".join(notes), origin=v02_id)
        return cid

    # export presets ----------------------------------------------------------------------------
    def _add_presets(self, collection: str | None, exp_id: str, exp: Any) -> None:
        if not isinstance(exp, dict):
            self._add(
                "export preset",
                exp_id,
                Outcome.SKIPPED,
                note=f"is {kind_of(exp)}, not an object",
                origin=exp_id,
            )
            return
        name = _text(exp.get("name")) or exp_id
        if collection is None:
            self._add(
                "export preset",
                name,
                Outcome.SKIPPED,
                note="its collection was not imported",
                origin=exp_id,
            )
            return
        input_dir = _text(exp.get("input_dir"))
        if input_dir:
            source = self._collection_at(self._path(input_dir))
            if source is None:
                self._add(
                    "export preset",
                    name,
                    Outcome.SKIPPED,
                    note=(
                        f"it read {self._path(input_dir)}, which is not the folder of any "
                        "collection; import that folder first (pylapse import)"
                    ),
                    origin=exp_id,
                )
                return
            collection = source
        schedules = _schedules(exp)
        if not schedules:
            self._add(
                "export preset",
                name,
                Outcome.SKIPPED,
                note="every schedule of it is disabled",
                origin=exp_id,
            )
            return
        try:
            base, notes = self._preset_values(exp, collection)
        except ValueError as exc:
            self._add("export preset", name, Outcome.SKIPPED, note=str(exc), origin=exp_id)
            return
        split = len(schedules) > 1
        if split:
            notes.insert(
                0,
                f"its {len(schedules)} schedules are not one cron rule: one preset "
                "each, writing into subfolders 1, 2, ...",
            )
        for i, cron in enumerate(schedules, 1):
            values = {**base, **cron, **({"subdir": str(i)} if split else {})}
            label = f"{name} #{i}" if split else name
            self._add_preset(label, _slug(label), values, notes, exp_id)

    def _preset_values(
        self, exp: dict[str, Any], collection: str
    ) -> tuple[dict[str, Any], list[str]]:
        """Today's preset settings for 0.2's export settings, and notes on what changed."""
        notes: list[str] = []
        values: dict[str, Any] = {"collection": collection, "prefix": _text(exp.get("prefix"))}
        out = _text(exp.get("output_dir"))
        if out:
            values["output_dir"] = self._stored(self._path(out))
        ext = _text(exp.get("video_pattern"), "*.jpg").lstrip("*.").lower()
        ext = "jpg" if ext == "jpeg" else ext
        if ext not in ("jpg", "png", "webp"):
            notes.append(f"output type {ext!r} is not jpg, png or webp: writes jpg")
            ext = "jpg"
        values["ext"] = ext
        values["quality"] = min(100, max(1, _int(exp, "quality", 50)))
        values["optimize"] = bool(exp.get("optimize", False))
        height = None
        if exp.get("resize", False):
            height = _int(exp, "resolution_h", 1080)
            values.update(
                width=_int(exp, "resolution_w", 1920),
                height=height,
                resize_mode="fit" if exp.get("keep_aspect", True) else "exact",
            )
        for ours, theirs in (("date_from", "date_from"), ("date_to", "date_to")):
            if _text(exp.get(theirs)):
                values[ours] = _text(exp.get(theirs))
        zone = _text(exp.get("display_tz"))
        if zone:
            try:
                timeutil.zone(zone)
                values["display_timezone"] = zone
            except ValueError:
                notes.append(f"display zone {zone!r} is not an IANA zone: frames' own clocks")
        if exp.get("drawtimestamp", False):
            values.update(self._stamp_values(exp, height, notes))
        if exp.get("create_video"):
            notes.append(
                "0.2 made a video after each run: tick 'Create a video after the export' "
                "when running it"
            )
        return values, notes

    def _stamp_values(
        self, exp: dict[str, Any], height: int | None, notes: list[str]
    ) -> dict[str, Any]:
        """0.2's timestamp: plain text at (x, y) pixels from the top left, sized in pixels."""
        px = float(_int(exp, "timestampfontsize", 36))
        size = min(0.5, max(0.005, px / (height or _ASSUMED_HEIGHT)))
        if height is None:
            notes.append(
                f"the {px:g} px timestamp is sized for {_ASSUMED_HEIGHT} px high frames "
                f"({size:.1%} of the height)"
            )
        rgb = [min(255, max(0, _int(exp, k, 255))) for k in ("ts_r", "ts_g", "ts_b")]
        values: dict[str, Any] = {
            "drawtimestamp": True,
            "timestamp_format": _text(exp.get("timestampformat")) or _V02_TIMESTAMP_FORMAT,
            "font_size": round(size, 4),
            "font_color": "#{:02x}{:02x}{:02x}".format(*rgb),
            "backdrop": "none",
            "anchor": "top-left",
            "offset_x": _int(exp, "ts_x", 0),
            "offset_y": _int(exp, "ts_y", 0),
            "margin": 0,
        }
        font = _text(exp.get("timestampfont"))
        if font:
            from pylapse.imaging.fonts import FontError, font_path

            try:
                font_path(font)
                values["font"] = font
            except FontError as exc:
                notes.append(f"{exc}: the built-in font is used")
        return values

    def _add_preset(
        self, name: str, base_id: str, values: dict[str, Any], notes: list[str], origin: str
    ) -> None:
        from pylapse.config.presets import ExportPreset

        try:
            preset = ExportPreset(**values)
            _check_cron(values)
        except ValidationError as exc:
            self._add("export preset", name, Outcome.SKIPPED, note=_first_error(exc), origin=origin)
            return
        except ValueError as exc:
            self._add("export preset", name, Outcome.SKIPPED, note=str(exc), origin=origin)
            return
        presets = {**self.config.exports, **self.presets}
        for pid, other in presets.items():
            if other == preset:
                self._add("export preset", name, Outcome.PRESENT, pid, origin=origin)
                return
        pid, n = self._free(base_id, presets)
        mine = list(notes)
        if n > 1:
            mine.insert(0, f"preset {base_id!r} exists with other settings")
        folder = self.config.export_folder(pid, preset)
        users = [
            u
            for u, p in presets.items()
            if folder is not None and self.config.export_folder(u, p) == folder
        ]
        if users:
            mine.append(
                f"it writes to the folder of preset {users[0]!r}: running one replaces "
                "the other's frames"
            )
        self.presets[pid] = preset
        self._add("export preset", name, Outcome.ADDED, pid, "; ".join(mine), origin=origin)

    # history -----------------------------------------------------------------------------------
    def add_history(self, history: dict[str, list[Any]]) -> None:
        entries = [("export run", e) for e in history["exports"]]
        entries += [("video", e) for e in history["videos"]]
        rows: list[tuple[float, JobRow]] = []
        for what, entry in entries:
            if not isinstance(entry, dict):
                self._add(what, "?", Outcome.SKIPPED, note=f"is {kind_of(entry)}, not an object")
                continue
            row = self._history_row(what, entry, history["exports"])
            if row is not None:
                rows.append((row.when, row))
        # oldest first, so the newest 0.2 entry gets the highest job id (the history's order)
        ordered = [row for _, row in sorted(rows, key=lambda r: r[0])]
        # the job runner keeps its newest HISTORY_KEPT jobs: older ones would be pruned at the
        # next start and added again by the next import
        for row in ordered[:-HISTORY_KEPT]:
            note = f"older than the {HISTORY_KEPT} newest entries the job history keeps"
            self.items[row.item] = replace(self.items[row.item], outcome=Outcome.SKIPPED, note=note)
        self.jobs = ordered[-HISTORY_KEPT:]

    def _history_row(self, what: str, entry: dict[str, Any], exports: list[Any]) -> JobRow | None:
        v02_id = _text(entry.get("id")) or _content_id(entry)
        kind = "export" if what == "export run" else "render"
        name = _text(entry.get("name")) or v02_id
        if (kind, v02_id) in self.known_jobs:
            self._add(what, name, Outcome.PRESENT, note="in the job history", origin=v02_id)
            return None
        self.known_jobs.add((kind, v02_id))  # the same entry twice in the file is one job
        when, note = _when(entry.get("created_at"))
        params: dict[str, Any] = {"imported_from": IMPORTED_FROM, "v02_id": v02_id}
        input_dir = _text(entry.get("input_dir"))
        if kind == "export":
            out = _text(entry.get("output_dir"))
            count = _count(entry.get("image_count"))
            params.update(input_dir=input_dir, output_dir=out)
            if input_dir and (cid := self._collection_at(self._path(input_dir))):
                params["collection"] = cid
            result = {"output_dir": out, "written": count, "imported_from": IMPORTED_FROM}
            row = JobRow(kind, f"Export {name}", params, result, when, count)
        else:
            output = _text(entry.get("output_path"))
            if not output:
                self._add(what, name, Outcome.SKIPPED, note='has no "output_path"', origin=v02_id)
                return None
            codec = _text(entry.get("codec"), "libx264")
            params.update(source="folder", folder=input_dir, output=output, codec=codec)
            result = {"output": output, "codec": codec, "imported_from": IMPORTED_FROM}
            if isinstance(entry.get("fps"), int | float):
                result["fps"] = entry["fps"]
            size = _count(entry.get("file_size"))
            if size:  # 0.2 wrote 0 when it could not stat the file
                result["bytes"] = size
            frames = _frames_of(input_dir, exports)
            if frames is not None:
                result["frames"] = frames
            row = JobRow(kind, f"Render {name}", params, result, when, frames or 0)
        row.item = len(self.items)
        self._add(what, name, Outcome.ADDED, note=note, origin=v02_id)
        return row


def _schedules(exp: dict[str, Any]) -> list[dict[str, str]]:
    """The cron fields of 0.2's enabled schedules, merged into one rule when they differ in one
    field only (hour 6 and hour 18 at minute 0 is hour "6,18"), else one rule each."""
    listed = exp.get("schedules")
    if not isinstance(listed, list) or not listed:
        listed = [{k: exp.get(k, v) for k, v in _V02_SCHEDULE.items()}]  # 0.2's flat fields
    rules: list[dict[str, str]] = []
    for sched in listed:
        if not isinstance(sched, dict) or sched.get("enabled", True) in (False, "false"):
            continue
        rule = {k: str(sched.get(k, v)).strip() or v for k, v in _V02_SCHEDULE.items()}
        if rule not in rules:
            rules.append(rule)
    if len(rules) > 1:
        differing = [k for k in _V02_SCHEDULE if len({r[k] for r in rules}) > 1]
        if len(differing) == 1:
            key = differing[0]
            merged = dict(rules[0])
            merged[key] = ",".join(dict.fromkeys(r[key] for r in rules))
            return [merged]
    return rules


def _check_cron(values: dict[str, Any]) -> None:
    from apscheduler.triggers.cron import CronTrigger

    fields = {k: values[k] for k in _V02_SCHEDULE if values.get(k) not in (None, "")}
    try:
        CronTrigger(**fields, timezone=UTC)
    except ValueError as exc:
        raise ValueError(f"its schedule {fields} is not a valid cron rule: {exc}") from None


def _when(value: Any) -> tuple[float, str]:
    """0.2's ``created_at`` (a local time without offset) as a UNIX time, and a note when it
    had to be replaced by now."""
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return timeutil.now().timestamp(), "no valid created_at: dated now"
    return stamp.astimezone().timestamp(), ""  # a naive time is this machine's, as 0.2 wrote it


def _content_id(entry: dict[str, Any]) -> str:
    """An id for an entry 0.2 saved without one: the same entry always gets the same id."""
    text = json.dumps(entry, sort_keys=True, default=str)
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _int(entry: dict[str, Any], key: str, default: int) -> int:
    value = entry.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} {value!r} is not a whole number") from None


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and value >= 0 else 0


def _frames_of(folder: str, exports: list[Any]) -> int | None:
    """The frames 0.2 exported into ``folder`` (its video's input) by the newest such export."""
    for entry in exports:  # 0.2 kept them newest first
        if isinstance(entry, dict) and folder and _text(entry.get("output_dir")) == folder:
            return _count(entry.get("image_count"))
    return None
