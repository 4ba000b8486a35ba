"""The daystrip: one row per slot of a day, each row one line of its frame (gaps stay black).

A day at 10 s becomes a picture 8,640 rows tall: sunrise, clouds, the sun crossing, sunset, the
moon. The line is the frame's middle row unless ``row`` names another (in full-size pixels:
the original used row 400 of 2048x1536 frames, above the horizon).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from PIL import Image

from pylapse.pictures.frames import read_frames
from pylapse.pictures.kinds import PictureError

__all__ = ["daystrip", "line_of", "line_picture"]


def line_of(frame: Image.Image, index: int | None, scale: int, *, axis: str) -> Image.Image:
    """Row (``axis="row"``) or column ``index`` (full-size pixels; None: the middle one) of a
    frame decoded at 1/``scale``, as a 1-pixel strip."""
    extent = frame.height if axis == "row" else frame.width
    at = extent // 2 if index is None else index // scale
    if not 0 <= at < extent:
        raise PictureError(
            f"{axis}: {index} is outside the frame (0-{extent * scale - 1}; {axis}s are counted "
            "in full-size pixels)"
        )
    if axis == "row":
        return frame.crop((0, at, frame.width, at + 1))
    return frame.crop((at, 0, at + 1, frame.height))


def _line(frame: Image.Image, _: int, index: int | None, scale: int, axis: str) -> Image.Image:
    return line_of(frame, index, scale, axis=axis)


def line_picture(
    paths: Sequence[str | os.PathLike[str] | None],
    index: int | None,
    *,
    axis: str,
    scale: int = 1,
    workers: int | None = None,
    tick: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Image.Image:
    """One line per path (None: a gap, left black), stacked along the other axis: rows top to
    bottom (``axis="row"``, a daystrip) or columns left to right (``"column"``, a keogram).
    The picture is as wide (tall) as the first readable frame at 1/``scale``."""
    rows = axis == "row"
    out: Image.Image | None = None
    take = functools.partial(_line, index=index, scale=scale, axis=axis)
    lines = read_frames(paths, take, scale=scale, workers=workers, cancel=cancel, executor=executor)
    for i, line in enumerate(lines):
        if line is not None:
            if out is None:
                size = (line.width, len(paths)) if rows else (len(paths), line.height)
                out = Image.new("RGB", size)
            across = (out.width, 1) if rows else (1, out.height)
            if line.size != across:
                line = line.resize(across, Image.Resampling.BILINEAR)
            out.paste(line, (0, i) if rows else (i, 0))
        if tick is not None:
            tick(i + 1, len(paths))
    if out is None:
        raise PictureError("no frame of the day could be read")
    return out


def daystrip(
    paths: Sequence[str | os.PathLike[str] | None],
    *,
    row: int | None = None,
    scale: int = 1,
    workers: int | None = None,
    tick: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Image.Image:
    """The daystrip of ``paths`` (one per slot, None for a gap): as wide as the first readable
    frame at 1/``scale``, one row per slot. Raises :class:`PictureError` when no frame can be
    read."""
    return line_picture(
        paths, row, axis="row", scale=scale, workers=workers, tick=tick, cancel=cancel,
        executor=executor,
    )  # fmt: skip
