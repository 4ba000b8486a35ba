"""Stacks: the per-pixel maximum of a night's frames (the night light stack: lightning, planes,
stars and planets in one picture, star trails as a by-product), its negative, and the per-pixel
minimum of a day's frames (the day dark stack).

Frames are folded into one running picture as they are decoded (Pillow's ``lighter`` /
``darker``, in C), a chunk at a time where they were decoded and the chunks' pictures then in
order, so memory is one picture plus the chunks in flight, whatever the count.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from enum import StrEnum

from PIL import Image, ImageChops, ImageOps

from pylapse.pictures.frames import Item, check_scale, map_chunks, read_one
from pylapse.pictures.kinds import PictureError

__all__ = ["StackMode", "negative", "stack"]


class StackMode(StrEnum):
    MAX = "max"  # the brightest value each pixel took (the night light stack)
    MIN = "min"  # the darkest (the day dark stack)


def stack(
    paths: Sequence[str | os.PathLike[str] | None],
    mode: StackMode | str,
    *,
    scale: int = 1,
    workers: int | None = None,
    tick: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Image.Image:
    """The per-pixel ``mode`` of the frames, the size of the first readable one at 1/``scale``
    (frames of another size are resized to it). Each chunk of frames is folded where it was
    decoded, so one picture per chunk comes back, not every frame."""
    try:
        mode = StackMode(mode)
    except ValueError:
        raise PictureError(f"stack mode: {mode!r} must be 'max' or 'min'") from None
    check_scale(scale)
    out: Image.Image | None = None
    done = 0
    work = functools.partial(_fold_chunk, mode=mode, scale=scale)
    chunks = map_chunks(paths, work, workers=workers, cancel=cancel, executor=executor)
    for size, part in chunks:
        if part is not None:
            out = part if out is None else _fold(mode, out, part)
        done += size
        if tick is not None:
            tick(done, len(paths))
    if out is None:
        raise PictureError("none of the frames could be read")
    return out


def _fold(mode: StackMode, out: Image.Image, frame: Image.Image) -> Image.Image:
    if frame.size != out.size:
        frame = frame.resize(out.size, Image.Resampling.BILINEAR)
    fold = ImageChops.lighter if mode is StackMode.MAX else ImageChops.darker
    return fold(out, frame)


def _fold_chunk(items: list[Item], mode: StackMode, scale: int) -> Image.Image | None:
    out: Image.Image | None = None
    for _, path in items:
        frame = None if path is None else read_one(path, scale)
        if frame is not None:
            out = frame if out is None else _fold(mode, out, frame)
    return out


def negative(image: Image.Image) -> Image.Image:
    """The picture's negative (255 - each value): a night stack's stars as dark points."""
    return ImageOps.invert(image.convert("RGB"))
