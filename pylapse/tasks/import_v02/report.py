"""What an import of pyLapse 0.2's files took, skipped and why, and the error a file that cannot be
read raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class ImportV02Error(ValueError):
    """A 0.2 file that cannot be read; the message names the file and the problem."""


class Outcome(StrEnum):
    ADDED = "added"
    PRESENT = "already there"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ReportItem:
    """One thing found in the 0.2 files and what became of it."""

    what: str  # "collection", "export preset", "export run" or "video"
    name: str  # as 0.2 called it
    outcome: Outcome
    target: str = ""  # our id: the collection, the preset, or the job ("job #12")
    note: str = ""  # why it was skipped, renamed, or what was left out
    origin: str = ""  # its id in the 0.2 file

    def line(self, dry_run: bool = False) -> str:
        verb = {
            Outcome.ADDED: "would add" if dry_run else "added",
            Outcome.PRESENT: "already there:",
            Outcome.SKIPPED: "skipped",
        }[self.outcome]
        text = f"{verb} {self.what} {self.name!r}"
        if self.origin:
            text += f" (0.2 id {self.origin})"
        if self.target:
            text += f" as {self.target if self.target.startswith('job #') else repr(self.target)}"
        return text + (f": {self.note}" if self.note else "")


@dataclass
class ImportReport:
    """What an import took from the 0.2 files, what it skipped and why."""

    source: Path
    files: list[Path]
    dry_run: bool = False
    items: list[ReportItem] = field(default_factory=list)
    config_saved: Path | None = None  # the config file written (None: nothing to add)

    def count(self, what: str, outcome: Outcome | None = None) -> int:
        return sum(1 for i in self.items if i.what == what and outcome in (None, i.outcome))

    @property
    def added(self) -> int:
        return sum(1 for i in self.items if i.outcome is Outcome.ADDED)

    @property
    def summary(self) -> str:
        parts = []
        for what in ("collection", "export preset", "export run", "video"):
            total = self.count(what)
            if total:
                counts = ", ".join(f"{n} {o.value}" for o in Outcome if (n := self.count(what, o)))
                parts.append(f"{total} {what}{'s' if total != 1 else ''} ({counts})")
        found = "; ".join(parts) if parts else "nothing to import"
        head = "pyLapse 0.2 data (dry run, nothing written)" if self.dry_run else "pyLapse 0.2 data"
        return f"{head} in {self.source}: {found}"

    def lines(self) -> list[str]:
        return [self.summary, *(f"  {item.line(self.dry_run)}" for item in self.items)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "files": [str(f) for f in self.files],
            "dry_run": self.dry_run,
            "summary": self.summary,
            "config_saved": str(self.config_saved) if self.config_saved else None,
            "items": [
                {
                    "what": i.what,
                    "name": i.name,
                    "outcome": i.outcome.value,
                    "target": i.target,
                    "note": i.note,
                }
                for i in self.items
            ],
        }
