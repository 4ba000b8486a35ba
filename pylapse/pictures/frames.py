"""Reading many frames for one picture: decoded at a reduced scale, in parallel, memory bounded.

A picture of a day reads thousands of frames (8,640 at 10 s) and keeps a sliver of each (a row,
a column) or folds each into one running image (a stack). :func:`read_frames` decodes them on a
few threads (Pillow releases the GIL while it decodes, so threads use every core without
copying pixels between processes) and hands each decoded frame to ``take`` *on the decoding
thread*, so what is kept in flight is the sliver, not the frame. At most ``2 * workers`` frames
are in flight whatever the count, and results come back in the order of ``paths``: memory does
not grow with the number of frames.

JPEGs are decoded at 1/``scale`` of their size by DCT scaling (Pillow's ``draft``), a fraction
of a full decode's cost; other formats are decoded whole and then reduced.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from PIL import Image

from pylapse.imaging.decode import open_image
from pylapse.pictures.kinds import PictureError
from pylapse.progress import Cancelled, Progress, ProgressCallback, Throttle

__all__ = [
    "SCALES",
    "check_scale",
    "decode_reduced",
    "default_workers",
    "read_frames",
    "ticker",
]

log = logging.getLogger(__name__)

SCALES = (1, 2, 4, 8)  # what JPEG DCT scaling offers
T = TypeVar("T")


def default_workers() -> int:
    """Decoding threads: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_scale(scale: int) -> int:
    if scale not in SCALES:
        raise PictureError(f"scale: {scale!r} must be one of {', '.join(map(str, SCALES))}")
    return scale


def decode_reduced(path: str | os.PathLike[str], scale: int = 1) -> Image.Image:
    """The frame at ``path`` as RGB, 1/``scale`` of its size (rounded up, as a JPEG decoder
    does)."""
    with open_image(path) as image:
        width, height = image.size
        size = (-(-width // scale), -(-height // scale))
        if scale > 1:
            image.draft("RGB", size)  # a no-op for formats without DCT scaling
        rgb = image.convert("RGB") if image.mode != "RGB" else image.copy()
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.BOX)
    return rgb


def read_frames(
    paths: Iterable[str | os.PathLike[str] | None],
    take: Callable[[Image.Image, int], T],
    *,
    scale: int = 1,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[T | None]:
    """``take(frame, i)`` for the ``i``-th path, in order; None for a gap (a None path) or a
    frame that cannot be read (logged). Stops with :class:`Cancelled` when ``cancel`` is set."""
    check_scale(scale)
    n = workers or default_workers()

    def work(i: int, path: str | os.PathLike[str]) -> T | None:
        if cancel is not None and cancel.is_set():
            return None
        try:
            frame = decode_reduced(path, scale)
        except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises on a bad file
            log.warning("cannot read %s: %s", path, exc)
            return None
        return take(frame, i)

    pending: deque[Future[T | None] | None] = deque()
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="picture") as pool:
        try:
            for i, path in enumerate(paths):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the picture was cancelled")
                pending.append(None if path is None else pool.submit(work, i, path))
                while len(pending) > 2 * n:
                    yield _result(pending.popleft())
            while pending:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("the picture was cancelled")
                yield _result(pending.popleft())
        finally:
            for future in pending:
                if future is not None:
                    future.cancel()


def _result(future: Future[T | None] | None) -> T | None:
    return None if future is None else future.result()


def ticker(progress: ProgressCallback | None, stage: str) -> Callable[[int, int], None]:
    """A ``tick(done, total)`` that reports frames read in ``stage`` with a rate and an estimate
    of the time left, at most twice a second (the first and last always)."""
    report = Throttle(progress)
    started = time.monotonic()

    def tick(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed > 0 and done else None
        eta = (total - done) / rate if rate else None
        report(Progress(stage, done, total, rate, eta))

    return tick
