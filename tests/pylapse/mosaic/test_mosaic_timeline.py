"""Which frame each tile shows: nearest within the tolerance, else the last one (stale), else
none; a floor keeps another day's frames out."""

from __future__ import annotations

from datetime import UTC

import numpy as np
import pytest

from pylapse.mosaic.timeline import TileState, Track, instants, match, typical_step

F, S, N = TileState.FRESH, TileState.STALE, TileState.NONE


def test_nearest_within_the_tolerance_else_last_else_none() -> None:
    utcs = np.array([100.0, 160.0, 220.0, 400.0])
    got = match(utcs, np.array([50.0, 95.0, 130.0, 131.0, 300.0, 1000.0]), tolerance=30)
    assert got.frames.tolist() == [-1, 0, 0, 1, 2, 3]
    assert got.states.tolist() == [N, F, F, F, S, S]


def test_a_floor_keeps_older_frames_out() -> None:
    got = match(np.array([100.0, 160.0]), np.array([500.0, 170.0]), tolerance=5, floor=150)
    assert got.frames.tolist() == [1, 1] and got.states.tolist() == [S, S]
    got = match(np.array([100.0, 160.0]), np.array([500.0]), tolerance=5, floor=200)
    assert got.frames.tolist() == [-1] and got.states.tolist() == [N]


def test_an_empty_track_matches_nothing() -> None:
    got = match(np.array([]), np.array([1.0, 2.0]), tolerance=5)
    assert got.states.tolist() == [N, N]


def test_it_agrees_with_a_plain_loop() -> None:
    rng = np.random.default_rng(7)
    utcs = np.sort(rng.uniform(0, 10_000, 500))
    targets = rng.uniform(-100, 10_100, 2000)
    got = match(utcs, targets, tolerance=7)
    for t, frame, state in zip(targets, got.frames, got.states, strict=True):
        nearest = int(np.argmin(np.abs(utcs - t)))
        if abs(utcs[nearest] - t) <= 7:
            assert (frame, state) == (nearest, F)
        elif (utcs <= t).any():
            assert (frame, state) == (int(np.nonzero(utcs <= t)[0][-1]), S)
        else:
            assert (frame, state) == (-1, N)


def test_instants_and_the_typical_step() -> None:
    assert instants(0, 10, 5).tolist() == [0, 5, 10]
    assert instants(0, 9, 5).tolist() == [0, 5]
    assert len(instants(10, 0, 5)) == 0
    with pytest.raises(ValueError, match="step: 0"):
        instants(0, 1, 0)
    a = Track("a", UTC, np.arange(0, 600, 60.0), [str(i) for i in range(10)])
    b = Track("b", UTC, np.arange(0, 600, 10.0), [str(i) for i in range(60)])
    assert typical_step([a, b]) == 10.0
    with pytest.raises(ValueError, match="ascending"):
        Track("c", UTC, np.array([2.0, 1.0]), ["x", "y"])
