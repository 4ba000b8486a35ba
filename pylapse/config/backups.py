"""The config file's backups: each save keeps the previous file as ``<name>.<UTC time>Z.bak``
(0600: it may hold camera passwords) beside it, and only the newest :data:`BACKUPS_KEPT`."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from pylapse import storage

__all__ = ["BACKUPS_KEPT", "backups", "write_backup"]

BACKUPS_KEPT = 5
_BACKUP_TIME = "%Y-%m-%dT%H-%M-%S"
_BACKUP_NAME = r"\.(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d)(?:-(\d+))?Z\.bak"


def _backup_entries(real: Path) -> list[tuple[str, int, str]]:
    """(UTC time, same-second count, file name) of the backups of ``real``, oldest first."""
    pattern = re.compile(re.escape(real.name) + _BACKUP_NAME)
    found: list[tuple[str, int, str]] = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(real.parent):
            match = pattern.fullmatch(entry.name)
            if match:  # a second save in the same second is "-2", after the plain name
                found.append((match[1], int(match[2] or 1), entry.name))
    return sorted(found)


def backups(path: str | os.PathLike[str]) -> list[Path]:
    """The timestamped backups of the config file ``path``, oldest first."""
    real = Path(os.path.realpath(path))
    return [real.parent / name for *_, name in _backup_entries(real)]


def write_backup(real: Path, previous: bytes) -> None:
    """Keep ``previous`` as ``<name>.<UTC time>Z.bak`` (0600) and the newest BACKUPS_KEPT."""
    stamp = datetime.now(UTC).strftime(_BACKUP_TIME)
    # several saves in one second each keep their version, numbered after the newest one
    same = [count for when, count, _ in _backup_entries(real) if when == stamp]
    suffix = f"-{max(same) + 1}" if same else ""
    storage.atomic_write(real.with_name(f"{real.name}.{stamp}{suffix}Z.bak"), previous, mode=0o600)
    for old in backups(real)[:-BACKUPS_KEPT]:
        with contextlib.suppress(OSError):
            old.unlink()
