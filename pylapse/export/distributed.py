"""An export run as Celery tasks (``jobs.backend = "celery"``, issue 21 §3).

The process that queued the export keeps what only one process may do: it selects and numbers
the frames (exactly as :func:`~pylapse.export.run.run_export` does), holds the output folder's
lock and staging folder, and swaps the staging folder in once every chunk is done. The frames
are written by workers: the frames are split into chunks, one per local day, a day of more than
``chunk_frames`` frames into pieces of at most that many (so a short selection still spreads
over several workers), and each chunk is one task (:func:`write_chunk`).

A chunk task is idempotent. It writes each frame under a name of its own inside the staging
folder (``.part-<random>/``) and renames it to its final name, so a frame either has its final
name complete or is not there; a task redone after its worker died writes the same bytes under
the same names. Parts a dead worker left are removed before the swap. When the staging folder
is gone (the export was cancelled, or failed), a task stops at its next frame and writes
nothing more: it never creates the staging folder itself.

Workers must see the frames and the output folder under the same paths as the process that
queued the export (one machine, or a shared folder mounted alike).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pylapse.export.options import ExportOptions
from pylapse.export.run import ExportResult, _chunks, finish_export, frames_in
from pylapse.export.staging import ExportError, Staging
from pylapse.export.worker import Item, Tone, configure, process_chunk
from pylapse.jobs.fanout import TaskCall, TaskFailed, run_tasks
from pylapse.progress import ProgressCallback

__all__ = ["EXPORT_CHUNK_TASK", "plan_chunks", "run_export_on_workers", "write_chunk"]

#: the name the chunk task is registered under in ``pylapse worker``
EXPORT_CHUNK_TASK = "pylapse.export.chunk"
_PART = ".part-"
_REPORT_EVERY = 0.5  # seconds between a task's progress reports

Numbered = tuple[int, Item]


def _day(entry: Item) -> str:
    """The frame's local day (its own clock), or "" for a frame without a time."""
    _, utc, offset = entry
    if utc is None:
        return ""
    return datetime.fromtimestamp(utc + (offset or 0), UTC).date().isoformat()


def plan_chunks(numbered: Iterable[Numbered], chunk_frames: int) -> list[list[Numbered]]:
    """Frames in export order cut at each change of local day and after ``chunk_frames``."""
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be at least 1, got {chunk_frames}")
    chunks: list[list[Numbered]] = []
    current: list[Numbered] = []
    day: str | None = None
    for number, entry in numbered:
        this = _day(entry)
        if current and (this != day or len(current) >= chunk_frames):
            chunks.append(current)
            current = []
        current.append((number, entry))
        day = this
    if current:
        chunks.append(current)
    return chunks


# --- the worker side ---------------------------------------------------------------------------


def write_chunk(
    staging: str,
    options: dict[str, Any],
    count: int,
    chunk: Sequence[Sequence[Any]],
    tones: Mapping[str, Sequence[float | None]] | None = None,
    roots: Sequence[str] = (),
    report: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write one chunk's frames into ``staging`` under their final names (a Celery task's body;
    every argument is JSON). ``chunk`` holds ``[number, path, utc, offset]`` rows; returns the
    outcome of each frame as ``[number, linked, [path, reason] or None]``."""
    folder = Path(staging)
    part = folder / f"{_PART}{uuid.uuid4().hex}"
    try:
        part.mkdir()  # never with parents: a staging folder that is gone stays gone
    except FileNotFoundError:
        return {"outcomes": [], "stopped": "the export's staging folder is gone"}
    made = ExportOptions(**options)
    configure(made, str(part), count, tuple(roots))
    names = made.names(count)
    parts = {int(k): (float(v[0] or 0.0), v[1]) for k, v in (tones or {}).items()}
    outcomes: list[list[Any]] = []
    last = time.monotonic()
    try:
        for number, path, utc, offset in chunk:
            if not folder.is_dir():
                return {"outcomes": outcomes, "stopped": "the export's staging folder is gone"}
            tone: dict[int, Tone] | None = {number: parts[number]} if number in parts else None
            entry: Item = (str(path), utc, offset)
            (outcome,) = process_chunk([(int(number), entry)], tone)
            if outcome[2] is None:
                name = names.name(int(number))
                os.replace(part / name, folder / name)  # complete under its name, or not there
            outcomes.append([outcome[0], outcome[1], list(outcome[2]) if outcome[2] else None])
            if report is not None and time.monotonic() - last >= _REPORT_EVERY:
                last = time.monotonic()
                report(len(outcomes))
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return {"outcomes": outcomes}


# --- the side that queued the export -----------------------------------------------------------


def _calls(
    chunks: list[list[Numbered]],
    staging: Path,
    options: ExportOptions,
    total: int,
    tones: list[Tone] | None,
    roots: tuple[str, ...],
) -> list[TaskCall]:
    fields = {k: v for k, v in dataclasses.asdict(options).items() if k != "workers"}
    calls = []
    for chunk in chunks:
        rows = [[n, path, utc, offset] for n, (path, utc, offset) in chunk]
        part = {str(n): list(tones[n - 1]) for n, _ in chunk if n <= len(tones)} if tones else None
        args = (str(staging), fields, total, rows, part, list(roots))
        calls.append(TaskCall(EXPORT_CHUNK_TASK, args, len(chunk)))
    return calls


def _sweep_parts(staging: Path) -> None:
    """Remove the parts tasks on dead workers left (every chunk is done: none is in use)."""
    for entry in os.scandir(staging):
        if entry.name.startswith(_PART) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)


def run_export_on_workers(
    frames_or_selection: Any,
    output_dir: str | os.PathLike[str],
    options: ExportOptions,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    app: Any,
    queue: str,
    chunk_frames: int = 500,
    roots: Iterable[str | os.PathLike[str]] = (),
) -> ExportResult:
    """:func:`~pylapse.export.run.run_export` with the frames written by Celery workers on
    ``queue`` of ``app``: the same files, the same result, the same errors; see the module
    docstring."""
    real_roots = tuple(os.path.join(os.path.realpath(r), "") for r in roots)
    total, frames, tones = frames_in(frames_or_selection, options)
    started = time.monotonic()
    names = options.names(total)
    with Staging(output_dir) as staging:
        staging.check_conflicts(names)
        assert staging.path is not None
        numbered = (n for chunk in _chunks(frames, 1024, staging.output_dir) for n in chunk)
        chunks = plan_chunks(numbered, chunk_frames)
        produced = chunks[-1][-1][0] if chunks else 0
        calls = _calls(chunks, staging.path, options, total, tones, real_roots)
        try:
            results = run_tasks(
                app, calls, queue=queue, stage="process", progress=progress, cancel=cancel
            )
        except TaskFailed as exc:
            raise ExportError(f"{exc}; the previous export was left as it was") from None
        skipped: dict[int, tuple[str, str]] = {}
        linked = 0
        for result in results:
            if result.get("stopped"):
                raise ExportError(f"a chunk stopped early: {result['stopped']}")
            for number, was_linked, skip in result["outcomes"]:
                linked += bool(was_linked)
                if skip is not None:
                    skipped[int(number)] = (str(skip[0]), str(skip[1]))
        _sweep_parts(staging.path)
        return finish_export(staging, names, produced, skipped, linked, started)
