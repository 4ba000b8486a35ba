"""Where each frame's time came from (issue 14): stored per frame by the scan, neighbours and
the collection's zone for frames without offset evidence, re-resolution on a zone change, a zone
timeline, capture's frames, and rows indexed before sources were recorded."""

from __future__ import annotations

import io
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import piexif
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pylapse import db, filetime, timeutil
from pylapse.index.store import FrameIndex
from pylapse.index.zones import ZoneSpan, ZoneTimeline

REAL = Path("/work/shared/testdata/exif-real")
BERLIN = timeutil.zone("Europe/Berlin")
TOKYO = timeutil.zone("Asia/Tokyo")


def jpeg(path: Path, taken: str | None, offset: str | None = None) -> Path:
    """A small JPEG with EXIF DateTimeOriginal ``taken`` ("2024:01:15 12:34:56") and
    OffsetTimeOriginal ``offset`` ("+09:00"), each left out when ``None``."""
    exif_ifd: dict[int, bytes] = {}
    if taken is not None:
        exif_ifd[piexif.ExifIFD.DateTimeOriginal] = taken.encode()
    if offset is not None:
        exif_ifd[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "grey").save(buf, "JPEG")
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    piexif.insert(piexif.dump({"0th": {}, "Exif": exif_ifd, "1st": {}}), buf.getvalue(), out)
    path.write_bytes(out.getvalue())
    return path


def by_name(index: FrameIndex, key: str = "c"):
    return {f.name: f for f in index.frames(key)}


def test_names_with_offsets_are_certain_and_their_files_never_opened(
    tmp_path, monkeypatch, index_location
):
    root = tmp_path / "frames"
    root.mkdir()
    for i in range(3):
        (root / f"cam-2026-02-09T10-00-0{i}+09.00.jpg").write_bytes(b"")
    (root / "2026-02-09T10-00-05Z.jpg").write_bytes(b"")

    def refuse(*args, **kwargs):
        raise AssertionError("a name with its offset must not open the file")

    monkeypatch.setattr(filetime, "file_evidence", refuse)
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        frames = by_name(index)
        assert {(f.time_source, f.offset_source, f.time_status) for f in frames.values()} == {
            ("name", "name", "certain")
        }
        assert frames["2026-02-09T10-00-05Z.jpg"].utc == datetime(
            2026, 2, 9, 10, 0, 5, tzinfo=timeutil.fixed_zone(0)
        ).timestamp()
        assert index.time_counts("c") == {("name", "name", "certain"): 4}


def test_a_wall_clock_name_takes_the_offset_its_exif_proves(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "IMG_20240115_123456.jpg", "2024:01:15 12:34:56", "+09:00")
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        (frame,) = index.frames("c")
    assert frame.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=timeutil.fixed_zone(32400))
    assert (frame.time_source, frame.offset_source, frame.time_status) == (
        "name", "exif-offset", "certain",
    )


def test_frames_without_evidence_between_equal_offsets_are_inferred(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "a.jpg", "2024:01:15 10:00:00", "+09:00")
    jpeg(root / "b.jpg", "2024:01:15 11:00:00")  # no offset: between two +09:00 frames
    jpeg(root / "c.jpg", "2024:01:15 12:00:00", "+09:00")
    jpeg(root / "d.jpg", "2024:01:15 13:00:00")  # after the last one: the collection's zone
    with FrameIndex(index_location) as index:
        result = index.scan("c", root, BERLIN)
        frames = by_name(index)
        counts = index.time_counts("c")
    assert result.dependent == 2
    assert result.reresolved == 0  # frames new in this scan are not "re-read"
    assert "re-read" not in result.summary
    b, d = frames["b.jpg"], frames["d.jpg"]
    assert (b.offset, b.offset_source, b.time_status) == (32400, "neighbours", "inferred")
    assert b.time.replace(tzinfo=None) == datetime(2024, 1, 15, 11)
    assert "a.jpg" in (b.time_reason or "") and "c.jpg" in (b.time_reason or "")
    assert (d.offset, d.offset_source, d.time_status) == (3600, "zone", "assumed")
    assert "Europe/Berlin" in (d.time_reason or "")
    assert counts[("exif", "neighbours", "inferred")] == 1
    assert counts[("exif", "zone", "assumed")] == 1
    assert counts[("exif", "exif-offset", "certain")] == 2


