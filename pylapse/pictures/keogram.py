"""The keogram: one column per slot of a day, each the centre column of its frame (the all-sky
camera convention; ``column`` picks another, in full-size pixels). Gaps stay black."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from PIL import Image

from pylapse.pictures.daystrip import line_picture

__all__ = ["keogram"]


def keogram(
    paths: Sequence[str | os.PathLike[str] | None],
    *,
    column: int | None = None,
    scale: int = 1,
    workers: int | None = None,
    tick: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Image.Image:
    """The keogram of ``paths`` (one per slot, None for a gap): one column per slot, as tall as
    the first readable frame at 1/``scale``."""
    return line_picture(
        paths, column, axis="column", scale=scale, workers=workers, tick=tick, cancel=cancel,
        executor=executor,
    )  # fmt: skip
