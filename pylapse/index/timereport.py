"""What a collection's frame times rest on, for people: counts per source and status, and one
record per frame (``pylapse import --report``, the collection page, the frame API)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pylapse import timeutil
from pylapse.index.frame import Frame

__all__ = ["FLAGGED", "STATUSES", "TimeCounts", "frame_record", "utc_offset_text"]

STATUSES = ("certain", "inferred", "assumed", "conflict", "implausible", "unknown")
FLAGGED = ("conflict", "implausible")
UNKNOWN = "unknown"


@dataclass
class TimeCounts:
    """Frames per status, per wall-clock source and per offset source."""

    status: Counter[str] = field(default_factory=Counter)
    time_source: Counter[str] = field(default_factory=Counter)
    offset_source: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, counts: Mapping[tuple[str, str, str], int]) -> TimeCounts:
        """From :meth:`pylapse.index.store.FrameIndex.time_counts`."""
        out = cls()
        for (time_source, offset_source, status), n in counts.items():
            out.status[status] += n
            out.time_source[time_source] += n
            out.offset_source[offset_source] += n
        return out

    @property
    def flagged(self) -> int:
        return sum(self.status[s] for s in FLAGGED)

    def statuses(self) -> list[tuple[str, int]]:
        """Statuses in order of trust, those with frames only."""
        return [(s, self.status[s]) for s in STATUSES if self.status[s]] + [
            (s, n) for s, n in self.status.items() if s not in STATUSES and n
        ]

    def lines(self) -> list[str]:
        """Three lines: by status, by time source, by offset source."""
        return [
            "status: " + _join(self.statuses()),
            "time from: " + _join(self.time_source.most_common()),
            "offset from: " + _join(self.offset_source.most_common()),
        ]

    def as_json(self) -> dict[str, dict[str, int]]:
        return {
            "status": dict(self.statuses()),
            "time_source": dict(self.time_source.most_common()),
            "offset_source": dict(self.offset_source.most_common()),
        }


def _join(items: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {n}" for name, n in items) or "none"


def utc_offset_text(frame: Frame) -> str | None:
    """``"+09:00"``, or ``None`` when the offset's origin is unknown (indexed before it was
    recorded)."""
    if frame.offset_source is None:
        return None
    return timeutil.offset_text(frame.offset, ":")


def frame_record(frame: Frame) -> dict[str, Any]:
    """One frame as ``pylapse import --report`` writes it."""
    return {
        "path": str(frame.path),
        "local_time": frame.time.replace(tzinfo=None).isoformat(),
        "utc_offset": utc_offset_text(frame),
        "time_source": frame.time_source or UNKNOWN,
        "offset_source": frame.offset_source or UNKNOWN,
        "status": frame.time_status or UNKNOWN,
        "reason": frame.time_reason or "",
    }
