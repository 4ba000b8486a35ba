"""Tile rectangles: grids fitted or given, one large plus a strip, picture in picture."""

from __future__ import annotations

import pytest

from pylapse.mosaic.layout import Layout, LayoutError, Tile, fit_grid, tiles


def _overlap(a: Tile, b: Tile) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_a_grid_is_fitted_to_the_count_or_taken_as_given() -> None:
    assert fit_grid(1) == (1, 1)
    assert fit_grid(2) == (1, 2)
    assert fit_grid(3) == (2, 2)
    assert fit_grid(16) == (4, 4)
    assert fit_grid(400) == (20, 20)
    assert fit_grid(5, rows=1) == (1, 5)
    assert fit_grid(5, cols=2) == (3, 2)
    with pytest.raises(LayoutError, match="holds 4, not 5"):
        fit_grid(5, rows=2, cols=2)
    with pytest.raises(LayoutError, match="rows: 0"):
        fit_grid(5, rows=0)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16])
def test_grid_tiles_are_inside_the_output_and_never_overlap(n: int) -> None:
    rects = tiles("grid", n, (1920, 1080))
    assert len(rects) == n
    for i, a in enumerate(rects):
        assert a.x >= 0 and a.x + a.w <= 1920 and a.y >= 0 and a.y + a.h <= 1080
        assert all(not _overlap(a, b) for b in rects[i + 1 :])


def test_two_cameras_side_by_side() -> None:
    assert tiles(Layout.GRID, 2, (320, 120)) == [Tile(0, 0, 160, 120), Tile(160, 0, 160, 120)]


def test_one_large_plus_a_strip() -> None:
    big, *strip = tiles(Layout.STRIP, 4, (1920, 1080))
    assert big == Tile(0, 0, 1920, 810)
    assert [t.y for t in strip] == [810] * 3 and all(t.h == 270 and t.w == 640 for t in strip)
    assert not any(_overlap(big, t) for t in strip)


def test_picture_in_picture_insets_sit_inside_the_main_tile() -> None:
    main, *insets = tiles("pip", 3, (1920, 1080))
    assert main == Tile(0, 0, 1920, 1080)
    assert len(insets) == 2 and not _overlap(insets[0], insets[1])
    assert all(t.x + t.w <= 1920 and t.y + t.h <= 1080 and t.w == 480 for t in insets)


def test_bad_layouts_are_refused_naming_the_field() -> None:
    with pytest.raises(LayoutError, match="layout: 'ring'"):
        tiles("ring", 2, (100, 100))
    with pytest.raises(LayoutError, match="1 to 400 inputs, got 0"):
        tiles("grid", 0, (100, 100))
    with pytest.raises(LayoutError, match="rows and cols belong to the grid"):
        tiles("strip", 3, (100, 100), rows=2)
    with pytest.raises(LayoutError, match="do not fit"):
        tiles("grid", 400, (20, 20))
