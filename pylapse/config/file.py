"""Reading and writing ``capture_config.json``: clear errors, comments kept, atomic saves.

The models are in :mod:`pylapse.config`, which re-exports :func:`load_config`,
:func:`save_config` and :func:`parse_config` from here. The messages come from
:mod:`pylapse.config.messages`, the backups a save keeps from :mod:`pylapse.config.backups`.

Every problem is a :class:`~pylapse.config.ConfigError` whose lines each start with the file's
path, then the field's path and what is accepted, e.g.
``capture_config.json: cameras.porch.timezone: 'Mars/Base' is not an IANA time zone``.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from pylapse import storage
from pylapse.config.backups import write_backup
from pylapse.config.base import ConfigConflict, ConfigError
from pylapse.config.messages import describe_error
from pylapse.config.models import Config, InvalidCamera

__all__ = [
    "MAX_DEPTH",
    "FileStamp",
    "check_depth",
    "load_config",
    "loads_config",
    "parse_config",
    "read_config_file",
    "save_config",
    "to_json",
]


MAX_DEPTH = 64  # objects and lists inside each other; a config needs 6, a camera 4


def check_depth(value: Any, what: str, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit`` (``ValueError`` naming ``what``).

    Reading, comparing, copying and saving a config all walk it recursively, so a structure
    that ``json.loads`` still accepted (up to ~1000 levels) would fail later with a
    ``RecursionError`` anywhere. Walks without recursion, once, when the JSON comes in.
    """
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise ValueError(
                f"{what}: nested more than {limit} levels deep (objects and lists inside each "
                "other); a config file needs fewer than 10"
            )
        todo.extend((child, depth + 1) for child in children)


# a place in the JSON document: the keys and list indices from the top level down
_JsonPath = tuple[str | int, ...]
# "_" comments by the path of the object they were in: (their key, their value, the key that
# followed them or None at the end)
_Comments = dict[_JsonPath, list[tuple[str, Any, str | None]]]


def _strip_comments(value: Any, path: _JsonPath = ()) -> tuple[Any, _Comments]:
    """Remove ``_``-prefixed keys, returning them by the path of the object they were in.

    Each comment remembers the key that followed it, so saving puts it back in place.
    """
    found: _Comments = {}
    if isinstance(value, dict):
        clean: dict[Any, Any] = {}
        waiting: list[tuple[str, Any]] = []
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("_"):
                waiting.append((key, item))
                continue
            for comment_key, comment in waiting:
                found.setdefault(path, []).append((comment_key, comment, key))
            waiting = []
            clean[key], inner = _strip_comments(item, (*path, key))
            found.update(inner)
        for comment_key, comment in waiting:
            found.setdefault(path, []).append((comment_key, comment, None))
        return clean, found
    if isinstance(value, list):
        out = []
        for i, item in enumerate(value):
            cleaned, inner = _strip_comments(item, (*path, i))
            out.append(cleaned)
            found.update(inner)
        return out, found
    return value, found


def _upgrade_legacy(raw: dict[str, Any]) -> list[str]:
    """Fill in what pyLapse 0.2 left implicit; returns notes on anything it had to reinterpret."""
    notes: list[str] = []
    cameras = raw.get("cameras")
    if not isinstance(cameras, dict):
        return notes
    for camera_id, camera in cameras.items():
        if not isinstance(camera, dict):
            continue
        if "name" not in camera:
            camera["name"] = camera_id  # 0.2 showed the id
        schedules = camera.get("schedules")
        if not isinstance(schedules, list):
            continue
        for i, schedule in enumerate(schedules):
            if not isinstance(schedule, dict):
                continue
            if "id" not in schedule:
                schedule["id"] = f"schedule_{i}"  # 0.2's name for an unnamed schedule
            hour = schedule.get("hour")
            if isinstance(hour, str) and re.search(r"-24\b", hour):
                fixed = re.sub(r"-24\b", "-23", hour)
                schedule["hour"] = fixed
                notes.append(
                    f"cameras.{camera_id}.schedules.{i}.hour: {hour!r} read as {fixed!r} "
                    "(hours run 0-23)"
                )
    return notes


def _set_aside_cameras(raw: dict[str, Any], clean: dict[str, Any]) -> dict[str, InvalidCamera]:
    """Take the camera entries that do not validate out of ``clean`` (the file without its
    comments), returning each with its problems and its text as in ``raw`` (the file as read).

    One camera with a typo must not stop the others from capturing, as in pyLapse 0.2 (which
    skipped a camera it could not use); the entry is kept to be reported and saved back.
    """
    cameras = clean.get("cameras")
    originals = raw.get("cameras")
    if not isinstance(cameras, dict) or not isinstance(originals, dict):
        return {}  # not an object at all: the whole file's error
    invalid: dict[str, InvalidCamera] = {}
    for position, (camera_id, entry) in enumerate(list(cameras.items())):
        try:  # through Config, so the id is checked too and errors carry cameras.<id>
            Config.model_validate({"cameras": {camera_id: entry}})
        except ValidationError as exc:
            problems = tuple(describe_error(e) for e in exc.errors())
            raw_entry = copy.deepcopy(originals[camera_id])
            invalid[camera_id] = InvalidCamera(raw_entry, problems, position)
            del cameras[camera_id]
    return invalid