def test_unequal_neighbours_leave_the_zone(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "a.jpg", "2024:01:15 10:00:00", "+09:00")
    jpeg(root / "b.jpg", "2024:01:15 11:00:00")
    jpeg(root / "c.jpg", "2024:01:15 12:00:00", "+08:00")
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        b = by_name(index)["b.jpg"]
    assert (b.offset, b.offset_source, b.time_status) == (3600, "zone", "assumed")


def test_assumed_offsets_follow_dst_of_the_zone(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "winter.jpg", "2024:03:31 01:30:00")  # before Berlin springs forward (02:00)
    jpeg(root / "summer.jpg", "2024:03:31 03:30:00")
    jpeg(root / "autumn.jpg", "2024:10:27 02:30:00")  # repeated hour: the first occurrence
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        frames = by_name(index)
    assert frames["winter.jpg"].offset == 3600
    assert frames["summer.jpg"].offset == 7200
    assert frames["autumn.jpg"].offset == 7200
    assert frames["summer.jpg"].utc - frames["winter.jpg"].utc == 3600  # one real hour apart


def test_a_zone_change_re_resolves_only_what_depended_on_the_zone(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "proven.jpg", "2024:01:15 10:00:00", "+05:30")
    jpeg(root / "a.jpg", "2024:01:16 10:00:00")
    jpeg(root / "b.jpg", "2024:01:16 11:00:00")
    (root / "cam-2024-01-17T10-00-00+01.00.jpg").write_bytes(b"")
    with FrameIndex(index_location) as index:
        first = index.scan("c", root, BERLIN)
        assert first.zone_change == "" and first.reresolved == 0
        again = index.scan("c", root, BERLIN)  # same zone, nothing new: nothing re-read
        assert again.zone_change == "" and again.reresolved == 0
        changed = index.scan("c", root, TOKYO)
        frames = by_name(index)
        days = sum(index.count_by_day("c", TOKYO).values())
    assert changed.zone_change == "Europe/Berlin -> Asia/Tokyo"
    assert changed.reresolved == 2
    assert "2 frame(s) re-read" in changed.summary
    for name in ("a.jpg", "b.jpg"):
        f = frames[name]
        assert (f.offset, f.offset_source, f.time_status) == (32400, "zone", "assumed")
        assert f.time.hour in (10, 11)  # the file's wall clock kept, its instant moved
    assert frames["proven.jpg"].offset == 19800  # proven by its file: untouched
    assert frames["cam-2024-01-17T10-00-00+01.00.jpg"].offset == 3600
    assert days == 4


def test_a_timeline_span_sets_the_zone_of_frames_taken_in_it(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "home.jpg", "2024:01:10 12:00:00")
    jpeg(root / "trip.jpg", "2024:02:10 12:00:00")
    jpeg(root / "back.jpg", "2024:03:10 12:00:00")
    timeline = ZoneTimeline(
        BERLIN, [ZoneSpan(datetime(2024, 2, 1), datetime(2024, 3, 1), "Asia/Tokyo")]
    )
    with FrameIndex(index_location) as index:
        index.scan("c", root, timeline)
        frames = by_name(index)
        assert [frames[n].offset for n in ("home.jpg", "trip.jpg", "back.jpg")] == [
            3600, 32400, 3600,
        ]
        assert "Asia/Tokyo" in (frames["trip.jpg"].time_reason or "")
        again = index.scan("c", root, ZoneTimeline(BERLIN))  # the span removed
        assert again.zone_change == "Europe/Berlin with 1 span(s) -> Europe/Berlin"
        assert again.reresolved == 1
        assert by_name(index)["trip.jpg"].offset == 3600


def test_an_inferred_span_carries_the_last_proven_offset_forward(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "phone.jpg", "2024:02:10 09:00:00", "+09:00")
    jpeg(root / "camera1.jpg", "2024:02:10 12:00:00")
    jpeg(root / "camera2.jpg", "2024:02:11 12:00:00")
    timeline = ZoneTimeline(BERLIN, [ZoneSpan(datetime(2024, 2, 1), None, "inferred")])
    with FrameIndex(index_location) as index:
        index.scan("c", root, timeline)
        frames = by_name(index)
    for name in ("camera1.jpg", "camera2.jpg"):
        f = frames[name]
        assert (f.offset, f.offset_source, f.time_status) == (32400, "neighbours", "inferred")
        assert "phone.jpg" in (f.time_reason or "")


