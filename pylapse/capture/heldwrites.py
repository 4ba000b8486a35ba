"""Health writes held in memory while the data folder's disk is full.

A full disk never makes a health write fail: :class:`~pylapse.capture.health.HealthStore`
holds each write here, in order, and writes them in one transaction once the disk has room
again. Capture pauses meanwhile, so only a few come (one per camera and state change); past
:data:`MAX_HELD_WRITES` the oldest are dropped and counted, so the resume can say how many.
The store's lock guards it: it is not thread-safe on its own.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path

from pylapse.capture import disk

__all__ = ["MAX_HELD_WRITES", "RESUME_FREE_BYTES", "HeldWrites"]

# Writes held while the disk is full. Capture pauses then, so only a few come (one per camera
# and state change); past this many the oldest are dropped and the resume says how many.
MAX_HELD_WRITES = 1000
# Free space the data folder's disk needs before held writes are tried again: room for them
# and the next frames' rows (a frame adds about 35 KB to the WAL). Without it a disk kept
# full by someone else would flap between paused and resumed at every slot, as each small
# write finds a few bytes.
RESUME_FREE_BYTES = 1024 * 1024


class HeldWrites:
    """The writes held while ``data_path``'s disk is full, and why they are."""

    def __init__(self, data_path: Path) -> None:
        self.data_path = data_path
        self.reason: str | None = None  # why writes are held (the data folder's disk is full)
        self.writes: collections.deque[Callable[[], object]] = collections.deque()
        self.dropped = 0  # writes dropped to keep MAX_HELD_WRITES

    def start(self) -> bool:
        """The disk is full: hold writes from now on. True when this starts the pause (False
        if it was on already)."""
        if self.reason is not None:
            return False
        self.reason = disk.data_full_reason(self.data_path)
        return True

    def hold(self, write: Callable[[], object]) -> None:
        if len(self.writes) >= MAX_HELD_WRITES:
            self.writes.popleft()
            self.dropped += 1
        self.writes.append(write)

    def has_room(self) -> bool:
        """Whether the disk has room to try the held writes again (True when its free space
        cannot be told: the writes themselves decide then)."""
        try:
            return disk.free_bytes(self.data_path) >= RESUME_FREE_BYTES
        except OSError:
            return True

    def clear(self) -> None:
        """The pause is over: the held writes were written, or given up."""
        self.writes.clear()
        self.reason, self.dropped = None, 0
