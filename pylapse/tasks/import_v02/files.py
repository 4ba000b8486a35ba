"""Finding and reading pyLapse 0.2's ``collections.json`` and ``history.json``; a file that cannot
be read raises :class:`ImportV02Error` naming the file and the problem."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pylapse.tasks.import_v02.report import ImportV02Error

COLLECTIONS_FILE = "collections.json"
HISTORY_FILE = "history.json"


@dataclass(frozen=True, slots=True)
class V02Files:
    folder: Path  # relative paths in the files are relative to it (0.2 ran from there)
    collections: Path | None
    history: Path | None

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.collections, self.history) if p is not None]


def find_v02_files(path: str | os.PathLike[str]) -> V02Files:
    """The 0.2 files at ``path``: a folder holding ``collections.json`` and/or ``history.json``,
    or one of the two files (told apart by name, else by content)."""
    path = Path(os.path.expanduser(os.fspath(path))).absolute()
    if path.is_dir():
        found = [path / COLLECTIONS_FILE, path / HISTORY_FILE]
        coll, hist = (p if p.is_file() else None for p in found)
        if coll is None and hist is None:
            raise ImportV02Error(f"{path}: holds neither {COLLECTIONS_FILE} nor {HISTORY_FILE}")
        return V02Files(path, coll, hist)
    if not path.is_file():
        raise ImportV02Error(f"{path}: no such file or folder")
    if path.name == HISTORY_FILE or (path.name != COLLECTIONS_FILE and _looks_like_history(path)):
        return V02Files(path.parent, None, path)
    return V02Files(path.parent, path, None)


def _looks_like_history(path: Path) -> bool:
    try:
        data = _read_json(path)
    except ImportV02Error:
        return False  # read again as collections, which names the problem
    return isinstance(data, dict) and any(
        isinstance(data.get(k), list) for k in ("exports", "videos")
    )


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportV02Error(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ImportV02Error(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportV02Error(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise ImportV02Error(f"{path}: nested too deeply to be a pyLapse 0.2 file") from None


def read_collections(path: Path) -> dict[str, Any]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ImportV02Error(
            f"{path}: the top level must be an object of collections keyed by id, "
            f"not {kind_of(data)}"
        )
    return data


def read_history(path: Path) -> dict[str, list[Any]]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ImportV02Error(
            f'{path}: the top level must be an object with "exports" and "videos" lists, not '
            f"{kind_of(data)}"
        )
    for key in ("exports", "videos"):
        if not isinstance(data.get(key, []), list):
            raise ImportV02Error(f"{path}: {key!r} must be a list, not {kind_of(data[key])}")
    return {"exports": data.get("exports", []), "videos": data.get("videos", [])}


def kind_of(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "text"}
    return names.get(type(value)) or repr(value)