def _put_back(cameras: dict[str, Any], invalid: dict[str, InvalidCamera]) -> dict[str, Any]:
    """The cameras object to write: the valid ``cameras`` (as JSON) with each set-aside entry
    unchanged at its old place (:func:`save_config` refuses a valid camera of the same id)."""
    items = list(cameras.items())
    for camera_id, entry in sorted(invalid.items(), key=lambda item: item[1].position):
        if camera_id not in cameras:
            items.insert(min(entry.position, len(items)), (camera_id, copy.deepcopy(entry.raw)))
    return dict(items)


def _cross_check(config: Config) -> list[str]:
    """Problems between sections: references to cameras and collections that do not exist
    (a camera set aside as invalid still exists: its collections are not errors too)."""
    problems = []
    cameras = list(config.cameras)
    for key, collection in config.collections.items():
        if collection.camera in config._invalid_cameras:
            continue
        if collection.camera and collection.camera not in config.cameras:
            hint = difflib.get_close_matches(collection.camera, cameras, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            known = ", ".join(cameras) or "none"
            problems.append(
                f"collections.{key}.camera: no camera {collection.camera!r}{extra} "
                f"(cameras: {known})"
            )
        elif key in config.cameras and collection.camera != key:
            problems.append(
                f"collections.{key}: the id {key!r} is camera {key!r}'s own collection; "
                f'pick another id or set "camera": {key!r}'
            )
    names = config.all_collections()
    for key, preset in config.exports.items():
        target = getattr(preset, "collection", None)
        if target and target not in names:
            hint = difflib.get_close_matches(target, list(names), n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(f"exports.{key}.collection: no collection {target!r}{extra}")
    return problems


def parse_config(raw: Any, source: str | os.PathLike[str] | None = None) -> Config:
    """Validate already-parsed JSON; ``source`` names the file in errors."""
    name = os.fspath(source) if source else "config"
    if not isinstance(raw, dict):
        kind = type(raw).__name__ if raw is not None else "null"
        raise ConfigError(f"{name}: the top level must be a JSON object {{...}}, not {kind}")
    try:
        check_depth(raw, name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    clean, comments = _strip_comments(raw)
    notes = _upgrade_legacy(clean)
    invalid = _set_aside_cameras(raw, clean)
    try:
        config = Config.model_validate(clean)
    except ValidationError as exc:
        problems = [describe_error(e) for e in exc.errors()]
        problems += [p for entry in invalid.values() for p in entry.problems]  # all at once
        raise ConfigError(f"{name}: " + f"\n{name}: ".join(problems), problems) from None
    config._invalid_cameras = invalid
    problems = _cross_check(config)
    if problems:
        raise ConfigError(f"{name}: " + f"\n{name}: ".join(problems), problems)
    config._source = Path(source).resolve() if source else None
    # a set-aside entry keeps its own "_" comments in its raw text
    config._comments = {
        path: found
        for path, found in comments.items()
        if not (len(path) >= 2 and path[0] == "cameras" and path[1] in invalid)
    }
    config._warnings = notes
    return config


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _DuplicateKey(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FileStamp:
    """Who the file on disk is right now: a hand edit, an editor's atomic replace or a ``touch``
    changes at least one of these (the content digest then tells a real change from a touch)."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileStamp | None:
        """The stamp of ``path`` (through symlinks), or None when there is no such file."""
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    @property
    def modified(self) -> datetime:
        """When the file was last written, in this machine's zone."""
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC).astimezone()


def read_config_file(path: str | os.PathLike[str]) -> tuple[str, FileStamp | None]:
    """The text of ``path`` and its stamp, taken before reading (a write during the read then
    shows as a change at the next check); every problem is a :class:`ConfigError`."""
    path = Path(path)
    stamp = FileStamp.of(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (copy capture_config.example.json to start)"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return text, stamp


def loads_config(text: str, path: str | os.PathLike[str]) -> Config:
    """Parse and validate the text of the config file ``path`` (named in every error)."""
    path = Path(path)
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file") from None
    except _DuplicateKey as exc:
        raise ConfigError(
            f"{path}: key {exc.args[0]!r} appears twice in one object; "
            "JSON would silently keep only the last"
        ) from None
    return parse_config(raw, path)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Load and validate ``path``; every problem is a :class:`ConfigError` naming the file."""
    text, stamp = read_config_file(path)
    config = loads_config(text, path)
    config._stamp = stamp
    return config


def _restore_comments(data: Any, comments: _Comments, path: _JsonPath = ()) -> Any:
    if isinstance(data, dict):
        anchored: dict[str | None, list[tuple[str, Any]]] = {}
        for comment_key, comment, before in comments.get(path, []):
            anchored.setdefault(before if before in data else None, []).append(
                (comment_key, comment)
            )
        out: dict[str, Any] = {}
        for key, item in data.items():
            out.update(anchored.pop(key, []))
            out[key] = _restore_comments(item, comments, (*path, key))
        out.update(anchored.pop(None, []))
        return out
    if isinstance(data, list):
        return [_restore_comments(item, comments, (*path, i)) for i, item in enumerate(data)]
    return data


def _dump(model: BaseModel) -> dict[str, Any]:
    """The fields of ``model`` that were set (read from the file or assigned since), as JSON.

    Nested models and dicts/lists of models are walked, so a value assigned deep inside
    (``config.web.password_hash = ...``) is written even if its section was not in the file.
    """
    full = model.model_dump(mode="json")
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        item = getattr(model, name)
        if isinstance(item, BaseModel):
            sub = _dump(item)
            if sub or name in model.model_fields_set:
                out[name] = sub
        elif isinstance(item, dict) and any(isinstance(v, BaseModel) for v in item.values()):
            out[name] = {k: _dump(v) if isinstance(v, BaseModel) else v for k, v in item.items()}
        elif isinstance(item, list) and any(isinstance(v, BaseModel) for v in item):
            out[name] = [_dump(v) if isinstance(v, BaseModel) else v for v in item]
        elif name in model.model_fields_set:
            out[name] = full[name]
    return out


def to_json(config: Config) -> str:
    """The file text for ``config``: the keys that were set, with the comments in place and
    every camera entry set aside as invalid written back as it was, where it was."""
    data = _dump(config)
    if config._invalid_cameras:
        data["cameras"] = _put_back(data.get("cameras", {}), config._invalid_cameras)
    data = _restore_comments(data, config._comments)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _check_loads_back(text: str, target: Path, config: Config) -> None:
    """Never write what could not be loaded back: a file error, or a camera that was valid in
    ``config`` but would be set aside (only entries that were already invalid may stay so)."""
    taken = sorted(set(config.cameras) & set(config._invalid_cameras))
    if taken:  # e.g. a camera added in the dashboard under the id of a broken entry
        raise ConfigError("\n".join(
            f"{target}: cameras.{camera_id}: the file holds an invalid entry with this id; fix "
            "or remove it in the file first (pyLapse never overwrites it)"
            for camera_id in taken
        ))  # fmt: skip
    loaded = parse_config(json.loads(text), target)
    problems = [
        problem
        for camera_id, entry in loaded.invalid_cameras.items()
        if camera_id not in config._invalid_cameras
        for problem in entry.problems
    ]
    if problems:
        raise ConfigError(f"{target}: " + f"\n{target}: ".join(problems), problems)


def save_config(
    config: Config,
    path: str | os.PathLike[str] | None = None,
    *,
    expect: FileStamp | Literal["any"] | None = "any",
) -> Path:
    """Write ``config`` atomically, keeping the previous file as a timestamped backup.

    The text is validated by loading it back before anything is written, so a save never
    leaves a file that cannot be loaded; a crash leaves the old file or the new one, never half.
    A symlinked config stays a link (the file it points at is written); the file keeps its mode
    and owner (a new file is 0600: it may hold camera passwords). With ``expect`` (the stamp
    the caller loaded, None for "no file") the save is refused with :class:`ConfigConflict`
    when the file changed since.
    """
    target = Path(path) if path else config.source
    if target is None:
        raise ConfigError("save_config: no path given and the config was not loaded from a file")
    text = to_json(config)
    _check_loads_back(text, target, config)
    real = Path(os.path.realpath(target))
    if expect != "any" and FileStamp.of(real) != expect:
        changed = FileStamp.of(real)
        when = f" at {changed.modified:%H:%M}" if changed else ""
        raise ConfigConflict(
            f"{target}: not saved: the config file changed on disk{when}; reload the page to see it"
        )
    mode, owner = 0o600, None
    try:
        st = os.stat(real)
        previous: bytes | None = real.read_bytes()
    except FileNotFoundError:
        previous = None
    else:
        mode, owner = stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid)
    if previous is not None:
        write_backup(real, previous)
    storage.atomic_write(real, text.encode("utf-8"), mode=mode, owner=owner)
    config._source = target.resolve()
    config._stamp = FileStamp.of(real)
    return target
