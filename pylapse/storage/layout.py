"""Where frames live: day folders, the extensions a collection indexes, what a scan ignores."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

DEFAULT_DAY_FORMAT = "%Y-%m-%d"


def day_folder(
    output_dir: str | os.PathLike[str], when: datetime, day_format: str = DEFAULT_DAY_FORMAT
) -> Path:
    """The folder a frame taken at ``when`` (aware, camera zone) goes in."""
    if when.tzinfo is None:
        raise ValueError("day_folder needs an aware datetime")
    sub = when.strftime(day_format) if day_format else ""
    if sub and (sub.startswith(("/", "\\")) or ".." in Path(sub).parts):
        raise ValueError(f"day folder format {day_format!r} must stay inside the output folder")
    return Path(output_dir) / sub if sub else Path(output_dir)


DEFAULT_IGNORE = ("rejected/",)  # what a scan leaves out unless a collection says otherwise
# What a collection indexes unless it says otherwise: phones write HEIC and cameras DNG beside
# JPEG, and leaving them out by default dropped those frames with nothing said.
FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".dng")
# Files that make a folder pyLapse's own output, never frames: an export's manifest and the
# journal of an export being swapped in (the names pylapse.export.staging writes).
OUTPUT_MARKERS = (".pylapse-export.json", ".pylapse-export.swap.json")


# A folder named like a day (2026-02-09, 2026_02_09, 20260209): where capture puts a day's frames.
_DAY_NAME = re.compile(r"\d{4}([-_.]?)\d{2}\1\d{2}")


def is_day_folder_name(name: str) -> bool:
    """Whether ``name`` looks like a day folder's (``2026-02-09``, ``2026_02_09``, ``20260209``)."""
    return _DAY_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """What a scan of a frame folder leaves out, from a collection's ``ignore`` patterns.

    Each pattern is a glob (``*``, ``?``, ``[...]``), matched without regard to case. A pattern
    ending in ``/`` matches folders only (``"rejected/"``), any other matches folders and files;
    a pattern with a ``/`` inside (``"2026-02-09/bad"``) matches the path from the collection's
    folder, any other matches a name at any depth. Hidden entries (a name starting with ``.``)
    are always left out, whatever the patterns say.
    """

    patterns: tuple[str, ...] = ()
    _folder_names: re.Pattern[str] | None = None
    _folder_paths: re.Pattern[str] | None = None
    _file_names: re.Pattern[str] | None = None
    _file_paths: re.Pattern[str] | None = None

    @classmethod
    def of(cls, patterns: Iterable[str]) -> IgnoreRules:
        """Rules from ``patterns`` (refused with ``ValueError`` by :func:`check_ignore`)."""
        clean = tuple(check_ignore(list(patterns)))
        groups: dict[tuple[bool, bool], list[str]] = {}
        for pattern in clean:
            folders_only = pattern.endswith("/")
            body = pattern.rstrip("/")
            by_path = "/" in body
            regex = fnmatch.translate(body.lower())
            groups.setdefault((True, by_path), []).append(regex)
            if not folders_only:
                groups.setdefault((False, by_path), []).append(regex)

        def compiled(folder: bool, by_path: bool) -> re.Pattern[str] | None:
            found = groups.get((folder, by_path))
            return re.compile("|".join(f"(?:{r})" for r in found)) if found else None

        return cls(
            clean, compiled(True, False), compiled(True, True), compiled(False, False),
            compiled(False, True),
        )  # fmt: skip

    @property
    def has_file_rules(self) -> bool:
        """Whether any pattern can match a file (scans then check each file's name)."""
        return self._file_names is not None or self._file_paths is not None

    def folder(self, relative: str) -> bool:
        """Whether the folder at ``relative`` (``/``-separated, from the collection's folder) is
        left out with everything under it."""
        name = relative.rsplit("/", 1)[-1]
        return name.startswith(".") or _hit(self._folder_names, name, self._folder_paths, relative)

    def file(self, folder: str, name: str) -> bool:
        """Whether the file ``name`` in the folder at ``folder`` (relative, ``""`` for the
        collection's own folder) is left out."""
        relative = f"{folder}/{name}" if folder else name
        return name.startswith(".") or _hit(self._file_names, name, self._file_paths, relative)


def _hit(
    names: re.Pattern[str] | None, name: str, paths: re.Pattern[str] | None, relative: str
) -> bool:
    return bool(
        (names is not None and names.match(name.lower()))
        or (paths is not None and paths.match(relative.lower()))
    )


def check_ignore(patterns: list[str]) -> list[str]:
    """``patterns`` stripped, or ``ValueError`` naming a pattern that could never match."""
    out = []
    for raw in patterns:
        pattern = raw.strip().replace("\\", "/")
        if not pattern.rstrip("/"):
            raise ValueError(f"{raw!r} is not a pattern; give a folder name such as 'rejected/'")
        if pattern.startswith("/") or ".." in pattern.split("/") or "\x00" in pattern:
            raise ValueError(
                f"{raw!r} must be relative to the collection's folder, without '..' "
                "(e.g. 'rejected/' or '2026-02-09/bad/')"
            )
        out.append(pattern)
    return out
