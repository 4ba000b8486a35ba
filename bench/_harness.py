"""Shared helpers for the benchmarks in this folder (``./bench.sh NAME``).

Every benchmark measures something of ours against a baseline measured in the same run, on the
same data, and prints one line per measure::

    measure                          ours   baseline   ratio  goal          result
    cold scan vs scandir walk       2.31 s    0.74 s   3.12x  <= 3x         MISS

A goal is either a ratio to the baseline (:meth:`Goal.ratio`) or an absolute time
(:meth:`Goal.seconds`); informational lines have no goal. Times are ``time.perf_counter``
durations; :func:`best_of` keeps the fastest of N runs (the least disturbed by other work).
"""

from __future__ import annotations

import gc
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Goal", "Measure", "Report", "best_of", "fmt_seconds", "timed"]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """``(seconds, result)`` of one call of ``fn`` (garbage collection paused meanwhile)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result
    finally:
        if was_enabled:
            gc.enable()


def best_of(
    fn: Callable[[], object], repeat: int = 3, setup: Callable[[], object] | None = None
) -> float:
    """The fastest of ``repeat`` timed calls of ``fn``; ``setup`` runs untimed before each."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        if setup is not None:
            setup()
        seconds, _ = timed(fn)
        best = min(best, seconds)
    return best


def fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass(frozen=True)
class Goal:
    """What a measure must achieve: ``ours / baseline <= limit`` or ``ours <= limit`` s."""

    kind: str  # "ratio", "seconds" or "info"
    limit: float = 0.0

    @classmethod
    def ratio(cls, limit: float) -> Goal:
        return cls("ratio", limit)

    @classmethod
    def seconds(cls, limit: float) -> Goal:
        return cls("seconds", limit)

    @classmethod
    def info(cls) -> Goal:
        return cls("info")

    def text(self) -> str:
        if self.kind == "ratio":
            return f"<= {self.limit:g}x"
        if self.kind == "seconds":
            return f"<= {fmt_seconds(self.limit)}"
        return "-"

    def met(self, ours: float, baseline: float | None) -> bool | None:
        if self.kind == "ratio":
            return baseline is not None and baseline > 0 and ours / baseline <= self.limit
        if self.kind == "seconds":
            return ours <= self.limit
        return None


@dataclass(frozen=True)
class Measure:
    name: str
    ours: float
    baseline: float | None
    goal: Goal

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline <= 0:
            return None
        return self.ours / self.baseline

    @property
    def verdict(self) -> str:
        met = self.goal.met(self.ours, self.baseline)
        return "" if met is None else ("PASS" if met else "MISS")

    def line(self, width: int) -> str:
        baseline = fmt_seconds(self.baseline) if self.baseline is not None else "-"
        ratio = f"{self.ratio:.3g}x" if self.ratio is not None else "-"
        return (
            f"{self.name:<{width}}  {fmt_seconds(self.ours):>10}  {baseline:>10}  {ratio:>8}  "
            f"{self.goal.text():<10}  {self.verdict}"
        ).rstrip()


@dataclass
class Report:
    """Collects measures, prints each as it comes and a closing verdict."""

    title: str
    width: int = 36
    measures: list[Measure] = field(default_factory=list)
    _header_done: bool = False

    def add(self, name: str, ours: float, baseline: float | None, goal: Goal) -> Measure:
        if not self._header_done:
            print(self.title)
            header = (
                f"{'measure':<{self.width}}  {'ours':>10}  {'baseline':>10}  {'ratio':>8}  "
                f"{'goal':<10}  result"
            )
            print(header)
            self._header_done = True
        measure = Measure(name, ours, baseline, goal)
        self.measures.append(measure)
        print(measure.line(self.width), flush=True)
        return measure

    @property
    def missed(self) -> list[Measure]:
        return [m for m in self.measures if m.verdict == "MISS"]

    def finish(self) -> int:
        """Print the summary; the exit status is 1 when a goal was missed."""
        goals = [m for m in self.measures if m.verdict]
        missed = self.missed
        print(f"{len(goals) - len(missed)}/{len(goals)} goals met", file=sys.stdout, flush=True)
        return 1 if missed else 0


def publish_tree(building: Path, root: Path, marker: Path, started: float) -> Path:
    """Move a benchmark tree built in ``building`` to ``root`` and mark it complete (a tree whose
    marker is missing was cut short and is built again)."""
    marker.unlink(missing_ok=True)
    if root.exists():
        shutil.rmtree(root)
    building.rename(root)
    marker.write_text("complete\n")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return root
