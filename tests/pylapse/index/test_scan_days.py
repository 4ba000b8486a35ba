"""The cold scan's whole-day path (pylapse.fastparse.uniform_day, scanpipe.pack_day, the
checkpoint thread): the same times and rows as the per-name path, on real folders and SQLite."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylapse import db, fastparse, naming, timeutil
from pylapse.index import scan, scan_writer
from pylapse.index import scan_pipeline as scanpipe
from pylapse.index.store import FrameIndex

TOKYO = timeutil.zone("Asia/Tokyo")


def day_names(prefix: str, date: str, offset: str, clocks: list[int], ext: str = "jpg") -> list:
    return [
        f"{prefix}{date}T{c // 3600:02d}-{c // 60 % 60:02d}-{c % 60:02d}{offset}.{ext}"
        for c in clocks
    ]


def lane_times(names: list[str]) -> dict[str, tuple[int, int]] | None:
    day = fastparse.uniform_day(names)
    if day is None:
        return None
    assert day.count == len(names)
    seconds = fastparse.lane_values(day.seconds, day.count)
    return {
        name: (day.day * 86400 + sec - day.offset, day.offset)
        for name, sec in zip(names, seconds, strict=True)
    }


@settings(max_examples=200, deadline=None)
@given(
    st.text("ab_-x", max_size=5),
    st.dates(datetime(1, 1, 2).date(), datetime(9999, 12, 30).date()),
    st.integers(-23 * 60, 23 * 60),
    st.lists(st.integers(0, 86399), min_size=1, max_size=300, unique=True),
    st.randoms(),
)
def test_a_day_read_in_lanes_agrees_with_default_utc(prefix, date, minutes, clocks, rnd):
    sign = "-" if minutes < 0 else "+"
    offset = f"{sign}{abs(minutes) // 60:02d}.{abs(minutes) % 60:02d}"
    names = day_names(prefix, date.isoformat(), offset, clocks)
    rnd.shuffle(names)  # listing order, not name order
    got = lane_times(names)
    assert got is not None
    assert got == {name: fastparse.default_utc(name) for name in names}


BASE = day_names("cam-", "2026-02-09", "+09.00", [0, 10, 3599, 43200, 86399])


@pytest.mark.parametrize(
    "odd",
    [
        "cam-2026-02-10T00-00-20+09.00.jpg",  # another date
        "cam-2026-02-09T00-00-20+08.00.jpg",  # another offset
        "cam-2026-02-09T24-00-00+09.00.jpg",  # no such hour
        "cam-2026-02-09T31-00-00+09.00.jpg",
        "cam-2026-02-09T90-00-00+09.00.jpg",
        "cam-2026-02-09T19-00-00+09.00.jpg"[:-4] + ".jpeg",  # another width
        "cam-2026-02-09T23-60-00+09.00.jpg",  # no such minute
        "cam-2026-02-09T23-00-60+09.00.jpg",  # no such second
        "cam-2026-02-09T3a-00-00+09.00.jpg",  # not a digit
        "cám-2026-02-09T23-00-00+09.00.jpg",  # not ASCII
        ".am-2026-02-09T23-00-00+09.00.jpg",  # another shape (a hidden file)
        "c1m-2026-02-09T23-00-00+09.00.jpg",  # a digit where the others have a letter
        "cam_2026-02-09T23-00-00+09.00.jpg",
    ],
)
def test_a_folder_that_is_not_one_plain_day_is_left_to_the_batch_path(odd):
    assert lane_times([*BASE, odd]) is None
    assert lane_times([odd, *BASE]) is None


def test_edge_cases_of_the_day_shape():
    assert fastparse.uniform_day([]) is None
    assert lane_times(BASE[:1]) == {BASE[0]: fastparse.default_utc(BASE[0])}
    assert lane_times(["2026-02-30T00-00-00+09.00.jpg"]) is None  # no such date
    assert lane_times(["x12026-02-09T00-00-00+09.00.jpg"]) is None  # a digit before the block
    assert lane_times(["IMG_20240101_120000.jpg", "IMG_20240101_120010.jpg"]) is None


def test_pack_day_writes_what_pack_names_writes():
    clocks = random.Random(7).sample(range(86400), 500)
    names = day_names("cam-", "2026-02-09", "+09.00", clocks)
    inodes = {name: 1_000_000 + i * 7 for i, name in enumerate(names)}
    day = fastparse.uniform_day(names)
    assert day is not None
    packed = scanpipe.pack_day(inodes, day)
    assert packed == scanpipe.pack_names(sorted(names), inodes)
    big = dict.fromkeys(names, 1 << 50)  # a 64-bit inode too large to pack beside the clock
    assert scanpipe.pack_day(big, day).packed == []
    with pytest.raises(ValueError, match="not the same folder"):
        scanpipe.pack_day(dict(list(inodes.items())[:-1]), day)


def make_days(root: Path, days: int, per_day: int, extra: dict[str, list[str]] | None = None):
    start = datetime(2026, 2, 9, tzinfo=TOKYO)
    step = 86400 // per_day
    for d in range(days):
        folder = root / (start + timedelta(days=d)).strftime("%Y-%m-%d")
        folder.mkdir(parents=True)
        for i in range(per_day):
            when = start + timedelta(days=d, seconds=i * step)
            (folder / naming.format_name(when, prefix="cam-")).write_bytes(b"")
        for name in (extra or {}).get(folder.name, []):
            (folder / name).write_bytes(b"")


def rows(index: FrameIndex) -> list[tuple]:
    return sorted(
        index._reader()
        .execute("SELECT name, utc, utc_offset, inode, source FROM frames ORDER BY name")
        .fetchall()
    )


def test_whole_day_path_and_pure_python_path_store_the_same_rows(tmp_path, monkeypatch):
    extra = {"2026-02-10": [".cam-2026-02-10T00-00-05+09.00.jpg", "notes.txt"]}
    make_days(tmp_path / "frames", 3, 200, extra)
    with FrameIndex(tmp_path / "fast.db") as index:
        assert index.scan("c", tmp_path / "frames", TOKYO).added == 600
        fast = rows(index)
    monkeypatch.setattr(scan, "PACKS_DAYS", False)  # as on a machine without orjson
    with FrameIndex(tmp_path / "slow.db") as index:
        assert index.scan("c", tmp_path / "frames", TOKYO).added == 600
        slow = rows(index)
    assert fast == slow
    assert {name for name, *_ in fast} == {
        n for d in (tmp_path / "frames").iterdir() for n in os.listdir(d) if n.startswith("cam-")
    }
    assert all(inode is not None for *_, inode, _source in fast)


def test_an_extension_with_a_digit_is_checked_name_by_name(tmp_path):
    # ".jp2" and ".jp3" names have one shape: the first name cannot stand for the others.
    folder = tmp_path / "frames" / "2026-02-09"
    folder.mkdir(parents=True)
    names = day_names("cam-", "2026-02-09", "+09.00", [0, 10, 20, 30], "jp2")
    names += day_names("cam-", "2026-02-09", "+09.00", [40, 50], "jp3")
    for name in names:
        (folder / name).write_bytes(b"")
    with FrameIndex(tmp_path / "db") as index:
        index.scan("c", tmp_path / "frames", TOKYO, extensions=[".jp2"])
        assert sorted(f.path.name for f in index.frames("c")) == sorted(names[:4])


def test_checkpoints_run_beside_the_scan_and_stop_with_it(tmp_path, monkeypatch):
    make_days(tmp_path / "frames", 4, 50)
    seen: list[str] = []
    real = scanpipe.Checkpointer.nudge

    def nudge(self):
        seen.append(threading.current_thread().name)
        real(self)

    monkeypatch.setattr(scanpipe.Checkpointer, "nudge", nudge)
    with FrameIndex(tmp_path / "small.db") as index:
        index.scan("c", tmp_path / "frames", TOKYO)
    assert seen == []  # a small scan keeps SQLite's own checkpoints
    monkeypatch.setattr(scan, "CHECKPOINT_AFTER", 60)  # from the second folder of 50 on
    with FrameIndex(tmp_path / "db") as index:
        index.scan("c", tmp_path / "frames", TOKYO)
        names = {t.name for t in threading.enumerate()}
        assert scanpipe.CHECKPOINT_THREAD not in names
        assert scanpipe.WRITER_THREAD not in names
        # Autocheckpoint is back on for capture's small writes.
        assert index._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert index.count("c") == 200
    assert len(seen) == 3 and set(seen) == {scanpipe.WRITER_THREAD}
    # Everything reached the database file: another connection reads it without the WAL.
    conn = sqlite3.connect(tmp_path / "db")
    assert conn.execute("SELECT COUNT(*) FROM frames").fetchone()[0] == 200
    conn.close()


def test_the_checkpoint_thread_stops_when_a_write_fails(tmp_path, monkeypatch):
    make_days(tmp_path / "frames", 3, 5)
    real = scan_writer.FolderWriter.apply
    calls = []

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk gone")
        return real(self, *args)

    monkeypatch.setattr(scan, "CHECKPOINT_AFTER", 1)
    monkeypatch.setattr(scan_writer.FolderWriter, "apply", failing)
    started = []
    monkeypatch.setattr(scanpipe.Checkpointer, "nudge", lambda self: started.append(self))
    with FrameIndex(tmp_path / "db") as index:
        with pytest.raises(OSError, match="disk gone"):
            index.scan("c", tmp_path / "frames", TOKYO)
        assert started  # the checkpoint thread was running when the write failed
        assert scanpipe.CHECKPOINT_THREAD not in {t.name for t in threading.enumerate()}
        assert index._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_a_new_database_gets_large_pages_and_an_old_one_keeps_its_own(tmp_path):
    conn = db.connect(tmp_path / "new.db")
    assert conn.execute("PRAGMA page_size").fetchone()[0] == db.PAGE_SIZE == 8192
    conn.close()
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("CREATE TABLE t (x)")
    old.commit()
    old.close()
    with FrameIndex(tmp_path / "old.db") as index:
        assert index._conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        make_days(tmp_path / "frames", 1, 10)
        assert index.scan("c", tmp_path / "frames", TOKYO).added == 10


def test_links_in_a_listed_folder(tmp_path):
    # Folders are listed through a descriptor: links still resolve against the folder. The
    # links point out of the scanned folder but into a root (links out of every root:
    # test_scan_links.py).
    make_days(tmp_path / "frames", 1, 3)
    day = next((tmp_path / "frames").iterdir())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = naming.format_name(datetime(2026, 2, 9, 23, 0, tzinfo=TOKYO), prefix="cam-")
    (elsewhere / linked).write_bytes(b"")
    (day / linked).symlink_to(elsewhere / linked)  # a linked frame counts
    (day / "cam-2026-02-09T23-30-00+09.00.jpg").symlink_to(tmp_path / "gone.jpg")  # dangling
    (elsewhere / "sub").mkdir()
    sub_frame = naming.format_name(datetime(2026, 2, 9, 23, 45, tzinfo=TOKYO), prefix="cam-")
    (elsewhere / "sub" / sub_frame).write_bytes(b"")
    (day / "more").symlink_to(elsewhere / "sub")  # a linked folder is walked
    with FrameIndex(tmp_path / "db") as index:
        assert index.scan("c", tmp_path / "frames", TOKYO, roots=[tmp_path]).added == 5
        paths = {f.path for f in index.frames("c")}
    assert day / linked in paths and day / "more" / sub_frame in paths
