"""Free space: the capture guard, full-disk errors, and how long each volume lasts.

Capture checks free space under a camera's output folder before every frame (one ``statvfs``,
microseconds). Below ``min_free_mb`` the frame is skipped and the camera's health says why;
capture resumes by itself at the first slot after space returns.

A disk can still fill up (``min_free_mb = 0``, a disk that holds only the data folder, another
program writing, no inodes left): :func:`is_disk_full` recognises what that looks like from
SQLite and from the OS, so callers can pause and say so instead of failing with a traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pylapse.retention.forecast import Growth, days_until_full

__all__ = [
    "DiskGuard",
    "VolumeUsage",
    "data_full_reason",
    "existing_parent",
    "folder_full_reason",
    "free_bytes",
    "is_disk_full",
    "is_full_reason",
    "volume_usage",
]

MB = 1024 * 1024
# SQLite's result codes for a full disk: SQLITE_FULL, and SQLITE_IOERR_SHMSIZE (a connection
# opened on a full disk cannot extend the WAL index, the ``-shm`` file, by one page).
_SQLITE_FULL = {13, 4874}
_PG_DISK_FULL = "53100"  # PostgreSQL's disk_full condition
_OS_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}  # no space, or over quota


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it was raised from) says a disk or quota is full."""
    seen = 0
    while exc is not None and seen < 10:  # a few links of __cause__ / __context__ at most
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if code in _SQLITE_FULL or "database or disk is full" in str(exc):
                return True
            if getattr(exc, "sqlstate", None) == _PG_DISK_FULL:  # pylapse.db.postgres sets it
                return True
        elif isinstance(exc, OSError) and exc.errno in _OS_FULL:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


_FULL_TAIL = " is full: capture paused; free space to resume"


def data_full_reason(data_path: str | os.PathLike[str]) -> str:
    """What capture says while the database in ``data_path`` cannot be written."""
    return f"the disk holding the data folder ({os.fspath(data_path)}){_FULL_TAIL}"


def folder_full_reason(folder: str | os.PathLike[str]) -> str:
    """What capture says while frames cannot be written under ``folder``."""
    return f"the disk holding {os.fspath(folder)}{_FULL_TAIL}"


def is_full_reason(reason: str | None) -> bool:
    """Whether a paused reason is one of the two above."""
    return reason is not None and reason.endswith(_FULL_TAIL)


def existing_parent(path: str | os.PathLike[str]) -> Path:
    """``path`` or its nearest existing ancestor (an output folder may not exist yet)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def free_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes available to this user on the volume holding ``path``."""
    return shutil.disk_usage(existing_parent(path)).free


class DiskGuard:
    """Says whether a frame may be written under a folder; ``min_free_mb = 0`` turns it off."""

    def __init__(self, min_free_mb: int) -> None:
        self.min_free_mb = min_free_mb

    def check(self, folder: str | os.PathLike[str]) -> str | None:
        """``None`` when there is room, else the reason capture is paused (for health and log)."""
        if self.min_free_mb <= 0:
            return None
        try:
            free = free_bytes(folder)
        except OSError as exc:
            return f"cannot read free space under {folder}: {exc.strerror or exc}"
        if free < self.min_free_mb * MB:
            return (
                f"capture paused: {free // MB} MB free under {folder}, "
                f"below min_free_mb {self.min_free_mb}"
            )
        return None


@dataclass(frozen=True)
class VolumeUsage:
    path: Path  # the first of the given paths on this volume
    total: int
    used: int
    free: int
    days_until_full: float | None  # None when nothing is being written to it
    # the same under the cameras' retention (None: never full, or see ``retention``)
    days_until_full_retained: float | None = None
    retention: bool = False  # a camera writing here has retention enabled

    @property
    def percent_used(self) -> float:
        return 100.0 * self.used / self.total if self.total else 0.0


def volume_usage(
    paths: Iterable[str | os.PathLike[str]],
    *,
    bytes_per_day: Mapping[str | os.PathLike[str], float] | None = None,
    retention: Mapping[str | os.PathLike[str], Growth] | None = None,
) -> list[VolumeUsage]:
    """One entry per volume (device) among ``paths``, in first-seen order.

    ``bytes_per_day`` maps folders (camera output folders) to how much capture writes into them per
    day (see :meth:`pylapse.capture.health.HealthStore.bytes_per_day`); the rates of folders on the
    same volume add up, and ``days_until_full`` is free space over that sum. ``retention`` maps
    folders to their growth under retention (:class:`pylapse.retention.forecast.Growth`): a
    volume with one gets ``days_until_full_retained`` too.
    """
    volumes: dict[int, tuple[Path, int, int, int]] = {}  # device: first path, total, used, free
    for raw in paths:
        try:
            base = existing_parent(raw)
            dev = os.stat(base).st_dev
            usage = shutil.disk_usage(base)
        except OSError:
            continue
        if dev not in volumes:
            volumes[dev] = (Path(raw), usage.total, usage.used, usage.free)
    rates = dict.fromkeys(volumes, 0.0)
    growths: dict[int, list[Growth]] = {dev: [] for dev in volumes}
    retained: set[int] = set()
    for folder, rate in (bytes_per_day or {}).items():
        try:
            dev = os.stat(existing_parent(folder)).st_dev
        except OSError:
            continue
        if dev in rates:
            rates[dev] += max(0.0, float(rate))
            growth = (retention or {}).get(folder)
            if growth is not None:
                retained.add(dev)
            growths[dev].append(growth or Growth(max(0.0, float(rate))))
    out = []
    for dev, (path, total, used, free) in volumes.items():
        days = free / rates[dev] if rates[dev] > 0 else None
        kept = days_until_full(free, growths[dev]) if dev in retained else None
        out.append(VolumeUsage(path, total, used, free, days, kept, dev in retained))
    return out
