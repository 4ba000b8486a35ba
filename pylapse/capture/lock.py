"""The data-folder lock: one scheduler per data folder.

``web_ui.py`` and ``autocapture.py`` started on the same config would both capture every camera
and fight over the same files. The first one to start takes an exclusive ``fcntl.flock`` on
``<data>/scheduler.lock`` and writes who it is (pid, host, command, start time) into the file; a
second one fails to take the lock and refuses with a message naming the first.

``flock`` belongs to the open file, so the kernel drops it when the holder dies, however it dies
(kill -9 included): a lock file left by a dead process is simply taken over and rewritten.

Releasing removes the file (no ``scheduler.lock`` is left behind after a clean stop). It is
removed while still locked, and whoever locks a file checks afterwards that the name still
leads to that file (else it locked one just removed, and tries the new one), so two processes
can never each hold a lock on a different file of the same name (:func:`pylapse.storage.lock_file`).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pylapse import timeutil
from pylapse.storage import lock_file, unlock_file

__all__ = ["LOCK_NAME", "DataLock", "LockHeld", "LockOwner", "read_owner"]

LOCK_NAME = "scheduler.lock"


class LockHeld(RuntimeError):
    """Another live process holds the data-folder lock; the message says which."""

    def __init__(self, path: Path, owner: LockOwner | None) -> None:
        self.path = path
        self.owner = owner
        who = owner.describe() if owner else "another process (its details are unreadable)"
        super().__init__(
            f"another pyLapse scheduler is already running on the data folder {path.parent}: "
            f"{who}. Stop it first, or give this one a different 'data_dir'."
        )


@dataclass(frozen=True)
class LockOwner:
    pid: int
    host: str
    command: str
    started: str  # ISO 8601 with offset

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.command}), running since {self.started}"


def read_owner(path: str | os.PathLike[str]) -> LockOwner | None:
    """Who the lock file says holds it (may be stale: only a failed flock proves it is held)."""
    try:
        raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        return LockOwner(
            int(raw["pid"]), str(raw["host"]), str(raw["command"]), str(raw["started"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _command_line() -> str:
    argv = [os.path.basename(sys.argv[0]) or "python", *sys.argv[1:]]
    return " ".join(argv)[:200]


class DataLock:
    """An exclusive, non-blocking lock on ``<data_path>/scheduler.lock``.

    Usable as a context manager. :meth:`acquire` raises :class:`LockHeld` when another process
    (or another ``DataLock`` object in this process) holds it.
    """

    def __init__(self, data_path: str | os.PathLike[str], command: str | None = None) -> None:
        self.path = Path(data_path) / LOCK_NAME
        self.command = command or _command_line()
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DataLock:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = lock_file(self.path)
        except BlockingIOError:
            raise LockHeld(self.path, read_owner(self.path)) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": self.command,
            "started": timeutil.now(timeutil.zone(None)).isoformat(timespec="seconds"),
        }
        # Rewrite in place (not atomic_write): the lock is on this inode, a rename would orphan it.
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(owner) + "\n").encode("utf-8"), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # should the removal fail, an empty file reads as "nobody"
        unlock_file(self.path, fd)

    def __enter__(self) -> DataLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
