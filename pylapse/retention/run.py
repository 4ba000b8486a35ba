"""A retention run: frames moved into the camera's trash folder, with a journal, and their index
rows removed batch by batch.

Only frames the index lists are moved, and only from inside the camera's folder (symlinks
resolved) and a storage root, never from its trash; a frame is moved by one ``rename`` within
the camera's folder (never copied and deleted: a folder on another disk is left alone). Each
batch is written to the journal before any of its files moves, and marked done once its rows are
gone; :func:`recover` finishes a batch a crash interrupted (see :mod:`.journal`). One run at a
time per camera folder (a lock file in its trash).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report
from pylapse.retention.journal import (
    TRASH,
    Journal,
    Move,
    journal_path,
    journals,
    new_run_id,
    read_journal,
    run_folder,
    run_time,
)
from pylapse.retention.plan import DayPlan, Doomed

if TYPE_CHECKING:
    from pylapse.index.store import FrameIndex

__all__ = [
    "BATCH",
    "RestoreResult",
    "RetentionBusy",
    "RunResult",
    "camera_root",
    "folder_problem",
    "move_to_trash",
    "recover",
    "restore_run",
]

log = logging.getLogger(__name__)

BATCH = 500  # frames a journal line lists; their rows go in one transaction
_MAX_NOTES = 20
_LOCK = ".lock"


class RetentionBusy(RuntimeError):
    """Another retention run holds this camera's folder."""


@dataclass
class RunResult:
    """What one run did."""

    run_id: str
    moved: int = 0
    bytes: int = 0
    already_gone: int = 0  # listed by the index, not on disk any more
    left: int = 0  # planned but left alone (outside the folder, not a file, ...)
    folders_removed: int = 0
    recovered: list[str] = field(default_factory=list)  # interrupted runs finished first
    notes: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        self.left += 1
        if len(self.notes) < _MAX_NOTES:
            self.notes.append(message)

    def summary(self) -> dict[str, Any]:
        return {"run": self.run_id, "moved": self.moved, "bytes": self.bytes,
                "already_gone": self.already_gone, "left": self.left,
                "folders_removed": self.folders_removed, "recovered": list(self.recovered),
                "notes": list(self.notes[:5])}  # fmt: skip


def camera_root(
    output_dir: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]
) -> Path:
    """The camera's folder resolved, only when inside a storage root (``PathNotAllowed``)."""
    return storage.confine(output_dir, roots)


@contextlib.contextmanager
def _locked(trash: Path) -> Any:
    trash.mkdir(parents=True, exist_ok=True)
    try:
        fd = storage.lock_file(trash / _LOCK)
    except BlockingIOError:
        raise RetentionBusy(f"another retention run is working in {trash.parent}") from None
    except OSError as exc:
        if exc.errno != errno.ENOSYS:
            raise
        yield  # a system without advisory locks (Windows): the data folder's lock must do
        return
    try:
        yield
    finally:
        storage.unlock_file(trash / _LOCK, fd)


def folder_problem(real: Path, root: Path, roots: Sequence[Path]) -> str | None:
    """Why frames in the resolved folder ``real`` are not the camera's to move (outside its
    folder ``root``, in its trash, outside the storage ``roots``), or None."""
    if not (real == root or real.is_relative_to(root)):
        return f"is outside the camera's folder {root}"
    if real == root / TRASH or real.is_relative_to(root / TRASH):
        return "is in the trash"
    if not storage.within(real, roots):
        return "is outside the storage roots"
    return None


class _Mover:
    def __init__(self, root: Path, roots: Sequence[Path], run_dir: Path) -> None:
        self.root, self.roots, self.run_dir = root, roots, run_dir
        self.trash = root / TRASH

    def source(self, folder: str, name: str) -> tuple[Path, str] | str:
        """(the file's real path, its path under the root) or why it is left alone."""
        if not name or "/" in name or "\x00" in name or name in (".", ".."):
            return f"{folder}: {name!r} is not a file name"
        real = Path(os.path.realpath(folder))
        problem = folder_problem(real, self.root, self.roots)
        if problem is not None:
            return f"{folder} {problem}"
        return real / name, (real / name).relative_to(self.root).as_posix()

    def move(self, src: Path, rel: str) -> int | str | None:
        """Move ``src`` to the trash: its size, None when already gone, or why not."""
        try:
            st = os.lstat(src)
        except FileNotFoundError:
            return None
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            return f"{src} is not a file; left alone"
        dst = self.run_dir / rel
        if os.path.lexists(dst):
            return f"{dst} already exists; {src} left alone"
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(src, dst)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return f"{src} is on another disk than the trash; left alone"
            return f"{src}: not moved ({exc.strerror or exc})"
        return st.st_size


