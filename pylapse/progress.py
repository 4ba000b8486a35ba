"""Progress reports that long work sends up to whoever runs it (CLI bar, job runner, browser)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Cancelled", "Progress", "ProgressCallback", "Throttle", "safe_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Progress:
    stage: str  # "select", "process", "encode", "scan", ...
    done: int
    total: int
    rate: float | None = None  # items per second
    eta: float | None = None  # seconds left
    message: str = ""

    @property
    def percent(self) -> float:
        """0-100, clamped; 0 while the total is unknown."""
        if self.total <= 0:
            return 0.0
        return max(0.0, min(100.0, 100.0 * self.done / self.total))


ProgressCallback = Callable[[Progress], None]


class Cancelled(Exception):
    """The work was cancelled through its ``cancel`` event."""


def safe_report(callback: ProgressCallback | None, progress: Progress) -> None:
    """Call ``callback``; a failing callback is logged, never allowed to break the work."""
    if callback is None:
        return
    try:
        callback(progress)
    except Exception:  # a UI hiccup must not kill a render or an export
        log.exception("progress callback failed (ignored)")


class Throttle:
    """Pass on at most one report per ``interval`` seconds, always the first and the last.

    Stage changes always pass, so a listener never misses the switch from select to encode.
    """

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.5) -> None:
        self._callback = callback
        self._interval = interval
        self._last = 0.0
        self._stage: str | None = None
        self._lock = threading.Lock()

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        with self._lock:
            final = progress.total > 0 and progress.done >= progress.total
            if not (final or progress.stage != self._stage or now - self._last >= self._interval):
                return
            self._last, self._stage = now, progress.stage
        safe_report(self._callback, progress)
