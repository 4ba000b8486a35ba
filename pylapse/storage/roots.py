"""Path confinement: every file read or served for a user resolves inside a storage root."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class PathNotAllowed(PermissionError):
    """A path outside every configured storage root."""


MAX_PATH_CHARS = 4096  # Linux's PATH_MAX; longer paths cannot be opened anyway
MAX_NAME_BYTES = 255  # the longest file or folder name the usual file systems store


def _shown(raw: str) -> str:
    """``raw`` for a message: a path of thousands of characters is cut."""
    return repr(raw) if len(raw) <= 120 else f"{raw[:100]!r}... ({len(raw)} characters)"


def resolved_roots(roots: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """``roots`` with every symlink resolved, for :func:`within`."""
    found = [Path(os.path.realpath(r)) for r in roots]
    if not found:
        raise PathNotAllowed("no storage roots are configured; add one to 'storage_roots'")
    return found


def within(resolved: str | os.PathLike[str], roots: Iterable[Path]) -> bool:
    """Whether the already resolved ``resolved`` is one of ``roots`` (resolved) or inside one."""
    path = Path(resolved)
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]) -> Path:
    """Resolve a user-given ``path`` and return it only if it lies inside one of ``roots``.

    Relative paths are taken relative to the first root. Symlinks are resolved first, so a link
    pointing out of a root is refused like ``..`` and absolute paths outside every root. A path
    longer than any the file system can open is refused too (it could only fail later).
    """
    real_roots = resolved_roots(roots)
    raw = os.fspath(path)
    if "\x00" in raw:
        raise PathNotAllowed(f"{_shown(raw)} contains a NUL byte")
    if len(raw) > MAX_PATH_CHARS:
        raise PathNotAllowed(
            f"{_shown(raw)} is too long: at most {MAX_PATH_CHARS} characters are accepted"
        )
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = real_roots[0] / candidate
    resolved = candidate.resolve()
    too_long = next((p for p in resolved.parts if len(os.fsencode(p)) > MAX_NAME_BYTES), None)
    if too_long is not None or len(os.fsencode(resolved)) > MAX_PATH_CHARS:
        raise PathNotAllowed(
            f"{_shown(raw)} is too long: a file or folder name has at most {MAX_NAME_BYTES} "
            f"bytes and a path at most {MAX_PATH_CHARS}"
        )
    if within(resolved, real_roots):
        return resolved
    allowed = ", ".join(str(r) for r in real_roots)
    raise PathNotAllowed(f"{_shown(raw)} is outside the storage roots ({allowed})")


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # the last part cannot have become a link since resolving
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO planted under a frame's name must not hang a worker
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _opened_path(fd: int) -> str | None:
    """The path the kernel has for the open file ``fd`` (Linux, macOS), else None."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            return os.readlink(f"/proc/self/fd/{fd}")
    getpath = getattr(fcntl, "F_GETPATH", None)  # macOS
    if getpath is not None:
        with contextlib.suppress(OSError):
            raw = fcntl.fcntl(fd, getpath, b"\0" * 1024)
            return os.fsdecode(raw.split(b"\0", 1)[0])
    return None


def open_confined(
    path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]]
) -> tuple[BinaryIO, Path]:
    """Open the regular file ``path`` for reading only if it lies inside one of ``roots`` now.

    For serving files: the check is made when the file is opened, not when it was indexed or
    listed, so a frame replaced by a link out of the roots afterwards is refused. ``path`` is
    resolved and checked, the resolved path is opened without following a link in its last
    part, and where the system can say which file a descriptor has open (Linux, macOS) that
    path is checked again, so a folder swapped for a link between the check and the open is
    caught too; elsewhere the opened file must be the file the check resolved.

    Returns the open file and its resolved path. Raises :class:`PathNotAllowed` (outside, or
    changed while opening), ``FileNotFoundError``, ``IsADirectoryError`` (not a regular file)
    or another ``OSError``.
    """
    real_roots = resolved_roots(roots)
    raw = os.fspath(path)
    if "\x00" in raw or len(raw) > MAX_PATH_CHARS:
        raise PathNotAllowed(f"{_shown(raw)} is not a usable path")
    real = Path(os.path.realpath(raw))
    if not within(real, real_roots):
        raise PathNotAllowed(f"{_shown(raw)} is outside the storage roots")
    try:
        fd = os.open(real, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PathNotAllowed(f"{_shown(raw)} became a link while it was opened") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(f"{_shown(raw)} is not a regular file")
        opened = _opened_path(fd)
        if opened is not None:
            if not within(opened, real_roots):
                raise PathNotAllowed(f"{_shown(raw)} moved out of the storage roots")
        else:
            again = os.stat(real)
            if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino):
                raise PathNotAllowed(f"{_shown(raw)} changed while it was opened")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return handle, real
