"""Which file a render's history entry is: the video it made, or something else now there.

A render job's result holds its file's size, modification time and render time (from its
manifest; :func:`pylapse.tasks.render.summary`). A file at that path that no longer matches
them (replaced by a later render, or changed) is reported as replaced, never served, played or
deleted as this entry's video (:class:`VideoFile`). Paths are confined to the storage roots
again on every look (a folder that stopped being a root makes its videos missing).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage
from pylapse.video.manifest import read_manifest

if TYPE_CHECKING:
    from pylapse.jobs.record import JobRecord
    from pylapse.jobs.runner import JobRunner

__all__ = ["MTIME_SLACK_NS", "REPLACED_SEARCH", "VideoFile", "file_notes", "replaced_by",
           "video_state"]  # fmt: skip

MTIME_SLACK_NS = 2_000_000_000  # FAT and some shares keep modification times to 2 s
REPLACED_SEARCH = 200  # newest renders looked through for the one that replaced a file


class VideoFile(StrEnum):
    """What is at the path a render wrote, as far as its history entry is concerned."""

    OK = "ok"  # the video this render made
    MISSING = "missing"  # deleted, moved, or its folder is no longer a storage root
    REPLACED = "replaced"  # another file now: a later render's, or the file was changed
    NONE = "none"  # the render made no file (failed, cancelled, still running)


def video_state(roots: Sequence[Path], job: JobRecord) -> tuple[VideoFile, Path | None]:
    """The state of ``job``'s video and its path (the path only when it is this video)."""
    result = job.result or {}
    output = result.get("output")
    if job.state != "done" or not output:
        return VideoFile.NONE, None
    try:
        path = storage.confine(output, roots)
        stat = path.stat()
    except (storage.PathNotAllowed, OSError):
        return VideoFile.MISSING, None
    if not path.is_file():
        return VideoFile.MISSING, None
    if not _same_video(path, stat, result):
        return VideoFile.REPLACED, None
    return VideoFile.OK, path


def _same_video(path: Path, stat: os.stat_result, result: dict[str, Any]) -> bool:
    """Whether the file at ``path`` is the video ``result`` describes: the same size, and the
    same render time in the manifest beside it (a re-render of the same frames can make the
    same bytes) or, without a manifest, the same modification time (a copy that kept it, to
    the 2 s some file systems store, counts as the same)."""
    size, mtime, created = result.get("bytes"), result.get("mtime_ns"), result.get("created")
    if size is not None and stat.st_size != size:
        return False
    found = (read_manifest(path) or {}).get("created") if created else None
    if found:
        return bool(found == created)
    return mtime is None or abs(stat.st_mtime_ns - mtime) <= MTIME_SLACK_NS


def file_notes(roots: Sequence[Path], jobs: Sequence[JobRecord]) -> dict[int, dict[str, Any]]:
    """For each job of a history page: its file's state, and for a replaced file the render
    on the same page that holds the path now (None when it is on another page)."""
    states = {j.id: video_state(roots, j)[0] for j in jobs}
    holder = {
        (j.result or {}).get("output"): j.id
        for j in sorted(jobs, key=lambda j: j.id)
        if states[j.id] is VideoFile.OK
    }
    return {
        j.id: {
            "state": states[j.id].value,
            "by": holder.get((j.result or {}).get("output"))
            if states[j.id] is VideoFile.REPLACED
            else None,
        }
        for j in jobs
    }


def replaced_by(jobs: JobRunner, roots: Sequence[Path], job: JobRecord) -> int | None:
    """The newer render whose video is now at ``job``'s path, among the newest few."""
    output = (job.result or {}).get("output")
    for other in jobs.list(REPLACED_SEARCH, 0, kind="render"):
        same = other.id > job.id and (other.result or {}).get("output") == output
        if same and video_state(roots, other)[0] is VideoFile.OK:
            return other.id
    return None
