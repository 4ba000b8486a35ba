"""Pictures of new frames made ahead of time, so the first look at a day finds them ready.

A :class:`ThumbMaker` is one background thread with a bounded queue. Capture hands it each
frame it saved (:meth:`ThumbMaker.submit`, which never waits: when the queue is full the frame
is left out and its pictures are made when first asked for, as before). When the queue is
empty the thread asks a :class:`FrameFeed` for frames indexed since it last looked (scans, or
capture by another process) and keeps the newest :data:`BACKLOG` of them, so a first scan of a
million frames costs the maker its latest week or so, not a million pictures.

The thread runs at a lower CPU priority where the platform allows it (Linux: per thread), so
capture and scans sharing the cores come first. Nothing is kept but the pictures themselves,
named by frame id, mtime, size and path (:mod:`pylapse.imaging.thumbs`): after a restart the
made ones are found again, and a replaced file gets new ones.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pylapse import storage
from pylapse.imaging import thumbs

__all__ = ["FrameFeed", "ThumbMaker"]

log = logging.getLogger(__name__)

CAPACITY = 256  # captured frames waiting (a camera shooting every 5 minutes: ~a day)
BACKLOG = 2000  # newly indexed frames kept to make, newest first (~a week of such a camera)
POLL_SECONDS = 2.0  # how often the feed is asked for newly indexed frames
NICENESS = 10  # added to the maker thread's priority (Linux)


class FrameFeed(Protocol):
    """Where frames indexed by others (scans, another process's capture) come from."""

    def newest_id(self) -> int:
        """The largest frame id in the index (0 when empty)."""
        ...

    def frames_after(self, after: int, limit: int) -> Sequence[thumbs.FrameFile]:
        """Up to ``limit`` frames with an id above ``after``, newest (largest id) first."""
        ...

    def get(self, frame_id: int) -> thumbs.FrameFile | None:
        """The frame of this id as indexed now (None when it is gone)."""
        ...


Roots = Callable[[], Iterable[str | os.PathLike[str]]]


class ThumbMaker:
    """Makes the ``sizes`` pictures of frames in ``cache_dir`` on a background thread.

    ``roots`` gives the folders frames may be read from (checked per file, as when serving).
    """

    def __init__(
        self,
        cache_dir: Path,
        roots: Roots,
        *,
        feed: FrameFeed | None = None,
        sizes: Sequence[str] = ("thumb", "preview"),
        capacity: int = CAPACITY,
        backlog: int = BACKLOG,
        poll_seconds: float = POLL_SECONDS,
        budget: int = thumbs.CACHE_BUDGET,
    ) -> None:
        for size in sizes:
            if size not in thumbs.SIZES:
                raise ValueError(f"unknown picture size {size!r}")
        self.cache_dir = cache_dir
        self._roots = roots
        self._feed = feed
        self.sizes = tuple(sizes)
        self.poll_seconds = poll_seconds
        self.budget = budget
        # a frame, or the id of one to read from the feed on the maker's thread (capture's
        # hook: the capturing thread does not wait for a database read); None wakes it to stop
        self._queue: queue.Queue[thumbs.FrameFile | int | None] = queue.Queue(
            maxsize=max(1, capacity)
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cursor = 0  # the newest frame id the feed was read up to
        self._poll_lock = threading.Lock()
        self._roots_at: tuple[float, list[str | os.PathLike[str]]] | None = None
        # frames the feed found, newest first, made when the queue is empty
        self._backlog: collections.deque[thumbs.FrameFile] = collections.deque(
            maxlen=max(1, backlog)
        )
        self._busy = 0  # frames taken from the queue and not yet done
        self._idle = threading.Condition()
        self.made = 0  # pictures written
        self.dropped = 0  # frames left out because the queue was full
        self.failed = 0  # frames whose file was gone, unreadable or outside the roots

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        if self._feed is not None:
            # Frames indexed before this start are not the maker's: they are made on request.
            try:
                self._cursor = self._feed.newest_id()
            except Exception:  # the maker is a nicety: it never stops the program starting
                log.warning("thumbnails are made on request only: the index is unreadable")
                self._feed = None
        self._stop.clear()
        self._queue = queue.Queue(maxsize=self._queue.maxsize)  # nothing left from a stop
        self._backlog.clear()
        self._thread = threading.Thread(target=self._run, name="pylapse-thumbs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the picture in hand (frames still waiting are made on request)."""
        self._stop.set()
        with contextlib.suppress(queue.Full):  # full: the thread is busy and sees _stop soon
            self._queue.put_nowait(None)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- feeding --------------------------------------------------------------------------------

    def submit(self, frame: thumbs.FrameFile | int) -> bool:
        """Queue ``frame``'s pictures (a frame, or a frame id when there is a feed to read it
        from); never waits. False when the queue is full (or the maker is not running): its
        pictures are then made when first asked for."""
        if not self.running:
            return False
        try:
            self._queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued or being made (tests, benchmarks); the feed is read
        first. True when idle, False on timeout."""
        self.poll()
        with self._idle:
            return self._idle.wait_for(
                lambda: self._queue.unfinished_tasks == 0 and not self._backlog and not self._busy,
                timeout,
            )

    def poll(self) -> int:
        """Add the frames the feed indexed since the last look to the backlog (newest first,
        at most ``backlog`` of them); returns how many."""
        if self._feed is None or not self.running:
            return 0
        with self._poll_lock:
            try:
                newest = self._feed.newest_id()
                if newest <= self._cursor:
                    return 0
                frames = self._feed.frames_after(self._cursor, self._backlog.maxlen or 1)
            except Exception:  # a busy or closed database: look again next time
                log.debug("reading newly indexed frames failed", exc_info=True)
                return 0
            self._cursor = newest
            # newer than all waiting: to the front, the oldest falling off the back (to be
            # made on request, like frames older than the newest ``backlog`` of a big scan)
            self._backlog.extendleft(reversed(frames))
            with contextlib.suppress(queue.Full):  # wake the thread (full: it is busy anyway)
                self._queue.put_nowait(None)
            return len(frames)

    # --- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        _lower_priority()
        while not self._stop.is_set():
            item, queued = self._next()
            if item is None:
                if queued:
                    self._queue.task_done()
                if self._stop.is_set():
                    break
                self.poll()
                continue
            with self._idle:
                self._busy += 1
            try:
                self._make(item)
            finally:
                if queued:
                    self._queue.task_done()
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _next(self) -> tuple[thumbs.FrameFile | int | None, bool]:
        """The next frame (capture's first, then the backlog) and whether it came from the
        queue; ``(None, ...)`` when there was nothing for ``poll_seconds`` (or a stop)."""
        try:
            return self._queue.get_nowait(), True
        except queue.Empty:
            pass
        try:
            return self._backlog.popleft(), False
        except IndexError:
            pass
        try:
            return self._queue.get(timeout=self.poll_seconds), True
        except queue.Empty:
            return None, False

    def _current_roots(self) -> list[str | os.PathLike[str]]:
        """The roots, asked for again at most every ``poll_seconds`` (a config change reaches
        the maker within that; building them for every frame would cost more than a picture)."""
        now = time.monotonic()
        if self._roots_at is None or now - self._roots_at[0] >= self.poll_seconds:
            self._roots_at = (now, list(self._roots()))
        return self._roots_at[1]

    def _make(self, item: thumbs.FrameFile | int) -> None:
        frame: thumbs.FrameFile | None
        if isinstance(item, int):
            try:
                frame = self._feed.get(item) if self._feed is not None else None
            except Exception:  # a busy or closed database: made on request instead
                log.debug("reading frame %s failed", item, exc_info=True)
                frame = None
            if frame is None:
                return
        else:
            frame = item
        try:
            roots = self._current_roots()
            for size in self.sizes:
                if self._stop.is_set():
                    return
                if thumbs.thumbnail_path(self.cache_dir, frame, size).is_file():
                    continue
                thumbs.thumbnail(self.cache_dir, frame, self.budget, roots=roots, size=size)
                self.made += 1
        except (thumbs.ThumbnailError, storage.PathNotAllowed, OSError) as exc:
            # made (and its problem told) when someone asks for it
            self.failed += 1
            log.debug("no picture of frame %s ahead of time: %s", frame.id, exc)
        except Exception:  # never let one odd file end the thread
            self.failed += 1
            log.exception("making the pictures of frame %s failed", frame.id)


def _lower_priority() -> None:
    """Let capture and scans come first on the cores. Only on Linux, where ``setpriority`` of a
    thread id changes that thread alone (elsewhere the id would be read as a process id)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError):  # not permitted: run at normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
