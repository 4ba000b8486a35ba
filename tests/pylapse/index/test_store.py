"""The frame index on real SQLite files and real folder trees (no mocks)."""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pylapse import db, naming, storage, timeutil
from pylapse.index.frame import Frame
from pylapse.index.scan import ScanError
from pylapse.index.store import FrameIndex
from pylapse.naming import fastparse
from pylapse.naming import times as nametime
from pylapse.progress import Cancelled, Progress

BERLIN = timeutil.zone("Europe/Berlin")
TOKYO = timeutil.zone("Asia/Tokyo")


def put(root: Path, when: datetime, prefix: str = "cam-", data: bytes = b"") -> Path:
    """An (empty unless ``data``) frame file named and foldered the way capture does it."""
    path = storage.day_folder(root, when) / naming.format_name(when, prefix=prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def age(root: Path, seconds: float = 3600) -> None:
    """Move every folder's mtime into the past, out of the scan's racy-timestamp window."""
    past = time.time() - seconds
    for folder, _dirs, _files in os.walk(root):
        os.utime(folder, (past, past))


def rows(index: FrameIndex, key: str) -> list[tuple]:
    """What the index says about the files, without the (insertion-order) ids."""
    return [(str(f.path), f.utc, f.offset, f.source) for f in index.frames(key)]


def jpeg(color: int = 128, size: tuple[int, int] = (8, 6), exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    extra = {"exif": exif} if exif else {}
    Image.new("L", size, color).save(buf, "JPEG", **extra)
    return buf.getvalue()


@pytest.fixture
def index(index_location):
    with FrameIndex(index_location) as ix:
        yield ix


@pytest.fixture
def tree(tmp_path):
    """Three days of frames every 6 hours, Europe/Berlin, in day folders."""
    root = tmp_path / "frames"
    start = datetime(2026, 2, 8, 0, 0, tzinfo=BERLIN)
    for i in range(12):
        put(root, start + timedelta(hours=6 * i))
    return root


def test_schema_is_versioned_and_a_sqlite_file_is_wal(index):
    conn = db.connect(index.location)
    assert conn.execute("SELECT version FROM schema_versions WHERE component = 'index'").fetchone()
    if index.backend is db.Backend.SQLITE:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_cold_scan_indexes_every_frame_in_time_order(index, tree):
    result = index.scan("cam", tree, BERLIN)
    assert (result.added, result.parsed, result.total, result.dirs_listed) == (12, 12, 12, 4)
    frames = index.frames("cam")
    assert len(frames) == index.count("cam") == 12
    assert all(isinstance(f, Frame) and f.source == "filename" for f in frames)
    assert frames[0].time == datetime(2026, 2, 8, 0, 0, tzinfo=BERLIN)
    assert frames[0].time.utcoffset() == timedelta(hours=1)
    assert frames[0].path == tree / "2026-02-08" / "cam-2026-02-08T00-00-00+01.00.jpg"
    assert [f.utc for f in frames] == sorted(f.utc for f in frames)
    assert index.first("cam") == frames[0] and index.last("cam") == frames[-1]
    assert index.get(frames[3].id) == frames[3]
    assert index.get(10**9) is None


def test_frames_order_by_instant_not_by_name(index, tmp_path):
    root = tmp_path / "mixed"
    root.mkdir()
    # Lexically 09-30 sorts first, but 10:00+01:00 is 09:00 UTC, half an hour earlier.
    later = root / "cam-2026-03-01T09-30-00+00.00.jpg"
    earlier = root / "cam-2026-03-01T10-00-00+01.00.jpg"
    later.touch()
    earlier.touch()
    index.scan("mixed", root, BERLIN)
    assert [f.path for f in index.frames("mixed")] == [earlier, later]
    assert [f.path for f in index.frames("mixed", descending=True)] == [later, earlier]
    ids, utcs = index.utc_times("mixed")
    assert list(utcs) == [f.utc for f in index.frames("mixed")]
    assert list(ids) == [f.id for f in index.frames("mixed")]


def test_frames_in_the_same_second_are_both_kept(index, tmp_path):
    root = tmp_path / "burst"
    when = datetime(2026, 5, 1, 12, 0, 0, tzinfo=TOKYO)
    a, b = put(root, when, "a-"), put(root, when, "b-")
    result = index.scan("burst", root, TOKYO)
    assert result.added == 2
    frames = index.frames("burst")
    assert {f.path for f in frames} == {a, b}
    assert frames[0].utc == frames[1].utc == when.timestamp()


def test_no_change_rescan_lists_no_folder_and_parses_nothing(index, tree, monkeypatch):
    age(tree)
    index.scan("cam", tree, BERLIN)
    before = rows(index, "cam")

    def refuse(*args, **kwargs):
        raise AssertionError("the scan parsed a name")

    # every way the scan reads names: batches (fastparse), one name at a time (naming, looked
    # up when a scan starts; nametime's own functions fall back to nametime.parse_name), and
    # the file-based fallback
    for module, name in [
        (fastparse, "default_batch"),
        (naming, "parse_name_utc"),
        (naming, "parse_name"),
        (nametime, "parse_name"),
        (naming, "frame_time"),
    ]:
        monkeypatch.setattr(module, name, refuse)
    result = index.scan("cam", tree, BERLIN)
    assert (result.parsed, result.added, result.deleted, result.changed) == (0, 0, 0, 0)
    assert (result.dirs_listed, result.dirs_skipped) == (0, 4)
    assert rows(index, "cam") == before
    # the refusals are on the scan's path: a folder with a new name trips them
    put(tree, datetime(2026, 2, 8, 7, 0, tzinfo=BERLIN))
    with pytest.raises(AssertionError, match="the scan parsed a name"):
        index.scan("cam", tree, BERLIN)


def test_added_deleted_and_replaced_files_are_picked_up(index, tree):
    age(tree)
    index.scan("cam", tree, BERLIN)
    first = index.first("cam")
    with db.connect(index.location) as conn:  # metrics as capture stores them
        conn.execute(
            "UPDATE frames SET luma = 99.0, sharpness = 3.5, clip_high = 0.5, dhash = 7, "
            "hash_distance = 2 WHERE id = ?",
            (first.id,),
        )
    assert index.get(first.id).luma == 99.0

    new = put(tree, datetime(2026, 2, 9, 7, 0, tzinfo=BERLIN))  # in an existing day folder
    newday = put(tree, datetime(2026, 2, 12, 7, 0, tzinfo=BERLIN))  # in a new one
    gone = index.last("cam").path
    gone.unlink()
    storage.atomic_write(first.path, jpeg())  # replaced the way pyLapse writes: new inode

    result = index.scan("cam", tree, BERLIN)
    assert (result.added, result.deleted, result.changed) == (2, 1, 1)
    assert result.parsed == 3  # the two new names and the replaced one; nothing else
    paths = {f.path for f in index.frames("cam")}
    assert {new, newday} <= paths and gone not in paths
    replaced = index.get(first.id)
    assert replaced is not None and replaced.path == first.path
    assert replaced.luma is None and replaced.sharpness is None  # metrics of the old image
    assert (replaced.clip_high, replaced.dhash, replaced.hash_distance) == (None, None, None)
    assert index.count("cam") == 13


def test_a_removed_day_folder_takes_its_rows(index, tree):
    index.scan("cam", tree, BERLIN)
    for f in (tree / "2026-02-09").iterdir():
        f.unlink()
    (tree / "2026-02-09").rmdir()
    result = index.scan("cam", tree, BERLIN)
    assert (result.deleted, result.dirs_deleted) == (4, 1)
    assert date(2026, 2, 9) not in index.count_by_day("cam", BERLIN)
    assert index.count("cam") == 8


def test_rewrite_in_place_is_found_by_a_verifying_scan(index, tree):
    age(tree)
    index.scan("cam", tree, BERLIN, verify=True)  # fills size and mtime
    frame = index.first("cam")
    assert (frame.size, frame.mtime) == (0, frame.path.stat().st_mtime)
    with open(frame.path, "r+b") as handle:  # same inode; the folder's mtime does not move
        handle.write(b"new content")
    quick = index.scan("cam", tree, BERLIN)
    assert (quick.changed, quick.dirs_listed) == (0, 0)  # documented: invisible to a quick scan
    full = index.scan("cam", tree, BERLIN, verify=True)
    assert full.changed == 1 and full.dirs_listed == 4
    assert index.get(frame.id).size == len(b"new content")


def test_rebuild_from_scratch_equals_incremental(tmp_path, tree):
    db = tmp_path / "data" / "pylapse.db"
    with FrameIndex(db) as index:
        index.scan("cam", tree, BERLIN)
        put(tree, datetime(2026, 2, 11, 1, 0, tzinfo=BERLIN))
        put(tree / "deeper" / "still", datetime(2026, 2, 11, 2, 0, tzinfo=BERLIN))
        put(tree, datetime(2026, 2, 11, 3, 0, tzinfo=BERLIN)).rename(tree / "loose.jpg")
        (tree / "2026-02-08" / "cam-2026-02-08T06-00-00+01.00.jpg").unlink()
        index.scan("cam", tree, BERLIN)
        incremental = rows(index, "cam")
        days = index.count_by_day("cam", BERLIN)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with FrameIndex(db) as index:
        index.scan("cam", tree, BERLIN)
        assert rows(index, "cam") == incremental
        assert index.count_by_day("cam", BERLIN) == days
    assert len(incremental) == 14
    assert any(r[0].endswith("loose.jpg") and r[3] == "mtime" for r in incremental)


def _every_half_hour(root: Path, first: datetime, days: int) -> None:
    utc = first.astimezone(UTC)
    for k in range(days * 48):
        put(root, (utc + timedelta(minutes=30 * k)).astimezone(BERLIN))


def test_count_by_day_across_dst_changes(index, tmp_path):
    root = tmp_path / "berlin"
    _every_half_hour(root, datetime(2026, 3, 28, tzinfo=BERLIN), 3)
    _every_half_hour(root, datetime(2026, 10, 24, tzinfo=BERLIN), 3)
    index.scan("berlin", root, BERLIN)
    days = index.count_by_day("berlin", BERLIN)
    assert days[date(2026, 3, 29)] == 46  # a 23-hour day
    assert days[date(2026, 10, 25)] == 50  # a 25-hour day
    assert days[date(2026, 3, 28)] == days[date(2026, 10, 24)] == 48
    assert sum(days.values()) == index.count("berlin") == 6 * 48
    assert list(days) == sorted(days)
    in_utc = index.count_by_day("berlin", "UTC")  # the same instants counted by UTC days
    assert in_utc[date(2026, 3, 28)] == 48 and in_utc[date(2026, 10, 25)] == 48
    assert index.count_by_day("berlin") == days  # default: the zone the scan used


def test_count_by_day_for_names_without_offset(index, tmp_path):
    root = tmp_path / "phone"
    root.mkdir()
    utc = datetime(2026, 3, 29, tzinfo=BERLIN).astimezone(UTC)
    for k in range(48):
        local = (utc + timedelta(minutes=30 * k)).astimezone(BERLIN)
        (root / local.strftime("IMG_%Y%m%d_%H%M%S.jpg")).touch()
    index.scan("phone", root, BERLIN)
    assert index.count_by_day("phone", BERLIN)[date(2026, 3, 29)] == 46


def test_count_by_day_for_names_in_another_zone(index, tmp_path):
    root = tmp_path / "tokyo-named"
    # 07:00 in Tokyo is 23:00 the day before in Berlin: the day is Berlin's, not the name's.
    put(root, datetime(2026, 2, 10, 7, 0, tzinfo=TOKYO))
    put(root, datetime(2026, 2, 10, 12, 0, tzinfo=TOKYO))
    index.scan("t", root, BERLIN)
    assert index.count_by_day("t", BERLIN) == {date(2026, 2, 9): 1, date(2026, 2, 10): 1}
    assert index.count_by_day("t", TOKYO) == {date(2026, 2, 10): 2}


def test_time_ranges_are_half_open_and_paged(index, tree):
    index.scan("cam", tree, BERLIN)
    start = datetime(2026, 2, 9, 0, 0, tzinfo=BERLIN)
    end = start + timedelta(days=1)
    day = index.frames("cam", start, end)
    assert [f.time.hour for f in day] == [0, 6, 12, 18]
    assert index.count("cam", start, end) == 4
    assert index.count("cam", start) == 8 and index.count("cam", end=end) == 8
    assert [f.time.hour for f in index.frames("cam", start, end, limit=2, offset=1)] == [6, 12]
    ids, utcs = index.utc_times("cam", start.timestamp(), end.timestamp())
    assert len(ids) == len(utcs) == 4 and list(utcs) == sorted(utcs)
    with pytest.raises(ValueError, match="naive"):
        index.frames("cam", datetime(2026, 2, 9))


def test_unknown_collection_reads_as_empty(index):
    assert index.count("nope") == 0
    assert index.frames("nope") == [] and index.first("nope") is None
    assert index.count_by_day("nope", BERLIN) == {}
    assert [len(a) for a in index.utc_times("nope")] == [0, 0]


def test_date_sources(index, tmp_path):
    root = tmp_path / "undated"
    root.mkdir()
    plain = root / "frame.jpg"
    plain.write_bytes(jpeg())
    stamp = datetime(2026, 7, 1, 12, 0, tzinfo=BERLIN).timestamp()
    os.utime(plain, (stamp, stamp))
    with_exif = root / "photo.jpg"
    exif = pytest.importorskip("pylapse.exif")
    taken = datetime(2025, 12, 24, 18, 30, tzinfo=TOKYO)
    with_exif.write_bytes(jpeg(exif=exif.exif_bytes(taken)))
    os.utime(with_exif, (stamp, stamp))

    result = index.scan("auto", root, BERLIN)
    assert result.added == 2
    by_name = {f.path.name: f for f in index.frames("auto")}
    assert by_name["frame.jpg"].source == "mtime" and by_name["frame.jpg"].utc == stamp
    assert by_name["frame.jpg"].size == len(jpeg())  # a stat was needed anyway: kept
    assert by_name["photo.jpg"].source == "exif" and by_name["photo.jpg"].time == taken

    only_names = index.scan("names", root, BERLIN, date_source="filename")
    assert (only_names.added, only_names.skipped) == (0, 2)
    assert "no date and time in the name" in only_names.problems[0]

    index.scan("mtime", root, BERLIN, date_source="mtime")
    assert {f.source for f in index.frames("mtime")} == {"mtime"}
    assert {f.utc for f in index.frames("mtime")} == {stamp}

    with pytest.raises(ScanError, match="date_source 'guess' is not accepted"):
        index.scan("x", root, BERLIN, date_source="guess")


def test_user_pattern_is_used_and_recorded(index, tmp_path):
    root = tmp_path / "custom"
    root.mkdir()
    (root / "shot_15.01.2024_at_08h30.jpg").touch()
    pattern = r"(?P<day>\d\d)\.(?P<month>\d\d)\.(?P<year>\d{4})_at_(?P<hour>\d\d)h(?P<minute>\d\d)"
    index.scan("custom", root, BERLIN, pattern=pattern)
    (frame,) = index.frames("custom")
    assert frame.time == datetime(2024, 1, 15, 8, 30, tzinfo=BERLIN)
    assert frame.source == "pattern"


def test_what_is_walked_and_what_is_ignored(index, tmp_path):
    root = tmp_path / "walk"
    when = datetime(2026, 1, 1, 12, 0, tzinfo=BERLIN)
    put(root, when)  # day folder
    (root / naming.format_name(when + timedelta(hours=1), prefix="root-")).touch()  # root itself
    deep = root / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / naming.format_name(when + timedelta(hours=2), ext="PNG")).touch()  # case of the ext
    (root / ".hidden").mkdir()
    (root / ".hidden" / naming.format_name(when)).touch()
    (root / "notes.txt").write_text("2026-01-01 12:00")
    (root / ".cam-2026-01-01T12-00-00+01.00.jpg.123.tmp").touch()  # an interrupted write
    (root / "a" / "loop").symlink_to(root)  # must not walk forever
    result = index.scan("walk", root, BERLIN)
    assert result.added == 3
    assert sorted(f.path.name[:4] for f in index.frames("walk")) == ["2026", "cam-", "root"]


def test_missing_root_is_an_error_and_keeps_the_rows(index, tree):
    index.scan("cam", tree, BERLIN)
    moved = tree.with_name("unmounted")
    tree.rename(moved)
    with pytest.raises(ScanError, match=r"'cam': folder .*frames does not exist.*kept"):
        index.scan("cam", tree, BERLIN)
    assert index.count("cam") == 12


def test_an_empty_mount_point_keeps_the_rows(index, tree):
    index.scan("cam", tree, BERLIN)
    tree.rename(tree.with_name("on-the-disk"))
    tree.mkdir()  # a disk that is not mounted leaves its mount point, empty
    with pytest.raises(ScanError, match=r"is its disk mounted.*kept"):
        index.scan("cam", tree, BERLIN)
    assert index.count("cam") == 12


def test_a_scan_that_finds_none_of_the_frame_folders_keeps_the_rows(index, tree):
    index.scan("cam", tree, BERLIN)
    for day in [d for d in tree.iterdir() if d.is_dir() and d.name.startswith("2026")]:
        day.rename(tree.parent / day.name)  # every day folder is gone
    (tree / "2026-03-01").mkdir()  # the root is not empty (a new, unindexed folder)
    with pytest.raises(ScanError, match=r"is its disk mounted.*kept"):
        index.scan("cam", tree, BERLIN)
    assert index.count("cam") == 12
    (tree.parent / "2026-02-09").rename(tree / "2026-02-09")  # one folder back: a normal scan
    result = index.scan("cam", tree, BERLIN)
    assert result.deleted == 8 and index.count("cam") == 4


def test_rename_moves_the_frames_to_a_new_key(index, tree):
    index.scan("cam", tree, BERLIN)
    index.scan("empty", tree / "2026-02-08", BERLIN)
    index.drop("empty")  # known to the index, without frames: may be replaced
    assert index.count("cam") == 12  # the id is cached by now
    index.rename("cam", "empty")
    assert index.count("cam") == 0 and index.count("empty") == 12
    assert index.scan("empty", tree, BERLIN).added == 0  # the folders came along
    index.scan("other", tree, BERLIN)
    with pytest.raises(ValueError, match="already has frames under 'other'"):
        index.rename("empty", "other")
    assert index.count("empty") == 12
    index.rename("nothing", "x")  # nothing to move: nothing happens


def test_sizes_and_files_for_a_removal_preview(index, tree, tmp_path):
    index.scan("cam", tree, BERLIN)
    captured = put(tree, datetime(2026, 2, 11, 12, 0, tzinfo=BERLIN), data=b"12345")
    index.add_frame("cam", captured, datetime(2026, 2, 11, 12, 0, tzinfo=BERLIN), size=5,
                    mtime=1.0)  # fmt: skip
    assert index.size_totals("cam") == (13, 5, 12)  # scanned frames have no size yet
    assert index.size_totals("nope") == (0, 0, 0)
    sample = index.unsized_paths("cam", 5)
    assert len(sample) == 5 and all(p.parent.parent == tree for p in sample)
    assert captured not in index.unsized_paths("cam", 100)
    folders = dict(index.files_by_folder("cam"))
    assert sorted(folders) == sorted(str(d) for d in tree.iterdir() if d.name[0] == "2")
    assert sum(len(names) for names in folders.values()) == 13
    assert list(index.files_by_folder("nope")) == []


def test_add_frame_then_scan_does_not_duplicate(index, tmp_path):
    root = tmp_path / "cam"
    when = datetime(2026, 6, 1, 8, 0, 0, 250000, tzinfo=TOKYO)
    path = put(root, when, data=jpeg())
    fid = index.add_frame("cam", path, when, size=12, mtime=1.5, width=8, height=6, luma=128.0)
    frame = index.get(fid)
    assert (frame.path, frame.time, frame.source) == (path, when, "capture")
    assert (frame.size, frame.mtime, frame.width, frame.height, frame.luma) == (12, 1.5, 8, 6, 128)
    assert frame.time.utcoffset() == timedelta(hours=9)
    assert index.add_frame("cam", path, when, size=13, mtime=2.0) == fid  # same path: same row
    result = index.scan("cam", root, TOKYO)
    assert (result.added, result.changed, result.deleted) == (0, 0, 0)
    assert index.count("cam") == 1 and index.count_by_day("cam", TOKYO) == {date(2026, 6, 1): 1}
    assert index.get(fid).size == 13  # the scan kept what capture knew


def test_collections_are_separate_and_drop_forgets_one(index, tree):
    index.scan("one", tree, BERLIN)
    index.scan("two", tree, BERLIN)
    assert index.collections() == ["one", "two"]
    assert index.drop("one") == 12
    assert index.count("one") == 0 and index.count("two") == 12
    assert index.scan("one", tree, BERLIN).added == 12


def test_progress_and_cancel(index, tree):
    seen: list[Progress] = []
    index.scan("cam", tree, BERLIN, progress=seen.append)
    assert seen and {p.stage for p in seen} == {"scan"}
    assert seen[-1].done == seen[-1].total == 4
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        index.scan("other", tree, BERLIN, cancel=stop)


def test_reads_from_other_threads(index, tree):
    index.scan("cam", tree, BERLIN)
    counts: list[int] = []
    worker = threading.Thread(target=lambda: counts.append(index.count("cam")))
    worker.start()
    worker.join()
    assert counts == [12]


def test_many_reading_threads_get_right_answers_from_few_connections(index, tree):
    index.scan("cam", tree, BERLIN)
    start = threading.Barrier(12)
    answers: list[tuple[int, int]] = []

    def read() -> None:
        start.wait()  # all twelve threads alive and reading at once
        for _ in range(5):
            answers.append((index.count("cam"), len(index.frames("cam"))))

    threads = [threading.Thread(target=read) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(12, 12)] * 60
    if index.backend is db.Backend.POSTGRESQL:  # the server's connections of this index
        conn = db.connect(index.location)
        name = conn.execute("SELECT current_setting('application_name')").fetchone()[0]
        n = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?", (name,)
        ).fetchone()[0]
        conn.close()
        assert n <= 1 + 4 + 1  # the writer, at most 4 readers, this one


