"""Pictures of a day from the synthetic sky camera (the demo camera, whose sky follows the real sun
at the camera's place): the keogram's sky turns from night to day at astral's sunrise and back at
its sunset, and a night stack holds night frames only, so the sun, the sky and the pictures agree.
"""

from __future__ import annotations

import statistics
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from astral import Observer
from astral.sun import sunrise, sunset

from pylapse import naming, storage, timeutil
from pylapse.collection import Collection
from pylapse.sources.synthetic import render_scene

BERLIN = (52.52, 13.40)
DAY = date(2026, 6, 10)
STEP = timedelta(minutes=5)
SIZE = (96, 54)
SKY_ROW = 2  # near the top of the frame: the zenith colour, far from the sun disc and the clock


@pytest.fixture
def sky_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Collection:
    """A day of the synthetic camera at Berlin, one frame every 5 minutes, in a real index."""
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    zone = timeutil.zone("Europe/Berlin")
    observer = Observer(latitude=BERLIN[0], longitude=BERLIN[1])
    root = tmp_path / "sky"
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=zone)
    for k in range(24 * 12):
        when = start + k * STEP
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        image = render_scene(when, SIZE, observer=observer)
        image.save(folder / naming.format_name(when, prefix="sky-"), quality=90)
    collection = Collection(
        "sky", None, root, timezone="Europe/Berlin", latitude=BERLIN[0], longitude=BERLIN[1]
    )
    yield collection
    collection.close()


def _sky_brightness(keogram_image: object, slot: int) -> int:
    r, g, b = keogram_image.getpixel((slot, SKY_ROW))  # type: ignore[attr-defined]
    return int(r + g + b)


def test_the_keogram_of_the_sky_camera_turns_at_astrals_sunrise_and_sunset(
    sky_day: Collection,
) -> None:
    picture = sky_day.pictures.keogram(DAY)
    image = picture.image
    assert image.size == (24 * 12, SIZE[1])  # one column per 5-minute slot, every slot filled
    brightness = [_sky_brightness(image, s) for s in range(image.width)]
    # medians: a passing cloud or the sun disc brightens a day slot, a star a night one
    night = statistics.median(brightness[:24])  # the hour after midnight
    day = statistics.median(brightness[8 * 12 : 18 * 12])  # 08:00-18:00 (the sun crosses it too)
    assert day - night > 150  # night and day skies differ plainly
    # the synthetic zenith colour is halfway between its night and day values at an elevation
    # of about -5 degrees (civil twilight): the sky turns before sunrise and after sunset
    middle = (night + day) / 2
    lit = [s for s, v in enumerate(brightness) if v >= middle]
    rising, falling = lit[0], lit[-1] + 1
    zone = timeutil.zone("Europe/Berlin")
    observer = Observer(latitude=BERLIN[0], longitude=BERLIN[1])
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=zone)
    rise = (sunrise(observer, DAY, tzinfo=zone) - start) / STEP
    set_ = (sunset(observer, DAY, tzinfo=zone) - start) / STEP
    assert rise - 12 <= rising <= rise + 1, (rising, rise)  # at most an hour early
    assert set_ - 1 <= falling <= set_ + 12, (falling, set_)  # at most an hour late
    assert brightness[round(rise) + 24] > middle  # two hours after sunrise: day
    assert brightness[round(set_) + 24] < middle  # two hours after sunset: night


def test_the_night_stack_of_the_sky_camera_takes_only_night_frames(sky_day: Collection) -> None:
    picture = sky_day.pictures.nightstack(DAY)
    zone = timeutil.zone("Europe/Berlin")
    observer = Observer(latitude=BERLIN[0], longitude=BERLIN[1])
    dusk = sunset(observer, DAY, tzinfo=zone) + timedelta(hours=1)
    used = [entry for entry in picture.manifest["frames"] if entry[1] is not None]
    assert used, "the night stack took no frame"
    # every frame taken is at least an hour after the day's sunset (the night window's start)
    for entry in used:
        when = naming.parse_name(Path(entry[1]).name, zone)
        assert when is not None and when.time >= dusk - STEP, entry
    # the stack of night skies stays dark at the zenith: a day frame would light it up
    r, g, b = picture.image.getpixel((picture.image.width // 2, SKY_ROW))  # type: ignore[misc]
    assert r + g + b < 200
