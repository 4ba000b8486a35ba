"""The concat list: which frames go into a video, in which order, and how many times each.

A video's frames are listed one ``file`` line per output frame for ffmpeg's concat demuxer, so a
frame shown longer, or a gap filled with the previous frame, is the same line repeated and the
output frame count is exactly the number of lines. Pure apart from reading a folder and, for
undated names, EXIF or mtime.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from pylapse import naming, storage, timeutil

__all__ = [
    "FolderFiles",
    "ListEntry",
    "NoFramesError",
    "TimedPath",
    "concat_list",
    "folder_frames",
    "list_frame_files",
    "natural_key",
    "order_paths",
    "plan_frames",
]


class NoFramesError(ValueError):
    """Nothing to render."""


@dataclass(frozen=True)
class ListEntry:
    path: str
    repeats: int
    utc: float | None = None
    offset: int | None = None
    luma: float | None = None  # the index's mean luma of the frame (deflicker), when known


def _time_of(item: Any) -> tuple[float | None, int | None]:
    utc = getattr(item, "utc", None)
    if utc is not None:
        return float(utc), getattr(item, "offset", None)
    when = getattr(item, "time", None)
    if isinstance(when, datetime) and when.tzinfo is not None:
        return when.timestamp(), timeutil.offset_seconds(when)
    return None, None


def _luma_of(item: Any) -> float | None:
    luma = getattr(item, "luma", None)
    return float(luma) if isinstance(luma, int | float) else None


def plan_frames(
    frames: Iterable[Any], fps: float | None = None, fill_gaps: bool = False
) -> list[ListEntry]:
    """Turn ``frames`` into list entries with repeat counts (one output frame per repeat).

    ``frames`` may be a pylapse ``Selection`` (its gap-filled runs when ``fill_gaps``). Items: a
    pylapse ``Frame`` (anything with ``.path`` and ``.utc``/``.time``), a path, a
    ``(path, seconds)`` pair (needs ``fps``), or ``None`` for an empty selection slot (the
    previous frame is repeated when ``fill_gaps``, else the slot is skipped). When every item
    carries a time and there are no slots, frames are put in time order (stable); otherwise the
    given order is kept.
    """
    runs = getattr(frames, "with_gaps_filled", None)
    if fill_gaps and callable(runs):  # a pylapse Selection: (frame, targets it stands for) runs
        return [ListEntry(os.fspath(f.path), n, *_time_of(f), _luma_of(f))
                for f, n in runs() if n > 0]  # fmt: skip
    iter_frames = getattr(frames, "iter_frames", None)
    items = list(iter_frames() if callable(iter_frames) else frames)
    timed = [_time_of(i) if i is not None else (None, None) for i in items]
    if items and all(t[0] is not None for t in timed):
        order = sorted(range(len(items)), key=lambda k: timed[k][0] or 0.0)
        items, timed = [items[k] for k in order], [timed[k] for k in order]
    entries: list[ListEntry] = []
    clock, emitted = 0.0, 0  # seconds listed so far, frames emitted so far (for durations)
    for item, (utc, offset) in zip(items, timed, strict=True):
        repeats = 1
        if item is None:
            if fill_gaps and entries:
                last = entries[-1]
                entries[-1] = replace(last, repeats=last.repeats + 1)
                emitted += 1
                clock = emitted / fps if fps else clock
            continue
        if isinstance(item, tuple):
            item, seconds = item
            if fps is None:
                raise ValueError("per-frame durations need a fixed fps (not a target duration)")
            if not (isinstance(seconds, int | float) and seconds >= 0):
                raise ValueError(f"frame duration {seconds!r} for {item} must be seconds >= 0")
            clock += seconds
            repeats = round(clock * fps) - emitted  # cumulative, so rounding never drifts
        else:
            clock += 1 / fps if fps else 0.0
        emitted += repeats
        if repeats > 0:
            path = os.fspath(getattr(item, "path", item))
            entries.append(ListEntry(path, repeats, utc, offset, _luma_of(item)))
    return entries


def concat_list(entries: Iterable[ListEntry]) -> str:
    """The concat-demuxer list: one ``file`` line per output frame, paths absolute and quoted."""
    lines = ["ffconcat version 1.0"]
    for entry in entries:
        if "\n" in entry.path or "\r" in entry.path:
            raise ValueError(f"frame path {entry.path!r} contains a line break; rename the file")
        quoted = "file '" + os.path.abspath(entry.path).replace("'", "'\\''") + "'"
        lines.extend([quoted] * entry.repeats)
    return "\n".join(lines) + "\n"


def _file_time(path: str, tz: tzinfo) -> tuple[float, int]:
    """EXIF, else mtime: for the few undated names in an otherwise dated folder."""
    try:
        when = naming.frame_time(path, tz).time
    except ImportError:  # EXIF support not installed: mtime
        when = naming.frame_time(path, tz, use_exif=False).time
    return when.timestamp(), timeutil.offset_seconds(when)


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[Any, ...]:
    """``img2`` before ``img10``: digit runs compare as numbers (case-insensitive)."""
    return tuple(int(p) if p.isdigit() else p.lower() for p in _DIGITS.split(name))


def order_paths(
    paths: Iterable[str | os.PathLike[str]], tz: tzinfo | None = None
) -> list[TimedPath]:
    """Files in time order, ties by name; with their times.

    Times come from the names; a name without one takes its EXIF time, else its mtime. When no
    name carries a time at all (``0001.jpg``, an export's numbering) the files are put in natural
    name order instead and carry no time: numbering is the order their writer meant, while mtimes
    of a parallel export are not.
    """
    tz = tz or timeutil.zone(None)
    files = [os.fspath(p) for p in paths]
    times = [naming.parse_name_utc(os.path.basename(f), tz) for f in files]
    if files and all(t is None for t in times):
        # by the whole path: numbered frames of several day folders go day by day
        files.sort(key=natural_key)
        return [TimedPath(f, None, None) for f in files]
    timed = []
    for path, found in zip(files, times, strict=True):
        utc, offset = found if found is not None else _file_time(path, tz)
        timed.append((utc, os.path.basename(path), path, offset))
    timed.sort()
    return [TimedPath(path, utc, offset) for utc, _, path, offset in timed]


@dataclass(frozen=True, slots=True)
class FolderFiles:
    """The frame files of a folder: directly in it (pyLapse 0.2's flat layout) and in its day
    folders (``<folder>/<YYYY-MM-DD>/``, today's layout), each list in listing order."""

    folder: Path
    pattern: str
    loose: list[str]
    in_days: list[str]
    day_folders: list[str]  # names of the day folders that hold matching files, sorted

    @property
    def all(self) -> list[str]:
        return self.loose + self.in_days

    @property
    def mixed(self) -> bool:
        """Frames both directly in the folder and in day folders (a 0.2 folder captured on)."""
        return bool(self.loose and self.in_days)

    def ordered(self, tz: tzinfo | None) -> list[TimedPath]:
        """Every file, in time order (:func:`order_paths`); :class:`NoFramesError` if none."""
        if not self.all:
            raise NoFramesError(
                f"no files matching {self.pattern!r} in {self.folder} or in day folders under it "
                "(YYYY-MM-DD)"
            )
        return order_paths(self.all, tz)

    def describe(self) -> str:
        """Where the frames are, e.g. for a note before rendering a mixed folder."""
        days = self.day_folders
        span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
        return (
            f"{self.folder} holds {len(self.loose)} frame(s) directly in it and "
            f"{len(self.in_days)} in {len(days)} day folder(s) ({span})"
        )


def list_frame_files(input_dir: str | os.PathLike[str], pattern: str) -> FolderFiles:
    """The files matching ``pattern`` (case-insensitive) in ``input_dir`` and in its day
    folders (subfolders named like ``2026-02-09``); other subfolders (``rejected``, exports)
    and hidden entries are not read."""
    folder = Path(input_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"input folder {folder} does not exist")
    lowered = pattern.lower()
    days: list[str] = []
    loose = _matching(folder, lowered, days)
    in_days: list[str] = []
    found_days = []
    for day in sorted(days):
        files = _matching(folder / day, lowered, None)
        if files:
            in_days.extend(files)
            found_days.append(day)
    return FolderFiles(folder, pattern, loose, in_days, found_days)


def _matching(folder: Path, lowered: str, days: list[str] | None) -> list[str]:
    """Paths of the files in ``folder`` whose lower-cased name matches ``lowered``; the names of
    its day folders go into ``days`` when given."""
    found = []
    with os.scandir(folder) as it:  # scandir + fnmatch: fast on network shares too
        for entry in it:
            if entry.name.startswith("."):
                continue
            if entry.is_file():
                if fnmatch.fnmatchcase(entry.name.lower(), lowered):
                    found.append(entry.path)
            elif days is not None and storage.is_day_folder_name(entry.name) and entry.is_dir():
                days.append(entry.name)
    return found


def folder_frames(
    input_dir: str | os.PathLike[str], pattern: str, tz: tzinfo | None
) -> list[TimedPath]:
    """The files in ``input_dir`` and its day folders matching ``pattern`` (case-insensitive),
    all of them, in time order (see :func:`list_frame_files` and :func:`order_paths`)."""
    return list_frame_files(input_dir, pattern).ordered(tz)


@dataclass(frozen=True, slots=True)
class TimedPath:
    """A file and its time, shaped like an index ``Frame`` for :func:`plan_frames`."""

    path: str  # a str, not a Path: a folder can hold millions of frames
    utc: float | None  # None: the folder's names carry no times (natural name order)
    offset: int | None

    @property
    def time(self) -> datetime | None:
        return None if self.utc is None else timeutil.from_utc(self.utc, self.offset or 0)
