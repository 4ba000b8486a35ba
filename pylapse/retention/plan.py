"""What a retention run removes, decided from index rows and the camera's policy (pure).

A run plans one local day at a time (:func:`plan_day`), so memory never grows with the archive
and the preview (``--dry-run``) and the real run decide with the very same function: the real
run moves exactly what the preview listed, day by day.

Rules, for frames older than ``keep_all_days``:
    * older than ``delete_after_days`` and not protected: removed (``expired``);
    * otherwise, with ``thin_minutes``, one frame per window of that many minutes of the frame's
      own wall clock, counted from its local midnight, stays: the best of the window as the
      export's "best in window" judges it (:func:`pylapse.selection.quality_filter.best_positions`:
      the sharpest measured frame, the earliest of equally sharp ones; without any measured frame,
      the window's first frame, the one nearest its start). Protected frames always stay, and
      the best is chosen among all the window's frames, protected ones included.
Frames younger than ``keep_all_days`` are never looked at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pylapse.config.models import RetentionConfig
from pylapse.retention.protect import Span, is_protected
from pylapse.selection.quality_filter import QualityFilter, apply_filter, best_positions

__all__ = ["Candidate", "DayPlan", "Doomed", "Policy", "Reason", "plan_day"]

DAY = 86400.0


class Reason(StrEnum):
    THIN = "thin"  # not the kept frame of its thinning window
    EXPIRED = "expired"  # older than delete_after_days


@dataclass(frozen=True, slots=True)
class Policy:
    """A camera's retention in seconds, with ``now`` fixed for the whole run."""

    now: float  # UTC seconds the ages are counted from
    keep_all: float  # seconds every frame is kept
    thin: float | None  # window length in seconds; None: no thinning
    expire: float | None  # seconds after which frames go; None: never

    @classmethod
    def of(cls, retention: RetentionConfig, now: float) -> Policy:
        return cls(
            now,
            retention.keep_all_days * DAY,
            None if retention.thin_minutes is None else retention.thin_minutes * 60.0,
            None if retention.delete_after_days is None else retention.delete_after_days * DAY,
        )

    @property
    def keep_cutoff(self) -> float:
        """Frames taken at or after this instant are all kept."""
        return self.now - self.keep_all

    @property
    def expire_cutoff(self) -> float:
        """Frames taken before this instant go (unless protected); -inf: none do."""
        return -math.inf if self.expire is None else self.now - self.expire


@dataclass(frozen=True, slots=True)
class Candidate:
    """The index row facts a plan needs about one frame."""

    id: int
    folder: str
    name: str
    utc: float
    offset: int  # seconds east of UTC when taken: the frame's own wall clock
    size: int | None
    sharpness: float | None


@dataclass(frozen=True, slots=True)
class Doomed:
    """A frame the run moves to the trash, and why."""

    id: int
    folder: str
    name: str
    utc: float
    size: int | None
    reason: Reason


@dataclass(frozen=True)
class DayPlan:
    """One local day: what it holds and what goes."""

    day: date
    frames: int  # indexed that day
    protected: int  # frames kept because protected (that would otherwise have gone)
    doomed: tuple[Doomed, ...] = field(default=())

    @property
    def kept(self) -> int:
        return self.frames - len(self.doomed)

    def count(self, reason: Reason) -> int:
        return sum(1 for d in self.doomed if d.reason is reason)

    @property
    def bytes(self) -> int:
        """Bytes of the doomed frames whose size is known (see :attr:`unsized`)."""
        return sum(d.size or 0 for d in self.doomed)

    @property
    def unsized(self) -> int:
        return sum(1 for d in self.doomed if d.size is None)


def plan_day(
    day: date, frames: Sequence[Candidate], policy: Policy, protected: Sequence[Span]
) -> DayPlan:
    """What goes of ``frames`` (one local day's, in time order) under ``policy``."""
    doomed: list[Doomed] = []
    saved = 0
    windows: dict[tuple[int, int], list[int]] = {}  # (wall day, window) -> positions
    for i, f in enumerate(frames):
        if f.utc >= policy.keep_cutoff:
            continue
        shielded = is_protected(f.utc, protected)
        if f.utc < policy.expire_cutoff:
            if shielded:
                saved += 1
            else:
                doomed.append(_doom(f, Reason.EXPIRED))
            continue
        if policy.thin is not None:
            wall = f.utc + f.offset
            wall_day = math.floor(wall / DAY)
            key = (wall_day, math.floor((wall - wall_day * DAY) / policy.thin))
            windows.setdefault(key, []).append(i)
    for positions in windows.values():
        best = positions[_best(frames, positions)]
        for i in positions:
            if i == best:
                continue
            if is_protected(frames[i].utc, protected):
                saved += 1
            else:
                doomed.append(_doom(frames[i], Reason.THIN))
    doomed.sort(key=lambda d: (d.utc, d.id))
    return DayPlan(day, len(frames), saved, tuple(doomed))


def _best(frames: Sequence[Candidate], positions: list[int]) -> int:
    """Index into ``positions`` (one window's frames) of the frame the window keeps, by the
    export's best-in-window rule over the frames' own wall clock."""
    walls = [frames[i].utc + frames[i].offset for i in positions]
    # DST's repeated hour can put a window's frames out of wall-clock order
    order = sorted(range(len(positions)), key=lambda j: (walls[j], frames[positions[j]].utc))
    ids = [frames[positions[j]].id for j in order]
    times = [walls[j] for j in order]
    sharp = [frames[positions[j]].sharpness for j in order]
    scored = apply_filter(QualityFilter(best_in_window=True), ids, times, {"sharpness": sharp})
    assert scored.sharpness is not None  # best_in_window asks for it
    # one target whose tolerance covers exactly this window's frames; the first of them is
    # the one nearest the window's start (kept when none was measured)
    centre, reach = (times[0] + times[-1]) / 2, (times[-1] - times[0]) / 2 + 1.0
    (pick,) = best_positions(times, scored.sharpness, [centre], [0], reach)
    return order[pick]


def _doom(f: Candidate, reason: Reason) -> Doomed:
    return Doomed(f.id, f.folder, f.name, f.utc, f.size, reason)
