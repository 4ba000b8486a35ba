"""Collection: counts, frames, selections and exports on a real folder and a real index, on
SQLite and on PostgreSQL (the query tests; a private index in the cache is SQLite by design)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pylapse import naming, storage, timeutil
from pylapse.collection import Collection, cache_dir
from pylapse.config.file import load_config
from pylapse.index.scan import ScanError
from pylapse.index.store import FrameIndex
from pylapse.selection.targets import SelectionError

TZ = timeutil.zone("Europe/Berlin")


def make_frames(root: Path, start: datetime, count: int, step: timedelta, skip=()) -> list[Path]:
    """Small real JPEGs named the default way, in day folders (one encoding, written N times)."""
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 100, 50)).save(buf, "JPEG")
    paths = []
    for k in range(count):
        if k in skip:
            continue
        when = (start.astimezone(UTC) + k * step).astimezone(start.tzinfo)  # real time
        folder = storage.day_folder(root, when)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / naming.format_name(when, prefix="cam-")
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def open_collection(cache, index_location) -> Iterator[Callable[..., Collection]]:
    """``open_collection(*args, **kw)``: ``Collection(*args, **kw)`` with its index on each
    backend. On SQLite its private index in the cache, scanned on first use; on PostgreSQL a
    shared index at ``index_location`` (keyed by the collection's name), scanned here as the
    owner of a shared index does."""
    opened: list[FrameIndex] = []

    def make(*args: Any, **kw: Any) -> Collection:
        if not index_location.startswith("postgresql://"):
            return Collection(*args, **kw)
        index = FrameIndex(index_location)
        opened.append(index)
        c = Collection(*args, index=index, key=args[0], **kw)
        c.refresh()
        return c

    yield make
    for index in opened:
        index.close()


@pytest.fixture
def frames_dir(tmp_path):
    root = tmp_path / "frames"
    # 2024-10-26 .. 2024-10-28: three days around the autumn DST change, every 30 min,
    # with 10:00-11:30 on the 27th missing
    make_frames(
        root,
        datetime(2024, 10, 26, tzinfo=TZ),
        3 * 48 + 2,
        timedelta(minutes=30),
        skip=range(48 + 20 + 2, 48 + 24 + 2),
    )
    return root


def test_private_index_str_len_counts_frames(cache, frames_dir, tmp_path):
    with Collection("Outdoor", tmp_path / "exports", frames_dir, timezone="Europe/Berlin") as c:
        assert len(c) == 146 - 4
        assert str(c) == f"Image Collection: Outdoor, Location: {frames_dir}, Image Count: 142"
        # the 27th has 25 hours: 50 half hours, 4 of them missing
        assert c.count_by_day() == {
            date(2024, 10, 26): 48,
            date(2024, 10, 27): 46,
            date(2024, 10, 28): 48,
        }
        frames = c.frames(date(2024, 10, 27), date(2024, 10, 27))
        assert len(frames) == 46
        assert all(f.time.tzinfo is not None for f in frames)
        assert [f.time for f in frames] == sorted(f.time for f in frames)
        assert frames[0].time == datetime(2024, 10, 27, tzinfo=TZ)
    assert list(cache.glob("collections/*/pylapse.db"))  # the index lives in the cache
    assert not list(frames_dir.rglob("*.db"))  # never in the frame folder


def test_refresh_picks_up_new_frames_and_cache_is_reused(cache, frames_dir, tmp_path):
    c = Collection("Outdoor", None, frames_dir, timezone="Europe/Berlin")
    assert len(c) == 142
    make_frames(frames_dir, datetime(2024, 10, 29, 12, tzinfo=TZ), 2, timedelta(minutes=30))
    assert len(c) == 142  # no rescan behind the caller's back
    c.refresh()
    assert len(c) == 144
    c.close()
    again = Collection("Outdoor", None, frames_dir, timezone="Europe/Berlin")
    assert len(again) == 144
    again.close()


def test_select_returns_frames_gaps_and_counts(open_collection, frames_dir):
    with open_collection("Outdoor", None, frames_dir, timezone="Europe/Berlin") as c:
        sel = c.select(hour="9-12", minute=0, tolerance=timedelta(minutes=5))
        # 4 targets a day; on the 27th 10:00 and 11:00 have no frame
        assert sel.counts.targets == 12 and sel.counts.gaps == 2 and len(sel) == 10
        assert [g.isoformat() for g in sel.gaps] == [
            "2024-10-27T10:00:00+01:00",
            "2024-10-27T11:00:00+01:00",
        ]
        frames = sel.frames
        assert [f.time.hour for f in frames] == [9, 10, 11, 12, 9, 12, 9, 10, 11, 12]
        assert all(isinstance(f.path, Path) and f.path.exists() for f in frames)
        assert sel.first.id == frames[0].id and sel.last.id == frames[-1].id
        one_day = c.select(hour=12, date_from="2024-10-28", date_to="2024-10-28")
        assert [f.time.isoformat() for f in one_day.frames] == ["2024-10-28T12:00:00+01:00"]
        everything = c.select(date_from=date(2024, 10, 27), date_to=date(2024, 10, 27))
        assert len(everything) == 46 and everything.counts.gaps == 0
        assert [f.id for f in everything.iter_frames(batch=7)] == everything.ids


def test_repeated_hour_targets_both_occurrences(open_collection, frames_dir):
    with open_collection("Outdoor", None, frames_dir, timezone="Europe/Berlin") as c:
        sel = c.select(
            hour=2, minute="*/30", tolerance=0, date_from="2024-10-27", date_to="2024-10-27"
        )
        assert [f.time.isoformat() for f in sel.frames] == [
            "2024-10-27T02:00:00+02:00",
            "2024-10-27T02:30:00+02:00",
            "2024-10-27T02:00:00+01:00",
            "2024-10-27T02:30:00+01:00",
        ]


def test_day_slice_and_slot_grid(open_collection, frames_dir):
    with open_collection("Outdoor", None, frames_dir, timezone="Europe/Berlin") as c:
        noon = c.day_slice("12:00")
        assert [f.time.isoformat() for f in noon.frames] == [
            "2024-10-26T12:00:00+02:00",
            "2024-10-27T12:00:00+01:00",
            "2024-10-28T12:00:00+01:00",
        ]
        grid = c.slot_grid(timedelta(minutes=30))
        assert grid.counts.gaps == 4 and len(grid) == 142
        assert [(f.id, n) for f, n in grid.with_gaps_filled()][:1] == [(grid.ids[0], 1)]
        assert grid.video_seconds(24, fill_gaps=True) == 146 / 24


def test_frames_load_sparse_and_dense(open_collection, tmp_path, monkeypatch):
    root = tmp_path / "many"
    make_frames(root, datetime(2024, 3, 1, tzinfo=TZ), 2999, timedelta(minutes=1))
    with open_collection("Many", None, root, timezone="Europe/Berlin") as c:
        by_id = []
        real_get = c.index.get
        monkeypatch.setattr(c.index, "get", lambda fid: by_id.append(fid) or real_get(fid))
        dense = c.select(minute="*/2")  # every other frame: loaded by time range
        assert [f.id for f in dense.frames] == dense.ids and len(dense) == 1500
        assert {f.time.minute % 2 for f in dense.frames} == {0}
        assert by_id == []  # 3 range queries, not 1500 lookups
        sparse = c.select(minute=0, hour="*/6")  # one in 360: loaded by id
        assert [f.time.hour for f in sparse.frames] == [0, 6, 12, 18, 0, 6, 12, 18, 0]
        assert by_id == sparse.ids


def test_shared_index_is_not_scanned_implicitly(frames_dir, index_location):
    index = FrameIndex(index_location)
    try:
        c = Collection("Cam", None, frames_dir, timezone="Europe/Berlin", index=index, key="cam1")
        assert len(c) == 0  # the owner of a shared index keeps it current
        c.refresh()
        assert len(c) == 142
        assert index.count("cam1") == 142
        c.close()  # does not close a shared index
        assert index.count("cam1") == 142
    finally:
        index.close()


def test_export_presets_run_and_write(open_collection, frames_dir, tmp_path):
    with open_collection(
        "Outdoor", tmp_path / "exports", frames_dir, timezone="Europe/Berlin"
    ) as c:
        c.add_export("Noonish", subdir="noon", hour=12, minute=0)
        c.export.add_export("Morning", subdir="morning", hour="6-8", minute=0, prefix="m-")
        reports = []
        result = c.export.run(
            "Noonish", prefix="Timelapse ", width=16, height=12, progress=reports.append
        )
        assert result.written == 3
        assert [(p.stage, p.done, p.total) for p in reports[:2]] == [
            ("select", 0, 1),
            ("select", 1, 1),
        ]
        assert reports[1].message == "3 frames, 0 gaps of 3"
        assert reports[-1].stage != "select" and reports[-1].done == reports[-1].total == 3
        out = sorted((tmp_path / "exports" / "noon").glob("*.jpg"))
        assert [p.name for p in out] == [f"Timelapse {n:06d}.jpg" for n in (1, 2, 3)]
        with Image.open(out[0]) as im:
            assert im.size == (16, 12)
        results = c.export_all(tmp_path / "elsewhere")
        assert set(results) == {"Noonish", "Morning"}
        assert len(list((tmp_path / "elsewhere" / "morning").glob("m-*.jpg"))) == 9
        with pytest.raises(SelectionError, match="no export named 'Nope'; declared: Morning"):
            c.export.run("Nope")
        with pytest.raises(SelectionError, match=r"export 'Bad'.*hour"):
            c.add_export("Bad", hour=[1, 2])


def test_from_config_builds_camera_and_collection(tmp_path, frames_dir, index_location):
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(
        json.dumps(
            {
                "data_dir": "data",
                "storage_roots": [str(tmp_path)],
                "cameras": {
                    "porch": {
                        "name": "Porch",
                        "url": "http://127.0.0.1:1/snap.jpg",
                        "output_dir": str(frames_dir),
                        "timezone": "Europe/Berlin",
                    }
                },
                "collections": {
                    "old": {
                        "name": "Old archive",
                        "path": str(frames_dir),
                        "timezone": "Europe/Berlin",
                    }
                },
                "exports": {"noon": {"collection": "old", "hour": 12, "subdir": "noon"}},
            }
        )
    )
    config = load_config(cfg)
    index = FrameIndex(index_location)
    try:
        old = Collection.from_config(config, "old", index)
        assert old.name == "Old archive" and old.key == "old" and set(old.presets) == {"noon"}
        assert old.export_dir == tmp_path / "exports" / "old"
        old.refresh()
        assert len(old.preset_selection(old.presets["noon"])) == 3
        porch = Collection.from_config(config, "porch", index)
        assert porch.key == "porch" and porch.presets == {}
        with pytest.raises(SelectionError, match="no collection or camera 'x'; known: old, porch"):
            Collection.from_config(config, "x", index)
    finally:
        index.close()


def test_preset_paths_are_relative_to_the_config_file(tmp_path, frames_dir, monkeypatch):
    """A watermark and output folder written relative in the config are found from any cwd."""
    project = tmp_path / "project"
    (project / "art").mkdir(parents=True)
    Image.new("RGBA", (8, 8), (255, 0, 0, 255)).save(project / "art" / "logo.png")
    cfg = project / "capture_config.json"
    cfg.write_text(
        json.dumps(
            {
                "storage_roots": [str(tmp_path)],
                "collections": {"old": {"name": "Old", "path": str(frames_dir)}},
                "exports": {
                    "noon": {
                        "collection": "old",
                        "hour": 12,
                        "output_dir": "out",
                        "watermark_image": "art/logo.png",
                        "font": "fonts/Custom.ttf",
                    }
                },
            }
        )
    )
    monkeypatch.chdir(tmp_path)  # anywhere but the config's folder
    with FrameIndex(tmp_path / "pylapse.db") as index:
        preset = Collection.from_config(load_config(cfg), "old", index).presets["noon"]
    assert preset.output_dir == str(project / "out")
    assert preset.watermark_image == str(project / "art" / "logo.png")
    assert preset.font == str(project / "fonts" / "Custom.ttf")


def test_config_presets_write_to_their_own_folders(tmp_path, frames_dir):
    """Presets from the config run from Python write where the dashboard and CLI run them: each
    into its own folder, so one never replaces another's frames."""
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(
        json.dumps(
            {
                "storage_roots": [str(tmp_path)],
                "collections": {"old": {"name": "Old", "path": str(frames_dir)}},
                "exports": {
                    "noon": {"collection": "old", "hour": 12},
                    "dawn": {"collection": "old", "hour": 6, "subdir": "a/b"},
                },
            }
        )
    )
    config = load_config(cfg)
    with FrameIndex(tmp_path / "pylapse.db") as index:
        coll = Collection.from_config(config, "old", index)
        assert coll.export.output_dir("noon") == config.export_folder("noon")
        assert coll.export.output_dir("dawn") == config.export_folder("dawn")
    assert config.export_folder("dawn") == tmp_path / "exports" / "dawn" / "a" / "b"


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("PYLAPSE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "pylapse"


def test_missing_folder_is_a_clear_error_every_time(cache, tmp_path):
    c = Collection("Gone", None, tmp_path / "nowhere", timezone="UTC")
    for _ in range(2):  # a failed first scan is not remembered as done
        with pytest.raises(ScanError, match="nowhere"):
            len(c)
    (tmp_path / "nowhere").mkdir()
    assert len(c) == 0
    c.close()


# --- pyLapse 0.2's shapes (issue 13 item 2) ------------------------------------------------------


def _flat_frames(root: Path, names: list[str]) -> None:
    """Small JPEGs named as pyLapse 0.2's capture named them, all in one folder."""
    root.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "JPEG")
    for name in names:
        (root / name).write_bytes(buf.getvalue())


def test_positional_parameters_are_02s_and_timezone_is_a_keyword(open_collection, tmp_path):
    _flat_frames(
        tmp_path / "f",
        [
            "Out 2024-05-01T12-00-00.jpg",
            "Out 2024-05-01T12-10-00.jpeg",
            "In 2024-05-01T12-05-00.jpg",
            "Out 2024-05-01T12-20-00.png",
        ],
    )
    with open_collection("All", None, tmp_path / "f", timezone="UTC") as every_type:
        assert len(every_type) == 4  # no ext: every frame type the index reads
    with open_collection("Jpeg", None, tmp_path / "f", "jpg", timezone="UTC") as every_jpeg:
        assert len(every_jpeg) == 3  # ext="jpg" takes .jpeg too, and not .png
    with open_collection("Out", None, tmp_path / "f", "jpg", "Out*", timezone="UTC") as masked:
        assert masked.mask == "Out*"
        assert len(masked) == 2
        assert [f.name for f in masked.select().frames] == [
            "Out 2024-05-01T12-00-00.jpg",
            "Out 2024-05-01T12-10-00.jpeg",
        ]
    with open_collection("Png", None, tmp_path / "f", "png", timezone="UTC") as png:
        assert [f.name for f in png.select().frames] == ["Out 2024-05-01T12-20-00.png"]
    with pytest.raises(TypeError, match=r"timezone is a keyword.*timezone='Europe/Berlin'"):
        Collection("Old", None, tmp_path / "f", "Europe/Berlin")


def test_filematch_reads_times_and_must_name_its_groups(open_collection, tmp_path):
    import re

    _flat_frames(tmp_path / "f", ["shot_20240501_1200.jpg", "shot_20240501_1230.jpg"])
    match = re.compile(
        r"shot_(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)_(?P<hour>\d\d)(?P<minute>\d\d)"
    )
    with open_collection("Shots", None, tmp_path / "f", "jpg", "*", match, timezone="UTC") as c:
        times = [f.time.strftime("%H:%M") for f in c.select().frames]
        assert times == ["12:00", "12:30"]
    positional = re.compile(r"shot_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)")
    with pytest.raises(SelectionError, match=r"filematch: .*name them"):
        Collection("Shots", None, tmp_path / "f", "jpg", "*", positional)


def test_add_export_takes_prefix_and_desc_positionally_and_shows_desc(
    open_collection, frames_dir, tmp_path
):
    with open_collection(
        "Outdoor", tmp_path / "exports", frames_dir, timezone="Europe/Berlin"
    ) as c:
        c.add_export("Noon", "noon", "Noon ", "1 per day @ Noon", hour="12", minute="0")
        c.export.add_export("Night", "night", "Night ", "", hour="23,0-5", minute="*/30", day=None)
        assert sorted(c.exports) == ["Night", "Noon"]
        noon = c.exports["Noon"]
        assert (noon.subdir, noon.prefix, noon.desc) == ("noon", "Noon ", "1 per day @ Noon")
        assert noon.cron() == {"hour": "12", "minute": "0"}
        assert str(noon) == (
            "Export: Noon - Subdir: noon - Desc: 1 per day @ Noon - Prefix: Noon  - "
            "cron[hour='12', minute='0']"
        )
        assert "1 per day @ Noon" in repr(noon)
        assert "exports=['Night', 'Noon']" in repr(c)
        result = noon.run()
        assert result.written == 3  # one per day, into export_dir/subdir
        assert sorted(p.name for p in (tmp_path / "exports" / "noon").glob("*.jpg")) == [
            "Noon 000001.jpg",
            "Noon 000002.jpg",
            "Noon 000003.jpg",
        ]


def test_export_is_callable_and_takes_02_writer_options(open_collection, frames_dir, tmp_path):
    seen: list[tuple[int, int, str]] = []
    with open_collection(
        "Outdoor", tmp_path / "exports", frames_dir, timezone="Europe/Berlin"
    ) as c:
        c.add_export("Noon", "noon", "Noon ", hour="12", minute="0")
        result = c.export(
            "Noon",
            resize=True,
            resolution=(16, 16),
            quality=50,
            zeropadding=3,
            drawtimestamp=True,
            timestampformat="%H:%M",
            timestampcolor=(255, 0, 0),
            timestamppos=(1, 1),
            timestampfontsize=9,
            timestamp_source_tz="UTC",
            timestamp_display_tz="Asia/Tokyo",
            progress_callback=lambda done, total, msg: seen.append((done, total, msg)),
        )
        names = sorted(p.name for p in result.output_dir.glob("*.jpg"))
        assert names == ["Noon 001.jpg", "Noon 002.jpg", "Noon 003.jpg"]
        with Image.open(result.output_dir / names[0]) as im:
            assert im.size == (16, 12)  # fit into 16x16, aspect kept (the frames are 32x24)
        assert seen[-1][:2] == (3, 3)
        # the same call spelled as the README does, today's defaults: full size, 6 digits
        again = c.export.run("Noon", tmp_path / "elsewhere")
        assert again.output_dir == tmp_path / "elsewhere" / "noon"
        first = sorted(again.output_dir.glob("*.jpg"))[0]
        assert first.name == "Noon 000001.jpg"
        with Image.open(first) as im:
            assert im.size == (32, 24)
        with pytest.raises(TypeError, match=r"unknown export option.*bogus.*resolution"):
            c.export("Noon", bogus=1)


def test_zeropadding_is_remembered_so_the_next_export_replaces_its_files(
    open_collection, frames_dir, tmp_path
):
    with open_collection(
        "Outdoor", tmp_path / "exports", frames_dir, timezone="Europe/Berlin"
    ) as c:
        c.add_export("Noon", "noon", "Noon ", hour="12", minute="0")
        c.export("Noon", zeropadding=3)
        folder = tmp_path / "exports" / "noon"
        assert sorted(p.name for p in folder.glob("*.jpg")) == [
            "Noon 001.jpg",
            "Noon 002.jpg",
            "Noon 003.jpg",
        ]
        c.add_export("Noon2", "noon", "Noon ", hour="12", minute="0", date_to="2024-10-27")
        c.export("Noon2", zeropadding=3)  # two days, into the same folder
        assert sorted(p.name for p in folder.glob("*.jpg")) == ["Noon 001.jpg", "Noon 002.jpg"]
        c.export("Noon")  # back to six digits: the three-digit files are replaced, not kept
        assert sorted(p.name for p in folder.glob("*.jpg")) == [
            "Noon 000001.jpg",
            "Noon 000002.jpg",
            "Noon 000003.jpg",
        ]


def test_a_collections_ignore_list_reaches_every_scan(tmp_path, frames_dir):
    # frames in 'bad/' and the default 'rejected/' are kept out, by the library and the CLI
    from pylapse.cli import main

    day = next(p for p in sorted(frames_dir.iterdir()) if p.is_dir())
    kept = sorted(day.glob("*.jpg"))
    for folder in ("bad", "rejected"):
        (day / folder).mkdir()
        for path in kept[:3]:
            (day / folder / path.name).write_bytes(path.read_bytes())
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "data_dir": "data",
        "storage_roots": [str(tmp_path)],
        "collections": {
            "picky": {"name": "Picky", "path": str(frames_dir), "ignore": ["bad/"]},
            "plain": {"name": "Plain", "path": str(frames_dir)},
        },
    }))  # fmt: skip
    config = load_config(cfg)
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    try:
        picky = Collection.from_config(config, "picky", index)
        assert picky.ignore == ("bad/",)
        picky.refresh()
        assert len(picky) == 142 + 3  # 'rejected/' is indexed once the list no longer names it
        plain = Collection.from_config(config, "plain", index)
        assert plain.ignore == ("rejected/",)
        plain.refresh()
        assert len(plain) == 142 + 3  # 'bad/' indexed, 'rejected/' not
    finally:
        index.close()
    assert main(["index", "--config", str(cfg), "--rebuild", "--no-progress"]) == 0
    with FrameIndex(tmp_path / "data" / "pylapse.db") as again:
        assert again.count("picky") == again.count("plain") == 145
        names = {f.path.parent.name for f in again.frames("picky")}
        assert "bad" not in names and "rejected" in names


def test_export_run_takes_the_deflicker_options(open_collection, frames_dir, tmp_path):
    with open_collection(
        "Outdoor", tmp_path / "exports", frames_dir, timezone="Europe/Berlin"
    ) as c:
        c.add_export("Morning", subdir="morning", hour="6-8", minute=0)
        result = c.export.run("Morning", deflicker=True, deflicker_window=5)
        assert result.written == 9 and result.linked == 0  # re-encoded with their gains
        with pytest.raises(ValueError, match="deflicker_strength must be 0-1"):
            c.export.run("Morning", deflicker=True, deflicker_strength=3)