def test_mtime_fallbacks_keep_their_instant_when_the_zone_changes(tmp_path, index_location):
    root = tmp_path / "frames"
    root.mkdir()
    path = root / "undated.jpg"
    path.write_bytes(b"not a jpeg")
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        before = index.frames("c")[0]
        index.scan("c", root, TOKYO)
        after = index.frames("c")[0]
        flagged = index.flagged("c", mtime=True)
    assert (before.time_source, before.offset_source, before.time_status) == (
        "mtime", "zone", "assumed",
    )
    assert "modification time" in (before.time_reason or "")
    assert after.utc == before.utc == pytest.approx(path.stat().st_mtime)
    assert (before.offset, after.offset) == (
        timeutil.offset_seconds(datetime.fromtimestamp(before.utc, BERLIN)),
        32400,
    )
    assert [f.name for f in flagged] == ["undated.jpg"]


def test_real_camera_files_copied_into_a_collection(tmp_path, index_location):
    root = tmp_path / "frames"
    root.mkdir()
    for name in ("nokia_8.3_5g_offset+0300.jpg", "sony_a58.jpg"):
        shutil.copy(REAL / name, root / name)
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        frames = by_name(index)
    nokia, sony = frames["nokia_8.3_5g_offset+0300.jpg"], frames["sony_a58.jpg"]
    assert nokia.time == datetime(2022, 8, 14, 14, 12, 31, tzinfo=timeutil.fixed_zone(10800))
    assert (nokia.time_source, nokia.offset_source, nokia.time_status) == (
        "exif", "exif-offset", "certain",
    )
    assert sony.time.replace(tzinfo=None) == datetime(2023, 10, 28, 21, 42, 29)
    assert (sony.offset, sony.offset_source, sony.time_status) == (7200, "zone", "assumed")


def test_capture_frames_are_certain_and_never_re_resolved(tmp_path, index_location):
    root = tmp_path / "frames"
    root.mkdir()
    when = datetime(2026, 2, 9, 12, 0, tzinfo=TOKYO)
    path = root / "shot.jpg"
    path.write_bytes(b"")
    with FrameIndex(index_location) as index:
        index.add_frame("c", path, when, size=0, mtime=0.0)
        (frame,) = index.frames("c")
        assert (frame.time_source, frame.offset_source, frame.time_status) == (
            "capture", "capture", "certain",
        )
        index.scan("c", root, BERLIN)  # the name has no time: scan keeps capture's row
        assert index.frames("c")[0].offset == 32400


def test_rows_from_before_the_sources_count_as_unknown(tmp_path):
    """An index made before schema step 2: its rows keep NULL sources and show as unknown."""
    from pylapse.index import schema

    path = tmp_path / "pylapse.db"
    conn = db.connect(path)
    db.migrate(conn, schema.COMPONENT, schema.SCHEMA[:1])
    conn.execute("INSERT INTO index_collections (key, zone) VALUES ('c', 'Europe/Berlin')")
    conn.execute("INSERT INTO scanned_dirs (collection_id, path) VALUES (1, '/x')")
    conn.execute(
        "INSERT INTO frames (collection_id, dir_id, name, utc, utc_offset, source) "
        "VALUES (1, 1, 'old.jpg', 0, 3600, 'filename')"
    )
    conn.commit()
    conn.close()
    with FrameIndex(path) as index:
        (frame,) = index.frames("c")
        assert frame.time_source is None and frame.time_status is None
        assert index.time_counts("c") == {("unknown", "unknown", "unknown"): 1}
    with sqlite3.connect(path) as raw:
        cols = {r[1] for r in raw.execute("PRAGMA table_info(frames)")}
    assert {"time_source", "offset_source", "time_status", "time_reason"} <= cols


def test_collection_on_a_cached_folder_re_reads_frames_when_its_zone_changes(
    tmp_path, monkeypatch
):
    from pylapse.collection import Collection

    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "frames"
    jpeg(root / "a.jpg", "2024:01:16 10:00:00")
    with Collection("c", None, root, timezone="Europe/Berlin") as first:
        assert first.frames()[0].offset == 3600
    with Collection("c", None, root, timezone="Asia/Tokyo") as second:
        result = second.refresh()
        assert result.zone_change == "Europe/Berlin -> Asia/Tokyo"
        assert result.reresolved == 1
        assert second.frames()[0].offset == 32400
    spans = [{"from": "2024-01-01", "to": "2024-02-01", "timezone": "America/New_York"}]
    with Collection("c", None, root, timezone="Asia/Tokyo", zones=spans) as third:
        assert third.refresh().reresolved == 1
        assert third.frames()[0].offset == -5 * 3600


