"""How fast a camera's frames fill a disk, with and without its retention (pure).

A day's frames take their full size for ``keep_all_days``, then the share thinning keeps
(``thin_ratio``: frames kept per day over frames captured per day), and nothing after
``delete_after_days``. So from now on, what capture adds grows the disk by ``rate * w(t)`` per
day, ``t`` days from now, with ``w`` 1 up to ``keep_all_days``, ``thin_ratio`` up to
``delete_after_days`` and 0 after. Frames already on disk only ever shrink under retention and
are left out: the forecast errs on the side of filling sooner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from pylapse.config.retention import RetentionConfig

__all__ = ["Growth", "days_until_full", "thin_ratio"]


@dataclass(frozen=True, slots=True)
class Growth:
    """One folder's growth: ``rate`` bytes a day captured, and what retention keeps of them."""

    rate: float
    keep_all_days: float = math.inf  # inf: no retention
    thin_ratio: float = 1.0
    delete_after_days: float = math.inf

    @classmethod
    def of(cls, rate: float, retention: RetentionConfig | None, per_day: float | None) -> Growth:
        """``rate`` under ``retention`` (None or disabled: kept whole); ``per_day``: frames the
        camera captures a day (for the share thinning keeps; None: unknown, counted whole)."""
        if retention is None or not retention.enabled:
            return cls(rate)
        ratio = thin_ratio(retention.thin_minutes, per_day)
        expire = retention.delete_after_days
        return cls(rate, retention.keep_all_days, ratio, math.inf if expire is None else expire)

    def share(self, t: float) -> float:
        """``w(t)``: the share of a day's bytes still on disk ``t`` days after capture."""
        if t < self.keep_all_days:
            return 1.0
        return self.thin_ratio if t < self.delete_after_days else 0.0


def thin_ratio(thin_minutes: float | None, per_day: float | None) -> float:
    """The share of a day's frames that thinning to one per ``thin_minutes`` keeps."""
    if thin_minutes is None or not per_day or per_day <= 0:
        return 1.0
    return min(1.0, (1440.0 / thin_minutes) / per_day)


def days_until_full(free: float, growths: Iterable[Growth]) -> float | None:
    """Days until ``free`` bytes are used by the folders growing as ``growths``; None when
    they never are (nothing is written, or retention stops the growth in time)."""
    items = [g for g in growths if g.rate > 0]
    if not items:
        return None
    edges = sorted({0.0, *(t for g in items for t in (g.keep_all_days, g.delete_after_days)
                          if math.isfinite(t))})  # fmt: skip
    used = 0.0
    for start, stop in zip(edges, [*edges[1:], math.inf], strict=True):
        speed = sum(g.rate * g.share(start) for g in items)
        if speed <= 0:
            continue
        if used + speed * (stop - start) >= free:
            return start + (free - used) / speed
        used += speed * (stop - start)
    return None
