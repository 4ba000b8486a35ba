"""The sunset mosaic end to end: each tile follows astral's sunset of its own day (frames whose
green and blue encode their minute from that sunset, red their day), real collection, real
ffmpeg; missing frames repeat or stay dark; polar days are gaps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from astral import Observer
from astral.sun import sunset

from pylapse.collection import Collection
from pylapse.mosaic.compose import label_text
from pylapse.mosaic.layout import tiles
from pylapse.mosaic.sunset import days_between, parse_offset, sunset_plan
from pylapse.mosaic.timeline import TileState, Track
from pylapse.tasks.mosaic import sunset_video
from tests.pylapse.mosaic.mosaic_support import decode_video, near, tile_pixel, write_frame

BERLIN = ZoneInfo("Europe/Berlin")
LAT, LON = 52.52, 13.40
DAYS = days_between(date(2026, 3, 10), date(2026, 3, 12))
GONE = range(0, 5)  # minutes after sunset the last day has no frame


def color(day: int, minute: int) -> tuple[int, int, int]:
    v = 130 + 2 * minute
    return (60 * day + 20, v, v)


@pytest.fixture
def sky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Collection]:
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    for d, day in enumerate(DAYS):
        at = sunset(Observer(LAT, LON), day, tzinfo=BERLIN)
        whole = datetime.fromtimestamp(int(at.timestamp()), BERLIN)
        for m in range(-65, 36):
            if d == 2 and m in GONE:
                continue
            write_frame(tmp_path / "sky", whole + timedelta(minutes=m), color(d, m), "s-")
    collection = Collection("Sky", None, tmp_path / "sky", timezone="Europe/Berlin",
                            latitude=LAT, longitude=LON)  # fmt: skip
    yield collection
    collection.close()


@pytest.mark.parametrize("missing", ["repeat", "dark"])
def test_each_tile_is_its_own_day_around_its_own_sunset(sky, tmp_path: Path, missing) -> None:
    output = tmp_path / "sunsets.mp4"
    result = sunset_video(sky, DAYS[0], DAYS[-1], output, size=(320, 240), labels=False,
                          missing=missing, render={"fps": 10})  # fmt: skip
    video = decode_video(output)
    assert result["frames"] == len(video) == 91  # -60 min to +30 min, one a minute
    boxes = [t.box for t in tiles("grid", 3, (320, 240))]
    for k, frame in enumerate(video):
        minute = k - 60
        for d, box in enumerate(boxes):
            want = color(d, minute)
            if d == 2 and minute in GONE:
                want = color(d, -1) if missing == "repeat" else (0, 0, 0)
            assert near(tile_pixel(frame, box), want), (k, d)
        assert near(tile_pixel(frame, (160, 120, 320, 240)), (0, 0, 0))  # the fourth cell
    manifest = json.loads(output.with_name("sunsets.mp4.json").read_text())["mosaic"]
    assert manifest["kind"] == "sunset" and manifest["start_seconds"] == -3600
    assert [d["day"] for d in manifest["days"]] == [str(d) for d in DAYS]
    first = sunset(Observer(LAT, LON), DAYS[0], tzinfo=BERLIN).astimezone(UTC)
    assert abs(datetime.fromisoformat(manifest["days"][0]["event"]) - first).total_seconds() < 2


def test_a_band_of_rows_and_another_event(sky, tmp_path: Path) -> None:
    output = tmp_path / "band.mp4"
    result = sunset_video(sky, DAYS[0], DAYS[0], output, size=(320, 120), labels=False,
                          band=(0, 60), start=parse_offset("-10m"), end=parse_offset("+10m"),
                          render={"fps": 10})  # fmt: skip
    assert result["frames"] == 21
    frame = decode_video(output)[10]
    # a 160x60 band fitted into a 320x120 tile: the whole tile is the frame's colour
    assert near(tile_pixel(frame, (0, 0, 320, 120)), color(0, 0))
    assert near(frame[5, 5].tolist(), color(0, 0))


def test_a_polar_day_is_a_gap_with_suns_reason() -> None:
    track = Track("x", UTC, np.array([0.0]), ["nowhere.jpg"])
    made = sunset_plan(track, [date(2026, 6, 21)], 78.2, 15.6, (320, 240),
                       zone=ZoneInfo("Arctic/Longyearbyen"))  # fmt: skip
    assert [str(g) for g in made.gaps] == ["no sunset on 2026-06-21 at 78.2°N: the sun stays up"]
    assert made.events == [None]
    assert set(made.plan.tiles[0].match.states.tolist()) == {TileState.NONE}


def test_offsets_and_bad_requests() -> None:
    assert parse_offset("-60m") == timedelta(minutes=-60)
    assert parse_offset("30m") == timedelta(minutes=30)
    assert parse_offset("+1h30m") == timedelta(minutes=90)
    with pytest.raises(ValueError, match="offset: 'soon'"):
        parse_offset("soon")
    track = Track("x", UTC, np.array([0.0]), ["x.jpg"])
    with pytest.raises(ValueError, match=r"end: 0:00:00 must be after start"):
        sunset_plan(track, DAYS, LAT, LON, start=timedelta(0), end=timedelta(0))
    with pytest.raises(ValueError, match="missing: 'dim' must be repeat or dark"):
        sunset_plan(track, DAYS, LAT, LON, missing="dim")


def test_a_tiles_label_is_its_day_and_its_frames_local_time() -> None:
    at = sunset(Observer(LAT, LON), DAYS[0], tzinfo=BERLIN)
    track = Track("sky", BERLIN, np.array([at.timestamp()]), ["f.jpg"])
    made = sunset_plan(track, DAYS[:1], LAT, LON, start=timedelta(0), end=timedelta(minutes=1))
    (planned,) = made.plan.tiles
    text = label_text(planned.label, at.timestamp(), planned.track.zone, made.plan.label_format)
    assert text == f"2026-03-10  {at:%H:%M:%S}"