def test_a_rebuild_by_another_process_keeps_this_ones_view(index_location, tree):
    with FrameIndex(index_location) as web, FrameIndex(index_location) as cli:
        web.scan("cam", tree, BERLIN)
        assert web.count("cam") == 12  # the collection's id is now cached here
        cli.drop("cam")
        assert web.count("cam") == 0 and web.collections() == []
        cli.scan("cam", tree, BERLIN)
        assert web.count("cam") == 12 and web.collections() == ["cam"]


def test_a_huge_folder_is_written_in_chunks(index, tmp_path, monkeypatch):
    from pylapse.index import scan_writer as scanwrite

    monkeypatch.setattr(scanwrite, "CHUNK", 3)  # read by the writer's chunk loop
    inserts = []
    real = scanwrite.FolderWriter._insert

    def counting(self, dir_id, rows):
        inserts.append(len(rows.quick) + len(rows.full) + sum(p[3] for p in rows.packed))
        return real(self, dir_id, rows)

    monkeypatch.setattr(scanwrite.FolderWriter, "_insert", counting)
    root = tmp_path / "flat"
    start = datetime(2026, 4, 1, 22, 0, tzinfo=BERLIN)
    for k in range(10):
        put(root, start + timedelta(minutes=30 * k))
    age(root)
    result = index.scan("flat", root, BERLIN)
    assert (result.added, result.total) == (10, 10)
    # two day folders of 4 and 6 frames: a transaction per 3 new rows (the root has none)
    assert sorted(n for n in inserts if n) == [1, 3, 3, 3]
    assert index.count_by_day("flat", BERLIN) == {date(2026, 4, 1): 4, date(2026, 4, 2): 6}
    again = index.scan("flat", root, BERLIN)
    assert (again.dirs_listed, again.parsed) == (0, 0)  # the folder's mtime was stored at the end


