"""Where each input goes in a mosaic's output frame: tile rectangles for N inputs.

Three layouts: a **grid** (rows x columns, given or fitted to the count), **one large plus a
strip** (the first input over the top, the others side by side in a strip along the bottom) and
**picture in picture** (the first input fills the frame, the others small in the bottom-right
corner, drawn over it). Rectangles are whole pixels, inside the output, and never overlap except
the inset tiles of picture in picture (drawn after the main one, in order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Layout", "LayoutError", "Tile", "fit_grid", "layout_of", "tiles"]

MAX_INPUTS = 400  # a "400 sunsets" grid; beyond that tiles are a few pixels wide
STRIP_SHARE = 0.25  # of the output height: the strip under the large tile
INSET_SHARE = 0.25  # of the output width: each picture-in-picture inset
INSET_MARGIN = 0.02  # of the output height: between insets and from the edges


class LayoutError(ValueError):
    """A layout that cannot be made; the message names the field and value."""


class Layout(StrEnum):
    GRID = "grid"
    STRIP = "strip"  # one large plus a strip
    PIP = "pip"  # picture in picture


@dataclass(frozen=True, slots=True)
class Tile:
    """A rectangle of the output: left, top, width, height in pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom), right and bottom exclusive."""
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    @property
    def center(self) -> tuple[int, int]:
        return (self.x + self.w // 2, self.y + self.h // 2)


def layout_of(value: str | Layout) -> Layout:
    try:
        return Layout(value)
    except ValueError:
        accepted = ", ".join(v.value for v in Layout)
        raise LayoutError(f"layout: {value!r} is not one of {accepted}") from None


def fit_grid(n: int, rows: int | None = None, cols: int | None = None) -> tuple[int, int]:
    """(rows, columns) holding ``n`` tiles: as given, one given and the other fitted, or both
    fitted to a near-square grid (tiles keep the output's shape)."""
    if n < 1:
        raise LayoutError(f"a mosaic needs at least one input, got {n}")
    for name, value in (("rows", rows), ("cols", cols)):
        if value is not None and value < 1:
            raise LayoutError(f"{name}: {value} must be at least 1")
    if rows and cols:
        if rows * cols < n:
            raise LayoutError(f"rows x cols = {rows}x{cols} holds {rows * cols}, not {n} tiles")
        return rows, cols
    if rows:
        return rows, math.ceil(n / rows)
    if cols:
        return math.ceil(n / cols), cols
    # tiles of the output's own shape: as many columns as rows, a column more when uneven
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def _grid(n: int, size: tuple[int, int], rows: int | None, cols: int | None) -> list[Tile]:
    width, height = size
    r, c = fit_grid(n, rows, cols)
    tw, th = width // c, height // r
    if tw < 2 or th < 2:
        raise LayoutError(f"{r}x{c} tiles do not fit in {width}x{height}")
    # the grid is centred: the pixels a division leaves over are split between the edges
    ox, oy = (width - tw * c) // 2, (height - th * r) // 2
    return [Tile(ox + (i % c) * tw, oy + (i // c) * th, tw, th) for i in range(n)]


def _strip(n: int, size: tuple[int, int]) -> list[Tile]:
    width, height = size
    if n == 1:
        return [Tile(0, 0, width, height)]
    strip = max(2, round(height * STRIP_SHARE))
    tw = width // (n - 1)
    if tw < 2:
        raise LayoutError(f"{n - 1} tiles do not fit in a strip {width} pixels wide")
    ox = (width - tw * (n - 1)) // 2
    small = [Tile(ox + i * tw, height - strip, tw, strip) for i in range(n - 1)]
    return [Tile(0, 0, width, height - strip), *small]


def _pip(n: int, size: tuple[int, int]) -> list[Tile]:
    width, height = size
    margin = round(height * INSET_MARGIN)
    iw = max(2, round(width * INSET_SHARE))
    ih = max(2, round(iw * height / width))
    if (n - 1) * (iw + margin) + margin > width:
        raise LayoutError(f"{n - 1} insets do not fit across {width} pixels; use the grid")
    insets = [
        Tile(width - (i + 1) * (iw + margin), height - ih - margin, iw, ih) for i in range(n - 1)
    ]
    return [Tile(0, 0, width, height), *insets]


def tiles(
    layout: Layout | str,
    n: int,
    size: tuple[int, int],
    *,
    rows: int | None = None,
    cols: int | None = None,
) -> list[Tile]:
    """The tile of each of ``n`` inputs, in input order, in an output of ``size`` pixels."""
    kind = layout_of(layout)
    if not 1 <= n <= MAX_INPUTS:
        raise LayoutError(f"a mosaic takes 1 to {MAX_INPUTS} inputs, got {n}")
    width, height = size
    if width < 2 or height < 2:
        raise LayoutError(f"size: {width}x{height} is too small")
    if kind is Layout.GRID:
        return _grid(n, size, rows, cols)
    if rows or cols:
        raise LayoutError(f"rows and cols belong to the grid layout, not {kind.value}")
    return _strip(n, size) if kind is Layout.STRIP else _pip(n, size)
