"""Stacks: the per-pixel max of a night, its negative, the per-pixel min of a day."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from PIL import ImageChops

from pylapse.pictures.frames import decode_reduced
from pylapse.pictures.kinds import PictureError
from pylapse.pictures.stacks import negative, stack
from pylapse.selection.sun import NIGHT, sun_window
from pylapse.timeutil import zone
from tests.pylapse.pictures.picture_support import DAY, MISSING, Generated, pixel_frame, write_day


def _folded(frames, fold):
    out = frames[0]
    for frame in frames[1:]:
        out = fold(out, frame)
    return out


def test_stacks_of_real_frames_are_the_per_pixel_max_and_min(real_frames: list) -> None:
    paths = real_frames[::8]
    decoded = [decode_reduced(p, 2) for p in paths]
    high = stack(paths, "max", scale=2, workers=2)
    low = stack(paths, "min", scale=2)
    assert high.size == low.size == (384, 288)
    assert high.tobytes() == _folded(decoded, ImageChops.lighter).tobytes()
    assert low.tobytes() == _folded(decoded, ImageChops.darker).tobytes()
    assert high.tobytes() != low.tobytes()
    assert negative(high).getpixel((10, 10)) == tuple(255 - v for v in high.getpixel((10, 10)))


def test_a_day_stack_is_the_minimum_of_the_days_frames(generated: Generated) -> None:
    picture = generated.collection.pictures.daystack(DAY)
    frames = [pixel_frame(k) for k in range(144) if k not in MISSING]
    assert picture.image.tobytes() == _folded(frames, ImageChops.darker).tobytes()
    assert len(picture.manifest["frames"]) == len(frames)


def test_a_night_stack_takes_the_frames_between_sunset_and_sunrise(generated: Generated) -> None:
    write_day(generated.root, date(2026, 3, 11), set(), offset=3)
    generated.collection.refresh()
    where = {"latitude": 51.5, "longitude": 0.0}  # London: sunset ~18:00, sunrise ~06:20 UTC
    start, stop = sun_window(DAY, 51.5, 0.0, zone("UTC"), *NIGHT)  # type: ignore[misc]
    assert datetime(2026, 3, 10, 18, 30, tzinfo=start.tzinfo) < start < stop
    picture = generated.collection.pictures.nightstack(DAY, **where)
    times = [t for t, _ in picture.manifest["frames"]]
    assert times and start.timestamp() <= min(times) and max(times) <= stop.timestamp()
    day0 = datetime(2026, 3, 10, tzinfo=start.tzinfo).timestamp()
    taken = [day0 + k * 600 + 3 for k in range(288) if k not in MISSING]
    assert times == [t for t in taken if start.timestamp() <= t < stop.timestamp()]
    per_slot = {round((t - 3) % 86400 / 600) for t in times}
    expected = _folded([pixel_frame(k) for k in sorted(per_slot)], ImageChops.lighter)
    assert picture.image.tobytes() == expected.tobytes()
    neg = generated.collection.pictures.nightstack(DAY, negative=True, **where).image
    assert neg.tobytes() == negative(expected).tobytes()


def test_a_night_stack_needs_a_night(generated: Generated) -> None:
    svalbard = {"latitude": 78.2, "longitude": 15.6}  # the midnight sun: no night in June
    gap = r"no window sunset.* on 2026-06-21 at 78.2°N: .*the sun stays up"
    with pytest.raises(PictureError, match=gap):
        generated.collection.pictures.nightstack(date(2026, 6, 21), **svalbard)


def test_a_night_stack_without_coordinates_says_so(generated: Generated) -> None:
    with pytest.raises(PictureError, match="latitude and longitude"):
        generated.collection.pictures.nightstack(DAY)
