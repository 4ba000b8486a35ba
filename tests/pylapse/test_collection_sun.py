"""Collection.select with the sun: a real folder, a real SQLite index, Berlin across DST."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from astral import Observer
from astral.sun import sunset
from PIL import Image

from pylapse import naming, storage, timeutil
from pylapse.collection import Collection
from pylapse.config.file import load_config
from pylapse.index.store import FrameIndex
from pylapse.selection.sun import NIGHT, SunGap, sun_window
from pylapse.selection.targets import SelectionError

TZ = timeutil.zone("Europe/Berlin")
LAT, LON = 52.52, 13.40


def _frames(root: Path, start: datetime, count: int, step: timedelta) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), (90, 120, 200)).save(buf, "JPEG")
    for k in range(count):
        when = (start.astimezone(UTC) + k * step).astimezone(TZ)
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / naming.format_name(when, prefix="cam-")).write_bytes(buf.getvalue())


@pytest.fixture
def frames(tmp_path, monkeypatch):
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "frames"
    _frames(root, datetime(2026, 3, 27, tzinfo=TZ), 4 * 144, timedelta(minutes=10))
    return root


def test_sunset_minus_30_min_each_day_across_dst(frames) -> None:
    coll = Collection("roof", None, frames, timezone="Europe/Berlin", latitude=LAT, longitude=LON)
    sel = coll.select(sun="sunset-30m", date_from="2026-03-27", date_to="2026-03-30")
    assert sel.kind == "sun" and sel.counts.targets == 4 and sel.counts.gaps == 0
    observer = Observer(LAT, LON)
    for frame in sel.frames:
        want = sunset(observer, frame.time.date(), TZ) - timedelta(minutes=30)
        assert abs((frame.time - want).total_seconds()) <= 300  # nearest of 10-min frames
    assert [f.time.date() for f in sel.frames] == [date(2026, 3, d) for d in (27, 28, 29, 30)]
    assert sel.frames[-1].time.utcoffset() == timedelta(hours=2)


def test_a_night_window_keeps_only_night_frames(frames) -> None:
    coll = Collection("roof", None, frames, timezone="Europe/Berlin", latitude=LAT, longitude=LON)
    night = coll.select(sun_window="night")
    every = coll.select()
    assert 0 < len(night) < len(every) / 2
    windows = [sun_window(date(2026, 3, d), LAT, LON, TZ, *NIGHT) for d in range(26, 31)]
    spans = [w for w in windows if not isinstance(w, SunGap)]
    for frame in night.frames:
        assert any(a <= frame.time < b for a, b in spans)
    hourly = coll.select(minute="0", sun_window="sunset+1h..sunrise-1h")
    assert hourly.counts.gaps == 0 and all(f.time.minute == 0 for f in hourly.frames)
    assert {f.time.hour for f in hourly.frames} <= {*range(20, 24), *range(0, 6)}


def test_without_a_place_sun_selections_say_what_to_set(frames) -> None:
    coll = Collection("roof", None, frames, timezone="Europe/Berlin")
    with pytest.raises(SelectionError, match="latitude and longitude on the collection"):
        coll.select(sun="noon")
    placed = Collection("roof", None, frames, timezone="Europe/Berlin", latitude=1, longitude=2)
    with pytest.raises(SelectionError, match="no cron fields"):
        placed.select(sun="noon", hour="12")


def test_the_config_gives_a_collection_its_cameras_place_and_presets_their_sun(
    tmp_path, frames, index_location
) -> None:
    path = tmp_path / "capture_config.json"
    path.write_text(
        json.dumps(
            {
                "storage_roots": [str(tmp_path)],
                "cameras": {
                    "roof": {
                        "type": "synthetic",
                        "output_dir": str(frames),
                        "timezone": "Europe/Berlin",
                        "latitude": LAT,
                        "longitude": LON,
                    }
                },
                "collections": {
                    "archive": {
                        "name": "Archive",
                        "path": str(frames),
                        "timezone": "Europe/Berlin",
                        "camera": "roof",
                    }
                },
                "exports": {"dusk": {"collection": "archive", "sun": ["civil_dusk"]}},
            }
        )
    )
    config = load_config(path)
    index = FrameIndex(index_location)
    try:
        coll = Collection.from_config(config, "archive", index)
        assert (coll.latitude, coll.longitude) == (LAT, LON)
        coll.refresh()
        sel = coll.preset_selection(config.exports["dusk"])
        assert sel.kind == "sun" and sel.counts.chosen == 4
    finally:
        index.close()
