"""Reading many frames for one picture: decoded at a reduced scale, in parallel, memory bounded.

A picture of a day reads thousands of frames (8,640 at 10 s) and keeps a sliver of each (a row,
a column) or folds each into one running image (a stack). :func:`read_frames` decodes them in
chunks on an executor and hands each decoded frame to ``take`` *where it was decoded*, so what
comes back is the sliver, not the frame. The executor is a process pool where the caller has
one (the job and the CLI pass pyLapse's export pool: Pillow's JPEG decoder holds the GIL for
much of its work, so threads of one process scale poorly, measured in ``./bench.sh pictures``),
else threads of this process. At most ``3 * workers`` chunks are in flight whatever the count,
and results come back in the order of ``paths``: memory does not grow with the number of
frames.

JPEGs are decoded at 1/``scale`` of their size by DCT scaling (Pillow's ``draft``), a fraction
of a full decode's cost; other formats are decoded whole and then reduced.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
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
    "map_chunks",
    "read_frames",
    "read_one",
    "ticker",
]

log = logging.getLogger(__name__)

SCALES = (1, 2, 4, 8)  # what JPEG DCT scaling offers
T = TypeVar("T")
R = TypeVar("R")


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
    image = open_image(path)
    try:
        width, height = image.size
        size = (-(-width // scale), -(-height // scale))
        if scale > 1:
            image.draft("RGB", size)  # a no-op for formats without DCT scaling
        image.load()  # a single-frame file is closed once loaded: no copy needed to keep it
    except BaseException:
        image.close()
        raise
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.BOX)
    return rgb


Item = tuple[int, "str | os.PathLike[str] | None"]  # (position, path or None for a gap)
CHUNK = 16  # frames a worker reads per task: few enough that cancel answers quickly


def map_chunks(
    paths: Iterable[str | os.PathLike[str] | None],
    work: Callable[[list[Item]], R],
    *,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
    chunk: int = CHUNK,
) -> Iterator[tuple[int, R]]:
    """``(items in the chunk, work(chunk))`` for consecutive chunks of ``(i, path)``, in order,
    at most ``3 * workers`` chunks in flight (so workers never wait on a busy collector).
    ``executor``: where ``work`` runs (a process pool: ``work`` and what it returns must
    pickle); default threads of this process. Stops with :class:`Cancelled` when ``cancel`` is
    set."""
    n = workers or default_workers()
    own = executor is None
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="picture") if own else executor
    assert pool is not None
    pending: deque[tuple[int, Future[R]]] = deque()
    try:
        items = enumerate(paths)
        while True:
            batch: list[Item] = list(itertools.islice(items, chunk))
            if cancel is not None and cancel.is_set():
                raise Cancelled("the picture was cancelled")
            if batch:
                pending.append((len(batch), pool.submit(work, batch)))
            while pending and (len(pending) > 3 * n or not batch):
                size, future = pending.popleft()
                yield size, future.result()
            if not batch:
                return
    finally:
        for _, future in pending:
            future.cancel()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


def read_frames(
    paths: Iterable[str | os.PathLike[str] | None],
    take: Callable[[Image.Image, int], T],
    *,
    scale: int = 1,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Iterator[T | None]:
    """``take(frame, i)`` for the ``i``-th path, in order; None for a gap (a None path) or a
    frame that cannot be read (logged). ``take`` runs where the frame was decoded (with a
    process pool as ``executor`` it must pickle: a module-level function or a ``partial`` of
    one). Stops with :class:`Cancelled` when ``cancel`` is set."""
    check_scale(scale)
    work = functools.partial(_take_chunk, take=take, scale=scale)
    for _, results in map_chunks(paths, work, workers=workers, cancel=cancel, executor=executor):
        yield from results


def read_one(path: str | os.PathLike[str], scale: int) -> Image.Image | None:
    """The frame decoded at 1/``scale``, or None when it cannot be read (logged)."""
    try:
        return decode_reduced(path, scale)
    except (OSError, ValueError, SyntaxError) as exc:  # what Pillow raises on a bad file
        log.warning("cannot read %s: %s", path, exc)
        return None


def _take_chunk(
    items: list[Item], take: Callable[[Image.Image, int], T], scale: int
) -> list[T | None]:
    out: list[T | None] = []
    for i, path in items:
        frame = None if path is None else read_one(path, scale)
        out.append(None if frame is None else take(frame, i))
    return out


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
