"""A retention run's journal: what it is about to move, written before it moves anything.

One JSON object a line, appended and ``fsync``-ed, in ``<camera folder>/.trash/<run id>.journal``
beside the run's trash folder ``<camera folder>/.trash/<run id>/``:

    {"run": ID, "collection": KEY, "root": ROOT, "created": ISO}      the header, first
    {"batch": K, "moves": [[frame id, folder, name, relative path], ...]}  before moving them
    {"done": K, "moved": N}                    the batch's files moved and their rows removed
    {"finished": true, ...}                    the run is over; its trash may be emptied

A process killed at any point leaves every frame of an unfinished batch either where it was or
in the trash (a rename is atomic), and the journal says which batch that was: the next run
finishes it (:func:`pylapse.retention.run.recover`). A line cut short by the kill is ignored:
nothing of its batch was moved before the line was complete on disk.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pylapse import storage

__all__ = [
    "TRASH",
    "Journal",
    "JournalState",
    "Move",
    "journal_path",
    "journals",
    "new_run_id",
    "read_journal",
    "run_folder",
    "run_time",
]

TRASH = ".trash"  # a hidden folder: scans never index what is in it
_SUFFIX = ".journal"
_RUN_ID = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")

Move = tuple[int, str, str, str]  # frame id, folder (as indexed), name, path under the root


def new_run_id(trash: Path, now: float) -> str:
    """A run id from ``now`` (UTC, to the second), unique among the runs in ``trash``."""
    base = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while (trash / candidate).exists() or journal_path(trash, candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def run_time(run_id: str) -> float | None:
    """UTC seconds a run started at, from its id; None for a name that is not a run id."""
    match = _RUN_ID.match(run_id)
    if match is None:
        return None
    return datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


def journal_path(trash: Path, run_id: str) -> Path:
    return trash / f"{run_id}{_SUFFIX}"


def run_folder(trash: Path, run_id: str) -> Path:
    return trash / run_id


def journals(trash: Path) -> list[Path]:
    """The journals in ``trash``, oldest run first."""
    try:
        names = sorted(e.name for e in os.scandir(trash) if e.name.endswith(_SUFFIX))
    except FileNotFoundError:
        return []
    return [trash / n for n in names if run_time(n.removesuffix(_SUFFIX)) is not None]


@dataclass
class JournalState:
    """What a journal says (see the module's doc)."""

    header: dict[str, Any]
    batches: dict[int, list[Move]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    finished: dict[str, Any] | None = None

    @property
    def open_batches(self) -> list[int]:
        return sorted(set(self.batches) - self.done)


class Journal:
    """An open journal, appended to line by line, each line on disk before the call returns."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # O_EXCL: a run never writes into another run's journal
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self.append(header)
        storage.fsync_dir(path.parent)

    @classmethod
    def reopen(cls, path: Path) -> Journal:
        """An existing journal, to append the end of an interrupted run to."""
        self = cls.__new__(cls)
        self.path = path
        with open(path, "rb+") as raw:  # a line cut short by a kill would join the next one
            raw.seek(0, os.SEEK_END)
            if raw.tell():
                raw.seek(-1, os.SEEK_END)
                if raw.read(1) != b"\n":
                    raw.write(b"\n")
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        return self

    def append(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_journal(path: Path) -> JournalState | None:
    """The state ``path`` records; None when even its header is unreadable."""
    state: JournalState | None = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # cut short by a kill: its batch never started moving
            if not isinstance(record, dict):
                continue
            if state is None:
                if "run" not in record:
                    return None
                state = JournalState(record)
            elif "batch" in record:
                moves = [(int(m[0]), str(m[1]), str(m[2]), str(m[3])) for m in record["moves"]]
                state.batches[int(record["batch"])] = moves
            elif "done" in record:
                state.done.add(int(record["done"]))
            elif record.get("finished"):
                state.finished = record
    return state