def test_config_zones_are_validated_and_reach_the_scan(tmp_path):
    from pylapse.config.models import CollectionConfig

    spans = [{"from": "2024-01-01", "to": "2024-02-01", "timezone": "Asia/Tokyo"}]
    entry = CollectionConfig(name="c", path=str(tmp_path), timezone="Europe/Berlin", zones=spans)
    assert entry.zones == spans
    for bad, says in [
        ([{"timezone": "Mars/Base"}], "IANA"),
        ([{"from": "2024-02-01", "to": "2024-01-01", "timezone": "UTC"}], "not before"),
        ([{"timezone": "UTC"}, {"from": "2024-01-01", "timezone": "UTC"}], "overlap"),
        ([{"from": "2024-01-01T00:00+01:00", "timezone": "UTC"}], "wall clock"),
        ([{"since": "2024-01-01", "timezone": "UTC"}], "unknown key"),
    ]:
        with pytest.raises(ValueError, match=says):
            CollectionConfig(name="c", path=str(tmp_path), zones=bad)


def test_a_utc_name_keeps_its_instant_and_takes_the_file_offset_only_when_it_matches(
    tmp_path, index_location
):
    root = tmp_path / "frames"
    # Pixel names are UTC: 03:34:56Z. One file's clock shows that instant at +09:00 ...
    jpeg(root / "PXL_20240115_033456000.jpg", "2024:01:15 12:34:56", "+09:00")
    # ... another has no EXIF at all: the instant stays, the offset is the zone's
    root.joinpath("PXL_20240116_033456000.jpg").write_bytes(b"")
    instant = datetime(2024, 1, 16, 3, 34, 56, tzinfo=timeutil.fixed_zone(0)).timestamp()
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        frames = by_name(index)
        proven, bare = frames["PXL_20240115_033456000.jpg"], frames["PXL_20240116_033456000.jpg"]
        assert (proven.offset, proven.offset_source, proven.time_status) == (
            32400, "exif-offset", "certain",
        )
        assert proven.time_source == "name-utc"
        assert (bare.utc, bare.offset, bare.offset_source, bare.time_status) == (
            instant, 3600, "zone", "assumed",
        )
        assert index.scan("c", root, TOKYO).reresolved == 1
        bare = by_name(index)["PXL_20240116_033456000.jpg"]
    assert (bare.utc, bare.offset) == (instant, 32400)  # the instant never moves


def test_folder_dates_and_counters_are_wall_clocks(tmp_path, index_location):
    root = tmp_path / "frames"
    (root / "2024-01-15").mkdir(parents=True)
    (root / "2024-01-15" / "12-34-56.jpg").write_bytes(b"")  # motionEye
    (root / "20240115_123456-0001.jpg").write_bytes(b"")  # a counter, not -00:01
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        frames = by_name(index)
    motion, counter = frames["12-34-56.jpg"], frames["20240115_123456-0001.jpg"]
    assert motion.time_source == "folder+name"
    assert counter.time_source == "name"
    for f in (motion, counter):
        assert f.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=timeutil.fixed_zone(3600))
        assert (f.offset_source, f.time_status) == ("zone", "assumed")


@pytest.mark.parametrize("seed", range(4))
def test_incremental_scans_resolve_as_a_fresh_scan_does(tmp_path, seed, index_location):
    """Rescans re-resolve only the frames near what changed: after frames arrive in any order,
    with and without evidence, the rows equal those of one scan of the final folder."""
    import random

    rng = random.Random(seed)
    root = tmp_path / "frames"
    index = FrameIndex(index_location)
    days = [f"2024:{m:02d}:{d:02d}" for m in (3, 4) for d in range(1, 29, 3)]
    for step in range(20):
        for i in range(rng.randint(1, 4)):
            day = rng.choice(days)
            hour = rng.randint(0, 23)
            offset = rng.choice([None, None, "+09:00", "+09:00", "+05:30"])
            folder = root / day.replace(":", "-")
            jpeg(folder / f"f{step}_{i}.jpg", f"{day} {hour:02d}:{rng.randint(0, 59):02d}:00",
                 offset)  # fmt: skip
        if rng.random() < 0.3:
            victim = rng.choice(sorted(root.rglob("*.jpg")))
            victim.unlink()
        index.scan("c", root, BERLIN)
    fresh = FrameIndex(tmp_path / "fresh")
    fresh.scan("c", root, BERLIN)

    def rows(ix):
        return sorted((f.name, f.utc, f.offset, f.offset_source, f.time_status, f.time_reason)
                      for f in ix.frames("c"))  # fmt: skip

    try:
        assert rows(index) == rows(fresh)
        assert index.count_by_day("c", BERLIN) == fresh.count_by_day("c", BERLIN)
    finally:
        index.close()
        fresh.close()


