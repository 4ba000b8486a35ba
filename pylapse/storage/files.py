"""Writing files so that a reader sees the old file or the new one: atomic writes, locks, temp
sweeps, and placing a finished file under a free name."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".tmp"


def fsync_dir(folder: Path) -> None:
    """Make a rename inside ``folder`` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # not supported on this platform or filesystem
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def lock_file(path: str | os.PathLike[str]) -> int:
    """An exclusive ``flock`` on the file at ``path`` (made when missing): its descriptor.

    ``BlockingIOError`` (an ``OSError``) when another open file holds it. Safe against a holder
    removing the file as it lets go (:func:`unlock_file`): the lock taken is on the file the
    name leads to after locking, or it is tried again.
    """
    if fcntl is None:
        raise OSError(errno.ENOSYS, "this system has no advisory file locks")
    while True:
        # O_CLOEXEC: children (ffmpeg, gphoto2) must not inherit and so keep the lock alive.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = os.fstat(fd)
            try:
                named = os.stat(path)
            except FileNotFoundError:
                named = None
        except BaseException:
            os.close(fd)
            raise
        if named is not None and (named.st_dev, named.st_ino) == (locked.st_dev, locked.st_ino):
            return fd
        os.close(fd)  # its holder removed it while we waited: lock the file there now


def unlock_file(path: str | os.PathLike[str], fd: int) -> None:
    """Remove the lock file (still holding it, see :func:`lock_file`) and let go of it."""
    with contextlib.suppress(OSError):
        os.unlink(path)
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | Callable[[BinaryIO], None],
    *,
    mode: int = 0o644,
    owner: tuple[int, int] | None = None,
    if_exists: str = "replace",
) -> Path:
    """Write ``data`` (bytes, or a callable that writes to a file) to ``path`` atomically.

    ``mode`` is set exactly (not masked by the umask). ``owner`` (uid, gid) is given to the new
    file before it replaces the old one, so a file another user owns keeps its owner; when this
    process may not give it away (not root) the file is written anyway, owned by us.
    ``if_exists`` is :func:`place_file`'s: ``rename`` keeps an existing file and gives the new
    one the first free name (``x-2.jpg``); the name used is returned.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if owner is not None:
            with contextlib.suppress(PermissionError):
                os.chown(tmp, *owner)
        path = place_file(tmp, path, if_exists)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return path


def sweep_temp(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files a crash left in ``folder`` (not recursive); returns what was removed."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file() and entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def iter_files(folder: str | os.PathLike[str], suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files directly in ``folder`` whose lower-cased name ends with one of ``suffixes``."""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_file() and entry.name.lower().endswith(suffixes):
                yield Path(entry.path)


class IfExists(StrEnum):
    """What :func:`place_file` does when the target name is taken."""

    REPLACE = "replace"  # the new file takes the name (the old one is gone)
    RENAME = "rename"  # the new file takes the first free name: day.mp4 -> day-2.mp4
    ERROR = "error"  # FileExistsError; nothing is moved


_MAX_NAMES = 10_000


def free_name(target: Path, n: int) -> Path:
    """The ``n``-th name tried for ``target``: itself, then ``stem-2.ext``, ``stem-3.ext``..."""
    return target if n < 2 else target.with_name(f"{target.stem}-{n}{target.suffix}")


def place_file(temp: str | os.PathLike[str], target: str | os.PathLike[str],
               if_exists: str = IfExists.REPLACE, taken: Callable[[Path], bool] | None = None,
               ) -> Path:  # fmt: skip
    """Give the finished file ``temp`` its name ``target`` (same folder); returns the name used.

    Without ``replace`` the name is claimed atomically with a hard link, which fails when the
    name exists, so two renders finishing together never take the same name and neither
    replaces the other. Where hard links are not supported (FAT, some shares), an empty file
    made with O_EXCL claims the name and the rename follows at once. ``taken(name)`` marks
    names as used beyond existing files (e.g. a manifest left without its video).
    """
    temp, target = Path(temp), Path(target)
    policy = IfExists(if_exists)
    if policy is IfExists.REPLACE:
        os.replace(temp, target)
        return target
    for n in range(1, _MAX_NAMES + 1):
        if n == 2 and policy is IfExists.ERROR:
            break
        candidate = free_name(target, n)
        if taken is not None and taken(candidate):
            continue
        if _claim(temp, candidate):
            return candidate
    if policy is IfExists.ERROR:
        raise FileExistsError(f"{target} exists; nothing was replaced")
    raise FileExistsError(f"no free name for {target.name} in {target.parent}")


def _claim(temp: Path, candidate: Path) -> bool:
    """Move ``temp`` to ``candidate`` unless that name exists (then False)."""
    try:
        os.link(temp, candidate)
    except FileExistsError:
        return False
    except OSError:  # no hard links here: claim the name with an exclusive create
        try:
            os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        os.replace(temp, candidate)
        return True
    os.unlink(temp)
    return True
