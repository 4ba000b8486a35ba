"""What one scan of a collection found and did (:class:`ScanResult`), shared by the walking
half (:mod:`pylapse.index.scan`) and the writing half (:mod:`pylapse.index.scan_writer`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MAX_OUTSIDE_SHOWN", "ScanResult"]

_MAX_PROBLEMS = 20
MAX_OUTSIDE_SHOWN = 5  # links out of the roots named in a result (all are counted)


@dataclass
class ScanResult:
    """What a scan found and did."""

    collection: str
    root: Path
    added: int = 0
    changed: int = 0
    deleted: int = 0
    parsed: int = 0  # files whose time was read (name, EXIF or mtime); 0 on a no-change rescan
    skipped: int = 0  # files left out: no usable time, or unreadable
    dirs_listed: int = 0
    dirs_skipped: int = 0  # unchanged since their last listing: not listed
    dirs_deleted: int = 0
    total: int = 0  # frames of the collection after the scan
    elapsed: float = 0.0
    problems: list[str] = field(default_factory=list)  # the first few, for the user
    # symlinks not followed because their target is outside the roots (not in ``skipped``)
    links_outside: int = 0
    outside_paths: list[str] = field(default_factory=list)  # the first few of them
    # frames read whose file proves no offset (they take their neighbours' or the zone's)
    dependent: int = 0
    zone_change: str = ""  # "Europe/Paris -> Asia/Tokyo" when the zone changed since last scan
    reresolved: int = 0  # frames whose offset changed when neighbours and zones were re-read
    reresolved_examples: list[str] = field(default_factory=list)  # the first few, described
    # image files of a type the collection's extensions leave out, per extension, in the
    # folders listed (not in ``skipped``): ".heic" -> 12
    left_out_types: dict[str, int] = field(default_factory=dict)
    extensions_changed: bool = False  # every folder was re-listed for a new set of extensions

    # local (wall-clock) seconds spanned by the rows this scan wrote or deleted, or None
    touched: tuple[float, float] | None = None

    def touch(self, lo: float, hi: float) -> None:
        if self.touched is not None:
            lo, hi = min(lo, self.touched[0]), max(hi, self.touched[1])
        self.touched = (lo, hi)

    def note(self, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)

    def note_outside(self, path: str) -> None:
        self.links_outside += 1
        if len(self.outside_paths) < MAX_OUTSIDE_SHOWN:
            self.outside_paths.append(path)

    @property
    def outside_message(self) -> str:
        """What was left out for pointing outside the roots ("" when nothing was)."""
        if not self.links_outside:
            return ""
        more = self.links_outside - len(self.outside_paths)
        shown = ", ".join(self.outside_paths) + (f" and {more} more" if more > 0 else "")
        return (
            f"{self.links_outside} symlink(s) pointing outside the storage roots not indexed: "
            f"{shown}"
        )

    @property
    def summary(self) -> str:
        outside = f", {self.links_outside} links out of the roots" if self.links_outside else ""
        zone = ""
        if self.zone_change:
            zone = f"; zone changed ({self.zone_change})"
        if self.zone_change or self.reresolved:
            zone += f": {self.reresolved} frame(s) re-read with a new offset"
        if self.left_out_types:
            types = ", ".join(f"{n} {ext}" for ext, n in sorted(self.left_out_types.items()))
            outside += f", {types} left out by the collection's extensions"
        return (
            f"{self.collection}: {self.total} frames (+{self.added} new, {self.changed} changed, "
            f"-{self.deleted} gone, {self.skipped} skipped{outside}); {self.dirs_listed} folders "
            f"listed, {self.dirs_skipped} unchanged; {self.elapsed:.2f} s{zone}"
        )