def move_to_trash(
    days: Iterable[DayPlan],
    *,
    collection: str,
    root: Path,
    roots: Sequence[Path],
    index: FrameIndex,
    now: float,
    total: int,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch: int = BATCH,
) -> RunResult:
    """Move every doomed frame of ``days`` into ``root/.trash/<run id>/`` and forget its row.

    ``root`` is the camera's folder, resolved and confined (:func:`camera_root`); ``roots`` the
    resolved storage roots; ``total`` the doomed frames over all days (for progress). An
    interrupted earlier run is finished first. Cancelled, the batch under way is settled
    (moved files lose their rows), the journal closed, and :class:`Cancelled` raised.
    """
    trash = root / TRASH
    with _locked(trash):
        recovered = _recover(root, roots, index)
        run_id = new_run_id(trash, now)
        result = RunResult(run_id, recovered=recovered)
        mover = _Mover(root, roots, run_folder(trash, run_id))
        header = {"run": run_id, "collection": collection, "root": str(root),
                  "created": datetime.fromtimestamp(now, UTC).isoformat()}  # fmt: skip
        started = time.monotonic()
        with Journal(journal_path(trash, run_id), header) as journal:
            k = 0
            try:
                for day in days:
                    for i in range(0, len(day.doomed), batch):
                        k += 1
                        chunk = day.doomed[i : i + batch]
                        _run_batch(k, chunk, mover, journal, index, collection, result,
                                   progress, cancel, total, started)  # fmt: skip
            except Cancelled:
                journal.append({"finished": True, "cancelled": True, **_counts(result)})
                raise
            journal.append({"finished": True, **_counts(result)})
    log.info("retention run %s of %s: %s", run_id, collection, result.summary())
    return result


def _counts(result: RunResult) -> dict[str, int]:
    return {"moved": result.moved, "bytes": result.bytes, "left": result.left}


def _run_batch(
    k: int,
    chunk: Sequence[Doomed],
    mover: _Mover,
    journal: Journal,
    index: FrameIndex,
    collection: str,
    result: RunResult,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    total: int,
    started: float,
) -> None:
    moves: list[Move] = []
    for d in chunk:
        found = mover.source(d.folder, d.name)
        if isinstance(found, str):
            result.note(found)
        else:
            moves.append((d.id, d.folder, d.name, found[1]))
    journal.append({"batch": k, "moves": moves})  # on disk before any of them moves
    settled: list[tuple[int, str, str]] = []
    touched: set[Path] = set()
    cancelled = False
    for frame_id, folder, name, rel in moves:
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        src = mover.root / rel
        outcome = mover.move(src, rel)
        if outcome is None:
            result.already_gone += 1
        elif isinstance(outcome, str):
            result.note(outcome)
        else:
            result.moved += 1
            result.bytes += outcome
            settled.append((frame_id, folder, name))
            touched.add(src.parent)
        done = result.moved + result.already_gone + result.left
        rate = done / max(time.monotonic() - started, 1e-6)
        safe_report(progress, Progress("move", done, total, rate, (total - done) / rate,
                                       f"{result.moved:,} moved to the trash"))  # fmt: skip
    # durable before the rows go: a power cut must not leave rows gone and files unmoved
    for folder_path in touched | {(mover.run_dir / m[3]).parent for m in moves}:
        storage.fsync_dir(folder_path)
    index.remove_frames(collection, settled)
    journal.append({"done": k, "moved": len(settled)})
    result.folders_removed += _remove_empty(touched, mover.root)
    if cancelled:
        raise Cancelled(
            f"cancelled after moving {result.moved:,} of {total:,} frames to the trash; "
            "the others are where they were"
        )