def test_capture_adding_frames_during_a_scan_keeps_counts_consistent(index, tmp_path):
    root = tmp_path / "busy"
    start = datetime(2026, 8, 1, tzinfo=BERLIN)
    for k in range(800):
        put(root, start + timedelta(minutes=10 * k))
    captured: list[int] = []

    def capture():
        for k in range(40):
            when = start + timedelta(days=30, minutes=k)
            captured.append(index.add_frame("busy", put(root, when), when, size=0, mtime=0.0))

    worker = threading.Thread(target=capture)
    worker.start()
    index.scan("busy", root, BERLIN)
    worker.join()
    index.scan("busy", root, BERLIN)
    assert len(set(captured)) == 40
    files = sum(1 for p in root.rglob("*.jpg"))
    assert index.count("busy") == len(index.frames("busy")) == files == 840
    assert sum(index.count_by_day("busy", BERLIN).values()) == 840


def test_counts_over_ranges_agree_with_the_frames(index, tmp_path):
    import random

    root = tmp_path / "berlin"
    _every_half_hour(root, datetime(2026, 3, 27, tzinfo=BERLIN), 5)
    put(root, datetime(2026, 3, 29, 7, 0, tzinfo=TOKYO), prefix="tokyo-")  # a foreign offset
    index.scan("b", root, BERLIN)
    utcs = [f.utc for f in index.frames("b")]
    rng = random.Random(7)
    first, last = utcs[0] - 7200, utcs[-1] + 7200
    bounds = [(None, None), (first, None), (None, last), (utcs[10], utcs[200])]
    bounds += [tuple(sorted(rng.uniform(first, last) for _ in range(2))) for _ in range(40)]
    bounds += [(u, u + 86400 * 3) for u in utcs[::37]]  # starting exactly on a frame
    for lo, hi in bounds:
        expected = sum(1 for u in utcs if (lo is None or u >= lo) and (hi is None or u < hi))
        assert index.count("b", lo, hi) == expected, (lo, hi)
