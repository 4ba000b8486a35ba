"""Nothing outlives its owner: child processes that die with pyLapse, temp files that name theirs.

A ``kill -9`` (or the OOM killer, or a power button) gives a process no chance to clean up.
Two things used to survive it:

* **ffmpeg and the camera tools** kept running with parent 1 (a render encoded on for an hour
  into a file nobody would read). On Linux a child is now started with ``PR_SET_PDEATHSIG`` =
  ``SIGKILL``: the kernel kills it when the thread that started it dies, however it dies. Every
  caller waits for its child on the thread that started it, so that thread outlives the child.

  How the flag is set: through ``setpriv --pdeathsig KILL -- TOOL ...`` (util-linux, on every
  Debian and Raspberry Pi OS), which sets it and ``exec``\\ s the tool, so the child is the
  tool with the same pid and no Python runs between ``fork`` and ``exec``. The alternative, a
  ``preexec_fn`` calling ``prctl``, runs Python in the child of a threaded process; CPython
  documents that as unsafe (a lock another thread held at ``fork`` can deadlock the child
  before ``exec``, and ``Popen`` would wait for it forever) and it turns off the ``vfork`` fast
  path. It is only the fallback where there is no ``setpriv`` (Alpine), and there it does
  nothing but the one ``prctl`` call and a check that the parent did not die before it (the
  flag does not act on a death that came first). Elsewhere (macOS, Windows) children are left
  as they are; the temp-file sweep below still cleans up after them.

* **temp files** (a render's hidden ``.NAME.mp4.….tmp``, GBs for a long video): their names
  carry the owner's pid (``.clip.mp4.pylapse-4242-k3j2x9.tmp``) and the owner holds an
  ``flock`` on the file while it writes. :func:`sweep` removes only files whose owner is dead:
  its pid is gone *and* nobody holds the lock (a pid can be reused, and a process in another
  container sharing the folder has a pid this one cannot see; the kernel drops the lock when
  the holder dies, however it dies). A live render's file is never touched.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: pids only
    fcntl = None  # type: ignore[assignment]

__all__ = ["OwnedTemp", "child_argv", "owned_prefix", "owner_pid", "pid_alive", "sweep"]

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_INFIX = "pylapse-"
# the owner tag: pid and mkstemp's random part (which has no dot); the last one in a name counts
# (the file it is the temp file of may have a tag-like name of its own)
_TAG = re.compile(r"pylapse-(\d+)-[^.]+")


# --- children ------------------------------------------------------------------------------------


@functools.cache
def _setpriv() -> str | None:
    """``setpriv`` if it is there and knows ``--pdeathsig`` (util-linux 2.33+), else None."""
    path = shutil.which("setpriv")
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, "--pdeathsig", "KILL", "--", "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if done.returncode == 0 else None


@functools.cache
def _prctl() -> Callable[..., int] | None:
    try:
        import ctypes

        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):
        return None


def _die_with(parent: int, prctl: Callable[..., int]) -> None:
    """Runs in the child between fork and exec (the fallback; see the module docstring)."""
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the flag was set
        os._exit(1)


def _resolve(
    tool: str, env: Mapping[str, str] | None, cwd: str | os.PathLike[str] | None
) -> str | None:
    """The absolute path ``exec`` would run for ``tool``, or None when it would fail."""
    if os.sep in tool or (os.altsep and os.altsep in tool):
        path = Path(cwd or ".", tool) if not os.path.isabs(tool) else Path(tool)
        return str(path.absolute()) if os.access(path, os.X_OK) and path.is_file() else None
    search = (env if env is not None else os.environ).get("PATH", os.defpath)
    return shutil.which(tool, path=search)


def child_argv(
    argv: Iterable[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    wrapper: bool = True,
) -> tuple[list[str], dict[str, Any]]:
    """``(argv, popen_kwargs)`` that start ``argv`` so that it dies with this process.

    ``wrapper=False`` skips ``setpriv`` for the fallback (so tests can check that one too). A
    tool that cannot be found is started as it is, so ``Popen`` raises the usual
    ``FileNotFoundError``/``PermissionError`` for it, naming it.
    """
    args = [os.fspath(a) for a in argv]
    if not sys.platform.startswith("linux") or not args:
        return args, {}
    setpriv = _setpriv() if wrapper else None
    if setpriv is not None:
        tool = _resolve(args[0], env, cwd)
        if tool is None:
            return args, {}
        return [setpriv, "--pdeathsig", "KILL", "--", tool, *args[1:]], {}
    prctl = _prctl()
    if prctl is None:
        return args, {}
    return args, {"preexec_fn": functools.partial(_die_with, os.getpid(), prctl)}


# --- temp files ----------------------------------------------------------------------------------


def owned_prefix(prefix: str) -> str:
    """A temp-file name prefix that names this process as the owner (for ``mkstemp``, whose
    random part follows it)."""
    return f"{prefix}{_INFIX}{os.getpid()}-"


def _tag(name: str) -> re.Match[str] | None:
    found = None
    for found in _TAG.finditer(name):  # noqa: B007 - the last one is wanted
        pass
    return found


def owner_pid(name: str) -> int | None:
    """The pid an owned temp file's name carries, or None for any other name."""
    match = _tag(name)
    return int(match.group(1)) if match else None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (for owned temp folders, which :func:`sweep` leaves to
    their owners' wings)."""
    return _pid_alive(pid)


class OwnedTemp:
    """A new temp file in ``folder``, named for this process and locked while it is open.

    ``path`` is written by whoever the caller hands it to (ffmpeg); :meth:`close` releases the
    lock (the file itself is the caller's to place or delete).
    """

    def __init__(self, folder: str | os.PathLike[str], prefix: str, suffix: str) -> None:
        fd, name = tempfile.mkstemp(prefix=owned_prefix(prefix), suffix=suffix, dir=folder)
        self.path = Path(name)
        self._fd: int | None = fd
        if fcntl is not None:
            with contextlib.suppress(OSError):  # a share without locks: the pid still tells
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    def __enter__(self) -> OwnedTemp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _locked(path: Path) -> bool:
    """Whether some process holds the ``flock`` of ``path`` (False when it is gone)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # no locks on this filesystem: the pid alone decides
        return False
    finally:
        os.close(fd)
    return False


def sweep(folder: str | os.PathLike[str], matches: Callable[[str], bool]) -> list[Path]:
    """Remove the owned temp files in ``folder`` (not recursive) for which ``matches(name)``
    is true and whose owner is dead; returns what was removed.

    Files of one run share the tag ``pylapse-PID-RANDOM`` (a video's temp file and the GIF
    palette beside it): they go together, and only when none of them is locked.
    """
    runs: dict[str, list[Path]] = {}
    try:
        for entry in os.scandir(folder):
            found = _tag(entry.name)
            if found and matches(entry.name) and entry.is_file(follow_symlinks=False):
                runs.setdefault(found.group(0), []).append(Path(entry.path))
    except OSError:
        return []
    removed = []
    for tag, paths in runs.items():
        pid = owner_pid(tag)
        if pid is None or _pid_alive(pid) or any(_locked(p) for p in paths):
            continue
        for path in paths:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
                log.info("removed %s, left by pid %d which is no longer running", path, pid)
    return removed
