"""Writing files so that a reader sees the old file or the new one: atomic writes, locks, temp
sweeps, and placing a finished file under a free name."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import socket
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

    The temp file is one of the target's write slots (:func:`write_slot`), locked while it is
    written; a replacing write removes the slots of its target that killed writers left, so
    crashes do not pile up hidden files beside pictures, manifests and configs.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp, used = _open_temp(path)
    placed = False
    try:
        with os.fdopen(os.dup(fd), "wb") as handle:  # the dup: closing it keeps fd's lock
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
        placed = True
    finally:
        if not placed:
            _drop_own(tmp, fd)
        os.close(fd)  # lets go of the slot's lock
    fsync_dir(path.parent)
    if if_exists == IfExists.REPLACE:  # a frame saved under a free name is a new target each time
        _sweep_slots(path, used)
    return path


# A target's write slots: ".NAME.pylapse-write-K.HOST.tmp", K from 0. Their names follow from the
# target, so finding what a dead writer left costs a lookup or two, not a listing of the folder
# (a day of frames or a thumbnail bucket holds thousands of files). A slot is in use while its
# flock is held: the kernel drops the lock when the holder dies however it dies (kill -9, OOM),
# which a pid cannot tell as well (pids are reused, and a writer in another container sharing
# the folder has a pid this one cannot see). The host is in the name because a share mounted
# without lock support only locks among one host's processes.
_SLOT_INFIX = ".pylapse-write-"
_MAX_SLOTS = 64  # more writers of one target at once than this: a plain unique temp name
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


@functools.cache
def _host() -> str:
    return re.sub(r"[^\w-]+", "-", socket.gethostname())[:32].strip("-") or "host"


def write_slot(target: str | os.PathLike[str], k: int) -> Path:
    """The path of ``target``'s ``k``-th write slot (the temp file :func:`atomic_write` uses)."""
    target = Path(target)
    return target.with_name(f"{_temp_base(target)}{k}.{_host()}{TEMP_SUFFIX}")


def _temp_base(target: Path) -> str:
    """``.NAME.pylapse-write-``; for a name too long to take it (file systems store 255 bytes),
    a digest of the name in its place, so any name that can be written can be written safely."""
    base = f".{target.name}{_SLOT_INFIX}"
    if len(os.fsencode(base)) + 64 <= 255:  # + slot number, host (<= 32), pid, random, .tmp
        return base
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:20]
    return f".{digest}{_SLOT_INFIX}"


def _open_temp(path: Path) -> tuple[int, Path, int]:
    """The first free write slot of ``path``, locked and empty: ``(fd, its path, its number)``.
    Where files cannot be locked (or every slot is busy) a unique name with the pid, number -1."""
    k = 0
    while k < _MAX_SLOTS:
        slot = write_slot(path, k)
        try:
            fd = lock_file(slot)
        except (BlockingIOError, PermissionError):  # a live writer's, or another user's
            k += 1
            continue
        except OSError as exc:
            if exc.errno in _NO_LOCKS:
                break
            raise
        st = os.fstat(fd)
        if st.st_size or st.st_nlink != 1 or st.st_uid != os.geteuid():
            # a dead writer's: its bytes (maybe already linked as a placed frame) are not ours
            # to truncate, and chmod needs a file of our own; remove it and make the slot anew
            unlock_file(slot, fd)
            k += os.path.lexists(slot)  # not ours to remove either (a sticky folder): skip it
            continue
        os.fchmod(fd, 0o600)  # as mkstemp makes it: nobody reads a secret before ``mode`` is set
        return fd, slot, k
    prefix = f"{_temp_base(path)}pid{os.getpid()}-"
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=path.parent)
    return fd, Path(name), -1


def _drop_own(tmp: Path, fd: int) -> None:
    """Remove our temp file after a failed write, if ``tmp`` still names it."""
    with contextlib.suppress(OSError):
        named, ours = os.stat(tmp), os.fstat(fd)
        if (named.st_dev, named.st_ino) == (ours.st_dev, ours.st_ino):
            os.unlink(tmp)


def _sweep_slots(target: Path, used: int) -> None:
    """Remove the write slots of ``target`` that nobody holds (their writers died). Slots are
    taken lowest first, so the first missing one past the slot just ``used`` ends the look: one
    ``stat`` or two when nothing was left."""
    for k in range(_MAX_SLOTS):
        slot = write_slot(target, k)
        if not os.path.lexists(slot):
            if k > used:
                return
            continue
        try:
            fd = lock_file(slot)
        except OSError:  # a live writer's (or no locks here): left alone
            continue
        unlock_file(slot, fd)  # still holding it: removes the file, then lets go


def sweep_temp(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files a crash left in ``folder`` (not recursive); returns what was removed.

    A write slot whose lock is held belongs to a live writer (another capture host sharing the
    folder, or another process of this one) and is left alone."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            name = entry.name
            ours = name.startswith(".") and name.endswith(TEMP_SUFFIX) and entry.is_file()
            if ours and _remove_unheld(Path(entry.path)):
                removed.append(Path(entry.path))
    return removed


def _remove_unheld(path: Path) -> bool:
    """Remove ``path`` unless a live writer holds its lock; True when it was removed."""
    try:
        fd = lock_file(path)
    except BlockingIOError:
        return False  # a live writer's
    except OSError as exc:
        if exc.errno not in _NO_LOCKS:
            return False
        try:  # no locks on this file system: only a crash leaves these behind
            os.unlink(path)
        except OSError:
            return False
        return True
    unlock_file(path, fd)  # removes it while holding the lock
    return True


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
