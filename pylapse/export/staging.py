"""The non-destructive side of an export: write beside the output, swap in only when complete.

An export writes every frame into a *staging* folder next to the output folder
(``.<name>.pylapse-staging-<pid>-<random>``). Only when all frames are written does
:meth:`Staging.commit` put them in place:

* no output folder yet (or an empty one): one ``rename`` of the staging folder, atomic;
* an existing output folder: a journal (``.pylapse-export.swap.json``) is written first, then
  each file is renamed in (one atomic rename each), files of the *previous* export that the new
  one does not replace are removed, the manifest is rewritten and the journal removed. If the
  process dies half-way, the next export to that folder finds the journal and finishes the swap
  (roll forward: the staged files are complete).

The folder's manifest (``.pylapse-export.json``) describes the files pyLapse wrote there as a
name pattern and a count. Nothing else in the folder is ever touched: a user's own files
survive, and an export whose names would overwrite a file pyLapse did not write is refused.
A crash while *writing* leaves the previous export as it was plus a stale staging folder,
which the next export to the same folder removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pylapse import storage, timeutil

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one export at a time is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "JOURNAL",
    "MANIFEST",
    "ExportError",
    "NameSet",
    "PreviousExport",
    "Staging",
    "output_name",
    "previous_export",
    "sweep_locks",
]

MANIFEST = ".pylapse-export.json"
JOURNAL = ".pylapse-export.swap.json"
_MARKER = ".pylapse-staging"
_STAGING_INFIX = ".pylapse-staging-"
LOCK_SUFFIX = ".pylapse-lock"  # .<folder>.pylapse-lock beside an export folder, while it runs
_LOCK_TRIES = 5
MIN_DIGITS = 6


class ExportError(RuntimeError):
    """An export that cannot start or finish; the message names the folder or file and why."""


def digits_for(count: int, minimum: int = MIN_DIGITS) -> int:
    """Zero-padding that keeps ``count`` names in order when sorted as text (at least
    ``minimum``: 6 by default, 5 for pyLapse 0.2's ``zeropadding``)."""
    return max(minimum, len(str(max(count, 0))))


def output_name(prefix: str, number: int, count: int, ext: str) -> str:
    """``{prefix}{number:0N}.{ext}`` with N = :func:`digits_for(count) <digits_for>`."""
    return f"{prefix}{number:0{digits_for(count)}d}.{ext}"


@dataclass(frozen=True, slots=True)
class NameSet:
    """The names one export wrote: ``prefix`` + numbers 1..count zero-padded (to at least
    ``min_digits``) + ``.ext``."""

    prefix: str
    ext: str
    count: int
    min_digits: int = MIN_DIGITS

    @property
    def digits(self) -> int:
        return digits_for(self.count, self.min_digits)

    def name(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}.{self.ext}"

    def names(self) -> Iterator[str]:
        return (self.name(i) for i in range(1, self.count + 1))

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        pattern = rf"{re.escape(self.prefix)}(\d{{{self.digits}}})\.{re.escape(self.ext)}"
        match = re.fullmatch(pattern, name)
        return match is not None and 1 <= int(match.group(1)) <= self.count

    def resized(self, count: int) -> NameSet:
        """The same names for another count (the padding follows the count as it does here)."""
        return NameSet(self.prefix, self.ext, count, self.min_digits)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"prefix": self.prefix, "ext": self.ext, "count": self.count}
        if self.min_digits != MIN_DIGITS:
            data["min_digits"] = self.min_digits  # manifests without it keep meaning 6
        return data

    @classmethod
    def from_json(cls, data: Any) -> NameSet | None:
        try:
            digits = int(data.get("min_digits", MIN_DIGITS))
            return cls(str(data["prefix"]), str(data["ext"]), int(data["count"]), digits)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


def read_manifest(output_dir: Path) -> NameSet | None:
    """The names the last completed export wrote to ``output_dir`` (``None``: none recorded)."""
    try:
        data = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return NameSet.from_json(data.get("files") if isinstance(data, dict) else None)


