"""The cold scan on day folders of real files and a real SQLite file: the checkpoint thread,
page size, the extension filter and links in a listed folder (the batch path's rows against the
per-name path: test_scan.py)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pylapse import db, naming, timeutil
from pylapse.index import scan, scan_writer
from pylapse.index import scan_pipeline as scanpipe
from pylapse.index.store import FrameIndex

TOKYO = timeutil.zone("Asia/Tokyo")


def day_names(prefix: str, date: str, offset: str, clocks: list[int], ext: str = "jpg") -> list:
    return [
        f"{prefix}{date}T{c // 3600:02d}-{c // 60 % 60:02d}-{c % 60:02d}{offset}.{ext}"
        for c in clocks
    ]


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


def test_an_extension_with_a_digit_is_checked_name_by_name(tmp_path, index_location):
    # ".jp2" and ".jp3" names have one shape (digits blanked): each name's extension counts.
    folder = tmp_path / "frames" / "2026-02-09"
    folder.mkdir(parents=True)
    names = day_names("cam-", "2026-02-09", "+09.00", [0, 10, 20, 30], "jp2")
    names += day_names("cam-", "2026-02-09", "+09.00", [40, 50], "jp3")
    for name in names:
        (folder / name).write_bytes(b"")
    with FrameIndex(index_location) as index:
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
    assert conn.execute("PRAGMA page_size").fetchone()[0] == db.sqlite.PAGE_SIZE == 8192
    conn.close()
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("CREATE TABLE t (x)")
    old.commit()
    old.close()
    with FrameIndex(tmp_path / "old.db") as index:
        assert index._conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        make_days(tmp_path / "frames", 1, 10)
        assert index.scan("c", tmp_path / "frames", TOKYO).added == 10


def test_links_in_a_listed_folder(tmp_path, index_location):
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
    with FrameIndex(index_location) as index:
        assert index.scan("c", tmp_path / "frames", TOKYO, roots=[tmp_path]).added == 5
        paths = {f.path for f in index.frames("c")}
    assert day / linked in paths and day / "more" / sub_frame in paths
