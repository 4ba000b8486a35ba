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
from typing import NamedTuple

from pylapse.config.retention import RetentionConfig
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


class Candidate(NamedTuple):
    """The index row facts a plan needs about one frame (a tuple: a day has thousands)."""

    id: int
    folder: str
    name: str
    utc: float
    offset: int  # seconds east of UTC when taken: the frame's own wall clock
    size: int | None
    sharpness: float | None


class Doomed(NamedTuple):
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
    thinned: list[Candidate] = []  # old enough to thin, not expired
    keep_cutoff, expire_cutoff = policy.keep_cutoff, policy.expire_cutoff
    for f in frames:
        if f.utc >= keep_cutoff:
            continue
        if f.utc < expire_cutoff:
            if protected and is_protected(f.utc, protected):
                saved += 1
            else:
                doomed.append(Doomed(f.id, f.folder, f.name, f.utc, f.size, Reason.EXPIRED))
        elif policy.thin is not None:
            thinned.append(f)
    if thinned and policy.thin is not None:
        saved += _thin(thinned, policy.thin, protected, doomed)
    doomed.sort(key=lambda d: (d.utc, d.id))
    return DayPlan(day, len(frames), saved, tuple(doomed))


_BEST = QualityFilter(best_in_window=True)


def _thin(
    frames: list[Candidate], width: float, protected: Sequence[Span], doomed: list[Doomed]
) -> int:
    """Add to ``doomed`` all but the kept frame of each window; returns the protected ones
    that stayed only for being protected.

    Windows are counted in each frame's own wall clock from its local midnight, so frames are
    taken in wall-clock order (DST's repeated hour puts two offsets into one window). The kept
    frame of a window follows the export's best-in-window rule: one call to
    :func:`~pylapse.selection.quality_filter.apply_filter` reads the day's sharpness (-inf
    where not measured), then :func:`~pylapse.selection.quality_filter.best_positions` over
    each window's frames alone picks the sharpest, else the first (the one nearest the
    window's start)."""
    walls = [f.utc + f.offset for f in frames]
    order = sorted(range(len(frames)), key=lambda i: (walls[i], frames[i].utc))
    times = [walls[i] for i in order]
    ids = [frames[i].id for i in order]
    scored = apply_filter(_BEST, ids, times, {"sharpness": [frames[i].sharpness for i in order]})
    assert scored.sharpness is not None  # best_in_window asks for it
    sharp = scored.sharpness
    keys = []
    for t in times:
        wall_day = math.floor(t / DAY)
        keys.append((wall_day, math.floor((t - wall_day * DAY) / width)))
    saved = 0
    lo = 0
    while lo < len(order):
        hi = lo + 1
        while hi < len(order) and keys[hi] == keys[lo]:
            hi += 1
        window = times[lo:hi]
        centre, reach = (window[0] + window[-1]) / 2, (window[-1] - window[0]) / 2 + 1.0
        (pick,) = best_positions(window, sharp[lo:hi], [centre], [0], reach)
        for j in range(lo, hi):
            if j == lo + pick:
                continue
            f = frames[order[j]]
            if protected and is_protected(f.utc, protected):
                saved += 1
            else:
                doomed.append(Doomed(f.id, f.folder, f.name, f.utc, f.size, Reason.THIN))
        lo = hi
    return saved