@dataclass(frozen=True, slots=True)
class PreviousExport:
    """What an export into a folder would replace: the last completed export there."""

    folder: Path
    count: int
    written: datetime | None  # when it was swapped in (None for a manifest without the time)

    def describe(self) -> str:
        """e.g. ``277 frames exported on 2026-12-01 14:02 CET in /srv/exports/noon`` (this
        machine's local time)."""
        local = self.written.astimezone() if self.written else None
        when = f" on {local:%Y-%m-%d %H:%M %Z}" if local else ""
        noun = "frame" if self.count == 1 else "frames"
        return f"{self.count:,} {noun} exported{when} in {self.folder}"


def previous_export(output_dir: str | os.PathLike[str]) -> PreviousExport | None:
    """The export a new one into ``output_dir`` would replace, or None (nothing exported there,
    or nothing left of it)."""
    folder = Path(os.path.abspath(output_dir))
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    names = NameSet.from_json(data.get("files") if isinstance(data, dict) else None)
    if names is None or names.count == 0:
        return None
    written = None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        written = datetime.fromisoformat(str(data["written"]))
    if written is not None and written.tzinfo is None:
        written = None  # every time pyLapse writes is aware; anything else is not ours
    return PreviousExport(folder, names.count, written)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    storage.atomic_write(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


class Staging:
    """One export's staging folder and the lock on its output folder.

    Use as a context manager: entering takes the lock, finishes any interrupted swap and removes
    stale staging folders; leaving without :meth:`commit` removes this staging folder.
    """

    def __init__(self, output_dir: str | os.PathLike[str]) -> None:
        self.output_dir = Path(os.path.abspath(output_dir))
        if self.output_dir.exists() and not self.output_dir.is_dir():
            raise ExportError(f"export folder {self.output_dir} exists and is not a folder")
        self.parent = self.output_dir.parent
        self.path: Path | None = None
        self._lock_fd: int | None = None
        self._committed = False

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Staging:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
        except OSError as exc:
            raise self._unwritable(exc) from None
        try:
            recover(self.output_dir)
            self.path = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.output_dir.name}{_STAGING_INFIX}{os.getpid()}-", dir=self.parent
                )
            )
            os.chmod(self.path, 0o755)  # mkdtemp makes it private; it becomes the output
            (self.path / _MARKER).write_text(str(self.output_dir) + "\n", encoding="utf-8")
        except OSError as exc:
            self._unlock()
            raise self._unwritable(exc) from None
        except BaseException:
            self._unlock()
            raise
        return self

    def _unwritable(self, exc: OSError) -> ExportError:
        return ExportError(
            f"cannot write beside {self.output_dir} (in {self.parent}): {exc.strerror or exc}; "
            "an export is written next to its folder and swapped in when complete, so the "
            "folder's parent must be writable"
        )

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._committed and self.path is not None:
                _remove_staging(self.path)
        finally:
            self._unlock()

    @property
    def _lock_path(self) -> Path:
        return self.parent / f".{self.output_dir.name}{LOCK_SUFFIX}"

    def _lock(self) -> None:
        if fcntl is None:
            return
        for attempt in range(_LOCK_TRIES):
            try:
                self._lock_fd = storage.lock_file(self._lock_path)
                break
            except BlockingIOError:
                if attempt == _LOCK_TRIES - 1:
                    raise ExportError(
                        f"another export is writing to {self.output_dir}; wait for it or cancel it"
                    ) from None
                time.sleep(0.05)  # or another export's sweep is testing the file for a moment
        sweep_locks(self.parent)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            # removed as it is released: no lock file stays beside the export
            storage.unlock_file(self._lock_path, self._lock_fd)
            self._lock_fd = None

    # --- checks ------------------------------------------------------------------------------

    def previous(self) -> NameSet | None:
        return read_manifest(self.output_dir)

    def check_conflicts(self, new: NameSet) -> None:
        """Refuse to start when a new name would replace a file pyLapse did not write."""
        old = self.previous()
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.output_dir):
                if entry.name in new and not (old and entry.name in old):
                    raise ExportError(
                        f"{entry.path} exists and was not written by a pyLapse export; "
                        "move it away or choose another prefix or folder (it is never overwritten)"
                    )

    # --- commit ------------------------------------------------------------------------------

    def commit(self, new: NameSet) -> None:
        """Put the staged files in place of the previous export (see the module docstring)."""
        assert self.path is not None, "commit() outside 'with Staging(...)'"
        self.check_conflicts(new)
        manifest = {"files": new.to_json(), "written": timeutil.now().isoformat()}
        _write_json(self.path / MANIFEST, manifest)
        if self._rename_whole():
            self._committed = True
            return
        old = self.previous()
        journal = {
            "staging": self.path.name,
            "new": new.to_json(),
            "old": old.to_json() if old else None,
            "manifest": manifest,
        }
        _write_json(self.output_dir / JOURNAL, journal)
        self._committed = True  # from here on the journal owns the staging folder
        _roll_forward(self.output_dir, journal)

    def _rename_whole(self) -> bool:
        assert self.path is not None
        try:
            os.rename(self.path, self.output_dir)  # replaces only a missing or empty folder
        except OSError:
            return False
        with contextlib.suppress(OSError):
            (self.output_dir / _MARKER).unlink()
        storage.fsync_dir(self.parent)
        return True


