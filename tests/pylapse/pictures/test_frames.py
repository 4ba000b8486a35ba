"""Reading frames for a picture: order, gaps, unreadable files, cancel, bounded look-ahead."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pylapse.pictures.frames import CHUNK, decode_reduced, read_frames
from pylapse.pictures.kinds import PictureError
from pylapse.progress import Cancelled


def test_results_come_in_order_with_gaps_and_bad_files_as_none(real_frames, tmp_path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xffnot really")
    paths = [real_frames[0], None, bad, *real_frames[1:12]]
    sizes = list(read_frames(paths, lambda f, i: (i, f.size), scale=8, workers=3))
    assert sizes[1] is None and sizes[2] is None
    assert [s[0] for s in sizes if s] == [0, *range(3, 14)]
    assert {s[1] for s in sizes if s} == {(96, 72)}


def test_look_ahead_is_bounded(real_frames) -> None:
    pulled = []

    def paths():
        for p in real_frames * 50:
            pulled.append(p)
            yield p

    results = read_frames(paths(), lambda f, i: i, scale=8, workers=2)
    assert next(results) == 0
    assert len(pulled) <= 7 * CHUNK  # 3 * workers chunks in flight, one being handed out
    results.close()


def test_cancel_stops_reading(real_frames) -> None:
    cancel = threading.Event()
    seen = []

    def take(frame, i):
        seen.append(i)
        if i == 3:
            cancel.set()
        return i

    with pytest.raises(Cancelled):
        list(read_frames(real_frames * 10, take, scale=8, workers=1, cancel=cancel))
    assert len(seen) <= 5 * CHUNK  # what was in flight when cancel came, not the 400


def test_reduced_decode_and_scale_check(real_frames) -> None:
    assert decode_reduced(real_frames[0], 4).size == (192, 144)
    assert decode_reduced(real_frames[0]).size == (768, 576)
    with pytest.raises(PictureError, match="scale: 3"):
        list(read_frames([Path("x")], lambda f, i: i, scale=3))
