"""The time-slice picture: column x of the picture comes from the frame at time t_x of the day,
so the picture sweeps from the day's first slot on the left to its last on the right.

The picture has the frames' own size (at 1/``scale``). With ``n`` slots and ``W`` columns,
column ``x`` shows slot ``floor((x + 0.5) * n / W)``: with more slots than columns only ``W``
frames are read; with fewer, each frame gives a band of neighbouring columns. A gap's columns
stay black.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from PIL import Image

from pylapse.imaging.decode import open_image
from pylapse.pictures.frames import read_frames
from pylapse.pictures.kinds import PictureError

__all__ = ["bands", "frame_size", "timeslice"]


def bands(slots: int, width: int) -> list[tuple[int, int, int]]:
    """``(slot, x0, x1)``: the columns ``x0 <= x < x1`` that show ``slot``, left to right."""
    out: list[tuple[int, int, int]] = []
    for x in range(width):
        k = (2 * x + 1) * slots // (2 * width)
        if out and out[-1][0] == k:
            out[-1] = (k, out[-1][1], x + 1)
        else:
            out.append((k, x, x + 1))
    return out


def frame_size(paths: Sequence[str | os.PathLike[str] | None], scale: int) -> tuple[int, int]:
    """The size of the first readable frame at 1/``scale`` (read from its header)."""
    for path in paths:
        if path is None:
            continue
        try:
            with open_image(path) as image:
                width, height = image.size
        except (OSError, ValueError, SyntaxError):
            continue
        return -(-width // scale), -(-height // scale)
    raise PictureError("no frame of the day could be read")


def _cut(
    frame: Image.Image, i: int, spans: tuple[tuple[int, int], ...], height: int
) -> Image.Image:
    """Band ``i`` of the picture (columns ``spans[i]``) from its frame, resized to the picture's
    size first when it has another."""
    x0, x1 = spans[i]
    width = spans[-1][1]
    if frame.size != (width, height):
        frame = frame.resize((width, height), Image.Resampling.BILINEAR)
    return frame.crop((x0, 0, x1, height))


def timeslice(
    paths: Sequence[str | os.PathLike[str] | None],
    *,
    scale: int = 1,
    workers: int | None = None,
    tick: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Image.Image:
    """The time slice of ``paths`` (one per slot, None for a gap), the size of the first
    readable frame at 1/``scale``; ``tick`` counts the frames read (one per band)."""
    width, height = frame_size(paths, scale)
    plan = bands(len(paths), width)
    out = Image.new("RGB", (width, height))

    # each band's frame is cut where it was decoded: the crop is all that comes back
    take = functools.partial(_cut, spans=tuple((x0, x1) for _, x0, x1 in plan), height=height)
    cuts = read_frames(
        (paths[k] for k, _, _ in plan),
        take,
        scale=scale,
        workers=workers,
        cancel=cancel,
        executor=executor,
    )
    for i, ((_, x0, _), cut) in enumerate(zip(plan, cuts, strict=True)):
        if cut is not None:
            out.paste(cut, (x0, 0))
        if tick is not None:
            tick(i + 1, len(plan))
    return out
