"""Stacks: the per-pixel maximum of a night's frames (the night light stack: lightning, planes,
stars and planets in one picture, star trails as a by-product), its negative, and the per-pixel
minimum of a day's frames (the day dark stack).

Frames are folded into one running picture as they are decoded (Pillow's ``lighter`` /
``darker``, in C), so memory is one picture plus the frames in flight, whatever the count.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from enum import StrEnum

from PIL import Image, ImageChops, ImageOps

from pylapse.pictures.frames import read_frames
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
) -> Image.Image:
    """The per-pixel ``mode`` of the frames, the size of the first readable one at 1/``scale``
    (frames of another size are resized to it)."""
    try:
        fold = ImageChops.lighter if StackMode(mode) is StackMode.MAX else ImageChops.darker
    except ValueError:
        raise PictureError(f"stack mode: {mode!r} must be 'max' or 'min'") from None
    out: Image.Image | None = None
    frames = read_frames(paths, lambda f, _: f, scale=scale, workers=workers, cancel=cancel)
    for i, frame in enumerate(frames):
        if frame is not None:
            if out is None:
                out = frame
            else:
                if frame.size != out.size:
                    frame = frame.resize(out.size, Image.Resampling.BILINEAR)
                out = fold(out, frame)
        if tick is not None:
            tick(i + 1, len(paths))
    if out is None:
        raise PictureError("none of the frames could be read")
    return out


def negative(image: Image.Image) -> Image.Image:
    """The picture's negative (255 - each value): a night stack's stars as dark points."""
    return ImageOps.invert(image.convert("RGB"))
