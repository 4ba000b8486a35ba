"""Whether a collection's frame folder is there to read frames from (a missing disk, say)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["FolderState", "FolderStatus", "folder_status"]


class FolderState(StrEnum):
    """Whether a collection's folder is there to read frames from."""

    OK = "ok"
    MISSING = "missing"  # gone, renamed, or on a disk that is not mounted


@dataclass(frozen=True)
class FolderStatus:
    state: FolderState
    problem: str | None = None  # for the user, naming the folder; None when OK

    @property
    def missing(self) -> bool:
        return self.state is FolderState.MISSING


def folder_status(folder: Path, indexed: Callable[[], int] | None) -> FolderStatus:
    """The status of ``folder`` (a ``stat`` and at most one directory entry read); ``indexed``
    counts the index's frames of it, None when no index is open (nothing to compare with).
    See :meth:`pylapse.collection.collection.Collection.folder_status`."""
    try:
        if not folder.is_dir():
            if indexed is not None and not indexed():
                return FolderStatus(FolderState.OK)
            gone = f"the folder {folder} is gone or not mounted"
            return FolderStatus(FolderState.MISSING, gone)
        with os.scandir(folder) as entries:
            empty = next(entries, None) is None
    except OSError as exc:
        problem = f"the folder {folder} cannot be read ({exc.strerror or exc})"
        return FolderStatus(FolderState.MISSING, problem)
    count = indexed() if empty and indexed is not None else 0
    if count:
        problem = (
            f"the folder {folder} is empty but {count:,} frames of it are indexed: "
            "is its disk mounted?"
        )
        return FolderStatus(FolderState.MISSING, problem)
    return FolderStatus(FolderState.OK)