def _remove_empty(folders: Iterable[Path], root: Path) -> int:
    """Remove folders below ``root`` left empty (a day folder whose frames all went)."""
    removed = 0
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()  # fails on a folder that still holds anything: it stays
            except OSError:
                break
            removed += 1
            folder = folder.parent
    return removed


def recover(root: Path, roots: Sequence[Path], index: FrameIndex) -> list[str]:
    """Finish the runs a crash interrupted in ``root``'s trash; their ids."""
    with _locked(root / TRASH):
        return _recover(root, roots, index)


def _recover(root: Path, roots: Sequence[Path], index: FrameIndex) -> list[str]:
    trash = root / TRASH
    finished = []
    for path in journals(trash):
        state = read_journal(path)
        if state is None or state.finished is not None:
            continue
        run_id = str(state.header["run"])
        collection = str(state.header.get("collection", ""))
        mover = _Mover(root, roots, run_folder(trash, run_id))
        with Journal.reopen(path) as journal:
            for k in state.open_batches:
                settled = []
                for frame_id, folder, name, rel in state.batches[k]:
                    found = mover.source(folder, name)
                    if isinstance(found, str) or found[1] != rel:
                        continue  # the journal does not match the files: leave them be
                    src, dst = found[0], mover.run_dir / rel
                    if os.path.lexists(src) and not os.path.lexists(dst):
                        mover.move(src, rel)  # the move the crash kept from happening
                    if os.path.lexists(dst) and not os.path.lexists(src):
                        settled.append((frame_id, folder, name))
                index.remove_frames(collection, settled)
                journal.append({"done": k, "moved": len(settled), "recovered": True})
            journal.append({"finished": True, "recovered": True})
        log.warning("retention run %s of %s was interrupted; finished it now", run_id, collection)
        finished.append(run_id)
    return finished


@dataclass
class RestoreResult:
    """What :func:`restore_run` put back."""

    run_id: str
    restored: int = 0
    left: int = 0  # left in the trash: a file is in the way, or the place is not ours
    notes: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        self.left += 1
        if len(self.notes) < _MAX_NOTES:
            self.notes.append(message)


def restore_run(root: Path, run_id: str) -> RestoreResult:
    """Move a finished run's trashed frames back where they were (``root``: the camera's folder,
    resolved); the caller scans the folder so the index has them again.

    A file whose place is taken, or whose folder now leads out of ``root``, stays in the trash.
    Links to folders inside the trash are not followed. The run's folder and journal go once
    nothing is left in it.
    """
    trash = root / TRASH
    with _locked(trash):
        path = journal_path(trash, run_id)
        # a run id names a folder of the trash, never a path (no "..", no "/")
        if run_time(run_id) is None or not path.is_file():
            raise FileNotFoundError(f"no retention run {run_id!r} in {trash}")
        state = read_journal(path)
        if state is None:
            raise FileNotFoundError(f"no retention run {run_id!r} in {trash}")
        if state.finished is None:
            raise RetentionBusy(f"run {run_id} was interrupted: run retention to finish it first")
        folder = run_folder(trash, run_id)
        result = RestoreResult(run_id)
        for base, _dirs, names in os.walk(folder):  # does not follow links to folders
            for name in names:
                _put_back(Path(base) / name, root, folder, result)
        for base, dirs, _names in os.walk(folder, topdown=False):
            for d in dirs:
                with contextlib.suppress(OSError):
                    (Path(base) / d).rmdir()
        with contextlib.suppress(OSError):
            folder.rmdir()
            journal_path(trash, run_id).unlink()
    log.info("retention run %s put back: %s restored, %s left", run_id, result.restored,
             result.left)  # fmt: skip
    return result


def _put_back(trashed: Path, root: Path, folder: Path, result: RestoreResult) -> None:
    rel = trashed.relative_to(folder)
    place = root / rel
    real_parent = Path(os.path.realpath(place.parent))  # missing parts are appended as they are
    if not (real_parent == root or real_parent.is_relative_to(root)):
        result.note(f"{place.parent} leads out of {root}: {rel} stays in the trash")
        return
    if os.path.lexists(place):
        result.note(f"{place} exists: {rel} stays in the trash")
        return
    place.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(trashed, place)
    except OSError as exc:
        result.note(f"{rel}: not put back ({exc.strerror or exc})")
        return
    result.restored += 1