def test_a_new_frame_with_evidence_re_reads_the_frames_it_now_brackets(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "a.jpg", "2024:01:15 10:00:00", "+09:00")
    jpeg(root / "b.jpg", "2024:01:15 11:00:00")
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        assert by_name(index)["b.jpg"].offset_source == "zone"
        jpeg(root / "c.jpg", "2024:01:15 12:00:00", "+09:00")
        later = index.scan("c", root, BERLIN)
        b = by_name(index)["b.jpg"]
    assert later.reresolved == 1 and later.zone_change == ""
    assert (b.offset, b.offset_source, b.time_status) == (32400, "neighbours", "inferred")


def test_neighbours_far_away_say_nothing(tmp_path, index_location):
    root = tmp_path / "frames"
    jpeg(root / "a.jpg", "2022:08:14 10:00:00", "+03:00")
    jpeg(root / "b.jpg", "2022:08:16 09:00:00")  # 47 h after a, 49 h before c
    jpeg(root / "c.jpg", "2022:08:18 10:00:00", "+03:00")
    jpeg(root / "d.jpg", "2023:10:28 21:42:29")  # a year from any frame with evidence
    jpeg(root / "e.jpg", "2025:08:10 19:02:53", "+03:00")
    with FrameIndex(index_location) as index:
        index.scan("c", root, BERLIN)
        frames = by_name(index)
    assert (frames["b.jpg"].offset_source, frames["b.jpg"].offset) == ("zone", 7200)
    assert (frames["d.jpg"].offset_source, frames["d.jpg"].offset) == ("zone", 7200)


def _reference(rows, zone):
    """Neighbours then zone, written the plain way: for each frame without evidence, scan the
    whole list for its nearest frames with evidence."""
    from datetime import timedelta

    from pylapse.index.zones import NEIGHBOUR_GAP

    order = sorted(rows, key=lambda r: (r[1], r[0]))
    out = {}
    for i, (fid, local, offset, evidence) in enumerate(order):
        if evidence:
            out[fid] = offset
            continue
        before = [r for r in order[:i] if r[3]]
        after = [r for r in order[i + 1 :] if r[3]]
        p, n = (before[-1] if before else None), (after[0] if after else None)
        if (p and n and p[2] == n[2] and local - p[1] <= NEIGHBOUR_GAP
                and n[1] - local <= NEIGHBOUR_GAP):  # fmt: skip
            out[fid] = p[2]
        else:
            wall = datetime(1970, 1, 1) + timedelta(seconds=local)
            out[fid] = timeutil.offset_seconds(timeutil.localize(wall, zone))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1_700_000_000, 1_700_000_000 + 10 * 86400),  # wall clock seconds
            st.sampled_from([None, None, 3600, 32400, 19800]),  # proven offset or none
        ),
        max_size=25,
    )
)
def test_every_frame_without_evidence_gets_its_neighbours_or_the_zone(items):
    import tempfile

    from pylapse.index import schema
    from pylapse.index.zones import ZoneTimeline, resolve_dependents

    folder = tempfile.TemporaryDirectory()
    conn = db.connect(Path(folder.name) / "index.db")
    db.migrate(conn, schema.COMPONENT, schema.SCHEMA)
    conn.execute("INSERT INTO index_collections (key) VALUES ('c')")
    conn.execute("INSERT INTO scanned_dirs (collection_id, path) VALUES (1, '/x')")
    rows = []
    for i, (local, offset) in enumerate(items, start=1):
        evidence = offset is not None
        stored = offset if evidence else 0
        conn.execute(
            "INSERT INTO frames (id, collection_id, dir_id, name, utc, utc_offset, source, "
            "time_source, offset_source, time_status) VALUES (?, 1, 1, ?, ?, ?, 'exif', 'exif', "
            "?, ?)",
            (i, f"f{i}.jpg", local - stored, stored,
             "exif-offset" if evidence else "zone", "certain" if evidence else "assumed"),
        )  # fmt: skip
        rows.append((i, local, offset, evidence))
    resolve_dependents(conn, 1, ZoneTimeline(BERLIN))
    got = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, utc, utc_offset FROM frames")}
    expected = _reference(rows, BERLIN)
    assert {fid: off for fid, (_, off) in got.items()} == expected
    for fid, local, _offset, _evidence in rows:  # the wall clock never moves
        assert got[fid][0] + got[fid][1] == local
    conn.close()
    folder.cleanup()
