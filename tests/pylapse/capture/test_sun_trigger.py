"""Schedules limited to a sun window: fire times driven with explicit times, never the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pylapse.capture.triggers import SunWindowTrigger, build_trigger, fire_times, next_fire_times
from pylapse.config.cameras import CameraConfig
from pylapse.selection.sun import NIGHT, SunGap, sun_window

BERLIN = ZoneInfo("Europe/Berlin")
LAT, LON = 52.52, 13.40


def _camera(window: str, *, lat=LAT, lon=LON, **schedule) -> CameraConfig:
    return CameraConfig(
        name="roof",
        type="synthetic",
        output_dir="frames",
        timezone="Europe/Berlin",
        latitude=lat,
        longitude=lon,
        schedules=[{"id": "s", "sun_window": window, **(schedule or {"minute": "*/10"})}],
    )


def _inside_night(t: datetime) -> bool:
    for d in (t.date() - timedelta(days=1), t.date()):
        w = sun_window(d, LAT, LON, BERLIN, *NIGHT)
        if not isinstance(w, SunGap) and w[0] <= t < w[1]:
            return True
    return False


@pytest.mark.parametrize("start", [date(2026, 3, 27), date(2026, 6, 20), date(2026, 10, 24)])
def test_a_night_schedule_never_fires_by_day(start) -> None:
    cam = _camera("night")
    trigger = build_trigger(cam.schedules[0], BERLIN)
    assert isinstance(trigger, SunWindowTrigger)
    after = datetime(start.year, start.month, start.day, 12, tzinfo=BERLIN)  # a noon, by day
    times = list(islice(fire_times(trigger, after), 400))  # over two nights at */10
    assert all(_inside_night(t) for t in times)
    assert all(b.timestamp() > a.timestamp() for a, b in pairwise(times))
    first = sun_window(start, LAT, LON, BERLIN, *NIGHT)
    assert not isinstance(first, SunGap)
    # the first fire is the first */10 slot at or after sunset + 1 h, and the night's last one
    # is the last slot before sunrise - 1 h; then it waits for the next evening
    assert times[0] >= first[0] and times[0] - first[0] < timedelta(minutes=10)
    last_of_night = max(t for t in times if t < first[1] + timedelta(hours=1))
    assert first[1] - last_of_night <= timedelta(minutes=10)
    gap = next(b - a for a, b in pairwise(times) if b - a > timedelta(hours=1))
    assert gap > timedelta(hours=6)


def test_a_day_schedule_with_an_interval_and_the_polar_cases() -> None:
    cam = _camera("civil_dawn-30m..civil_dusk+30m", type="interval", interval_amount=30,
                  interval_unit="minutes")  # fmt: skip
    after = datetime(2026, 1, 10, 0, 0, tzinfo=BERLIN)
    times = next_fire_times(cam.schedules[0], BERLIN, 60, after=after)
    for t in times:  # inside its day's window: civil dawn - 30 min to civil dusk + 30 min
        start, end = sun_window(t.date(), LAT, LON, BERLIN, "civil_dawn-30m", "civil_dusk+30m")
        assert start <= t < end and 7 <= t.hour <= 17
    assert len({t.date() for t in times}) == 3  # 20 half hours a January day
    assert times[0] == datetime(2026, 1, 10, 7, 30, tzinfo=BERLIN)
    svalbard = ZoneInfo("Arctic/Longyearbyen")
    north = _camera("day", lat=78.22, lon=15.65)
    # polar night: no day window until the sun comes back in February
    first = next_fire_times(
        north.schedules[0], svalbard, 1, after=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert first and first[0].date() > date(2027, 1, 20)
    # midnight sun: the day window is the whole day, so every */10 slot fires
    june = next_fire_times(
        north.schedules[0], svalbard, 200, after=datetime(2026, 6, 20, tzinfo=svalbard)
    )
    assert [b - a for a, b in pairwise(june)] == [timedelta(minutes=10)] * 199
    night = _camera("night", lat=78.22, lon=15.65)
    none_in_june = next_fire_times(
        night.schedules[0], svalbard, 1, after=datetime(2026, 6, 1, tzinfo=svalbard)
    )
    assert none_in_june[0].date() > date(2026, 8, 15)


def test_a_sun_window_needs_the_camera_place_and_a_valid_window() -> None:
    with pytest.raises(ValidationError, match="latitude"):
        _camera("night", lat=None)
    with pytest.raises(ValidationError, match="not a window"):
        _camera("sunset")
    assert _camera("Sunset + 1h to sunrise - 1h").schedules[0].sun_window == "sunset+1h..sunrise-1h"
    plain = CameraConfig(
        name="x", type="synthetic", output_dir="f", schedules=[{"id": "s", "minute": "*"}]
    )
    assert not isinstance(build_trigger(plain.schedules[0], BERLIN), SunWindowTrigger)


def test_a_schedule_never_inside_its_window_has_no_fire_time() -> None:
    cam = _camera("night", hour="12", minute="0")  # noon every day, but only at night
    after = datetime(2026, 1, 1, tzinfo=BERLIN)
    assert next_fire_times(cam.schedules[0], BERLIN, 1, after=after) == []
