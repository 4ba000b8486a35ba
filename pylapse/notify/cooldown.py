"""Cooldown: at most one message per rule and subject in each ``cooldown`` seconds.

A camera that drops off the network every other minute must not send a hundred messages: after
a rule sent a message about a subject, further events of that rule and subject are held back
until the cooldown has passed. The last one held back is not lost: when the cooldown ends it
goes out (the *trailing* message), saying how many were held back, so a camera that flapped and
stayed offline is last reported offline, never "back". Subjects cool down separately: two
cameras going offline are two messages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Admission", "Cooldown", "Held"]

_E = TypeVar("_E")


@dataclass(frozen=True)
class Admission:
    """What to do with an event: send it now, or (``flush_at`` set) hold it and, if this is the
    first one held in the window, flush the key at ``flush_at`` (monotonic seconds)."""

    send: bool
    flush_at: float | None = None


@dataclass(frozen=True)
class Held(Generic[_E]):
    """The latest event held back for a key, and how many were held back in all."""

    event: _E
    count: int


class Cooldown(Generic[_E]):
    """Per (rule, subject): when a message last went out, and what waits; thread-safe.

    ``clock`` is monotonic seconds (tests pass their own, so no test waits for real time).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], Held[_E]] = {}

    def admit(self, rule_id: str, subject: str, cooldown: float, event: _E) -> Admission:
        """Send now (the clock for this key starts again), or hold ``event`` back."""
        key = (rule_id, subject)
        now = self.clock()
        with self._lock:
            last = self._sent.get(key)
            before = self._held.get(key)
            # while a flush is planned, it sends the newest event: sending this one now would
            # let the flush deliver an older one after it
            if before is None and (last is None or now - last >= cooldown):
                self._sent[key] = now
                return Admission(True)
            self._held[key] = Held(event, (before.count if before else 0) + 1)
            # only the first held event schedules the flush; later ones replace what it sends
            return Admission(False, (last or now) + cooldown if before is None else None)

    def flush(self, rule_id: str, subject: str) -> Held[_E] | None:
        """The event held back for this key (taking it; its window starts now), or None."""
        key = (rule_id, subject)
        with self._lock:
            held = self._held.pop(key, None)
            if held is not None:
                self._sent[key] = self.clock()
            return held

    def forget(self, rule_id: str) -> None:
        """Drop what is known of a rule (it was removed or changed)."""
        with self._lock:
            for key in [k for k in self._sent if k[0] == rule_id]:
                del self._sent[key]
            for key in [k for k in self._held if k[0] == rule_id]:
                del self._held[key]