def _remove_staging(path: Path) -> None:
    """Delete a staging folder, but only one that carries pyLapse's marker."""
    if (path / _MARKER).is_file():
        shutil.rmtree(path, ignore_errors=True)


def _roll_forward(output_dir: Path, journal: dict[str, Any]) -> None:
    """Finish a swap described by ``journal``; safe to repeat after a crash at any point."""
    new = NameSet.from_json(journal.get("new"))
    old = NameSet.from_json(journal.get("old"))
    staging = output_dir.parent / str(journal.get("staging", ""))
    if new is None or not staging.name.startswith(f".{output_dir.name}{_STAGING_INFIX}"):
        raise ExportError(f"{output_dir / JOURNAL} is damaged; remove it to export again")
    if staging.is_dir():
        for name in new.names():
            with contextlib.suppress(FileNotFoundError):
                os.replace(staging / name, output_dir / name)
    if old is not None:
        for name in old.names():
            if name not in new:
                with contextlib.suppress(FileNotFoundError):
                    (output_dir / name).unlink()
    _write_json(output_dir / MANIFEST, journal["manifest"])
    (output_dir / JOURNAL).unlink()
    storage.fsync_dir(output_dir)
    if staging.is_dir():
        _remove_staging(staging)


def sweep_locks(parent: Path) -> int:
    """Remove the export lock files in ``parent`` that no running export holds (left by an
    export that was killed, or by a version that kept them); returns how many. A lock held by a
    live export is left alone: taking it fails."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(parent):
            name = entry.name
            if not (name.startswith(".") and name.endswith(LOCK_SUFFIX)):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                fd = storage.lock_file(entry.path)
            except OSError:  # held by a running export (or unreadable): not ours to remove
                continue
            storage.unlock_file(entry.path, fd)
            removed += 1
    return removed


def recover(output_dir: Path) -> None:
    """Finish an interrupted swap and remove staging folders no live export owns.

    Call with the output folder's lock held (so no other export is running on it).
    """
    journal_path = output_dir / JOURNAL
    if journal_path.is_file():
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ExportError(f"{journal_path} is damaged; remove it to export again") from None
        _roll_forward(output_dir, journal)
    with contextlib.suppress(OSError):
        (output_dir / _MARKER).unlink(missing_ok=True)  # a crash right after a whole rename
    prefix = f".{output_dir.name}{_STAGING_INFIX}"
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(output_dir.parent):
            # the lock is held, so no live export owns these (a killed one left them)
            if entry.name.startswith(prefix) and entry.is_dir(follow_symlinks=False):
                _remove_staging(Path(entry.path))
