"""Emptying a camera's trash: a run's folder is deleted once its grace period is over.

A run's age comes from its id (the UTC second it started), never from file times, so the grace
period is measured from the run and callers (and tests) pass the clock in. Only finished runs
are emptied (an interrupted one is finished first, see :func:`pylapse.retention.run.recover`);
a run's journal goes with its folder. Nothing outside ``<camera folder>/.trash`` is touched:
deleting never follows a symlink (a link planted in the trash is removed, not its target).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pylapse.retention.journal import TRASH, journals, read_journal, run_folder, run_time

__all__ = ["EmptyResult", "TrashRun", "empty_trash", "trash_runs"]

DAY = 86400.0


@dataclass(frozen=True)
class TrashRun:
    """One run's folder in the trash."""

    run_id: str
    started: float  # UTC seconds
    files: int
    bytes: int
    finished: bool


@dataclass
class EmptyResult:
    emptied: list[str] = field(default_factory=list)  # run ids deleted
    files: int = 0
    bytes: int = 0
    waiting: int = 0  # runs still in their grace period


def _usage(folder: Path) -> tuple[int, int]:
    files = size = 0
    for base, _dirs, names in os.walk(folder):  # does not follow links to folders
        for name in names:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(base, name)).st_size
                files += 1
    return files, size


def trash_runs(root: Path, collection: str | None = None) -> list[TrashRun]:
    """The runs in ``root``'s trash with their files and bytes, oldest first; with
    ``collection``, only that camera's (two cameras may share a folder)."""
    trash = root / TRASH
    out = []
    for path in journals(trash):
        state = read_journal(path)
        run_id = path.name.removesuffix(".journal")
        started = run_time(run_id)
        if state is None or started is None:
            continue
        if collection is not None and state.header.get("collection") != collection:
            continue
        files, size = _usage(run_folder(trash, run_id))
        out.append(TrashRun(run_id, started, files, size, state.finished is not None))
    return out


def empty_trash(
    root: Path, now: float, grace_days: float, collection: str | None = None
) -> EmptyResult:
    """Delete the trash folders of finished runs (of ``collection`` only, when given) that
    started ``grace_days`` or more before ``now`` (UTC seconds), and their journals."""
    trash = root / TRASH
    result = EmptyResult()
    for run in trash_runs(root, collection):
        if not run.finished or now - run.started < grace_days * DAY:
            result.waiting += 1
            continue
        folder = run_folder(trash, run.run_id)
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                folder.unlink()  # not a folder of ours (a link?): remove the name only
            else:
                shutil.rmtree(folder)  # never follows symlinks
        except FileNotFoundError:
            pass  # a run that moved nothing has no folder
        (trash / f"{run.run_id}.journal").unlink(missing_ok=True)
        result.emptied.append(run.run_id)
        result.files += run.files
        result.bytes += run.bytes
    return result
