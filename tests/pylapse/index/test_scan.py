"""The scan's batch path (pylapse.naming.fastparse.default_batch, packed json_each inserts, the
writer thread) gives exactly the rows of the per-name path, on real folders and a real SQLite
file."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylapse import naming, timeutil
from pylapse.index import scan
from pylapse.index import scan_pipeline as scanpipe
from pylapse.index import scan_writer as scanwrite
from pylapse.index.store import FrameIndex
from pylapse.naming import fastparse
from pylapse.progress import Cancelled

TOKYO = timeutil.zone("Asia/Tokyo")
BERLIN = timeutil.zone("Europe/Berlin")

ODD_NAMES = [
    "cam-2026-02-09T00-00-00+09.00.jpg",
    "x1cam-2026-02-09T00-00-00+09.00.jpg",  # a digit before the block: not the default format
    "2026-02-30T00-00-00+09.00.jpg",  # no such day
    "a2026-02-09T24-00-00+09.00.jpg",  # no such hour
    "b2026-02-09T23-59-59-05.30.JPG",
    'c"\\2026-02-09T23-59-59-05.30.jpg',  # JSON escapes in the name
    "2026-02-09T23-59-59+09.00.tar.jpg",
    "\u0662026-02-09T23-59-59+09.00.jpg",  # a non-ASCII digit
    "é2026-12-31T23-59-59+14.00.png",  # non-ASCII name
    "IMG_20240101_120000.jpg",
    "2026-02-09T23-60-59+09.00.jpg",
    "2026-02-09T23-59-59+24.00.jpg",
    "2024-02-29T01-02-03+00.00.jpg",
    "2023-02-29T01-02-03+00.00.jpg",
    "cam-2026-03-29T01-30-00+01.00.jpg",
    "cam-2026-03-29T03-30-00+02.00.jpg",  # same folder, another offset
    "cam-2026-03-30T03-30-00+02.00.jpg",  # and another date
]


def batch_times(names: list[str]) -> tuple[dict[str, tuple[int, int]], list[str]]:
    batches, rest = fastparse.default_batch(names)
    got = {}
    for b in batches:
        for name, seconds in zip(b.names, b.seconds, strict=True):
            got[name] = (b.day * 86400 + seconds - b.offset, b.offset)
    return got, rest


def test_batch_reads_what_default_utc_reads_and_hands_back_the_rest():
    got, rest = batch_times(ODD_NAMES)
    assert sorted([*got, *rest]) == sorted(ODD_NAMES)  # every name exactly once
    for name in ODD_NAMES:
        if name in got:
            assert got[name] == fastparse.default_utc(name), name
    assert "cam-2026-03-29T03-30-00+02.00.jpg" in got
    assert {"2026-02-30T00-00-00+09.00.jpg", "IMG_20240101_120000.jpg"} <= set(rest)
    assert fastparse.default_batch([]) == ([], [])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text("ab1-_ é", max_size=4),
            st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
            st.integers(-23 * 60, 23 * 60),
            st.sampled_from(["jpg", "png", "JPEG", "x"]),
        ),
        max_size=30,
    )
)
def test_batch_agrees_with_default_utc_on_generated_names(items):
    names = [
        f"{prefix}{when:%Y-%m-%dT%H-%M-%S}{'-' if m < 0 else '+'}"
        f"{abs(m) // 60:02d}.{abs(m) % 60:02d}.{ext}"
        for prefix, when, m, ext in items
    ]
    got, rest = batch_times(names)
    for name in set(names):
        expected = fastparse.default_utc(name)
        if name in got:
            assert got[name] == expected
        else:
            assert name in rest


def make(root: Path, names: list[str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).write_bytes(b"")


def per_name_rows(folder: Path, tz) -> set[tuple[str, float, int]]:
    out = set()
    for name in os.listdir(folder):
        if name.startswith(".") or not name.lower().endswith((".jpg", ".jpeg", ".png")):
            continue
        hit = naming.parse_name_utc(name, tz)
        if hit is not None:
            out.add((name, float(hit[0]), hit[1]))
    return out


def test_scan_of_odd_names_stores_what_the_per_name_parser_reads(tmp_path, index_location):
    folder = tmp_path / "frames" / "odd"
    make(
        folder, [*ODD_NAMES, ".cam-2026-02-09T00-00-00+09.00.jpg", "2026-02-09T00-00-00+09.00.txt"]
    )
    with FrameIndex(index_location) as index:
        result = index.scan("c", tmp_path / "frames", BERLIN, date_source="filename")
        frames = index.frames("c")
        expected = per_name_rows(folder, BERLIN)
        # Names proving their offset are stored as read; the others keep the name's wall clock
        # and take an offset from their neighbours or the zone (pylapse.index.zones).
        proven = {(f.path.name, f.utc, f.offset) for f in frames if f.offset_source == "name"}
        assert proven == {row for row in expected if row[0] in {n for n, _, _ in proven}}
        walls = {(f.path.name, f.utc + f.offset) for f in frames}
        assert walls == {(name, utc + offset) for name, utc, offset in expected}
        odd = {f.path.name: f for f in frames}["2026-02-09T23-59-59+24.00.jpg"]
        assert (odd.offset, odd.offset_source, odd.time_status) == (32400, "neighbours", "inferred")
        assert result.added == len(frames) == sum(index.count_by_day("c", BERLIN).values())
        inodes = dict(index._reader().execute("SELECT name, inode FROM frames").fetchall())
    assert inodes == {n: os.stat(folder / n).st_ino for n in inodes}


def test_day_folders_scanned_cold_match_the_per_name_path(tmp_path, index_location):
    root = tmp_path / "frames"
    start = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)  # across the spring DST change
    expected = set()
    for i in range(300):
        when = start + timedelta(minutes=7 * i)
        name = naming.format_name(when, prefix="cam-")
        make(root / when.strftime("%Y-%m-%d"), [name])
        expected.add((name, when.timestamp(), timeutil.offset_seconds(when)))
    with FrameIndex(index_location) as index:
        assert index.scan("c", root, BERLIN).added == 300
        assert {(f.path.name, f.utc, f.offset) for f in index.frames("c")} == expected
        days = index.count_by_day("c", BERLIN)
        assert sum(days.values()) == 300
        # Rescan after a change in one folder: only the new file is added.
        when = start + timedelta(minutes=7 * 300)
        make(root / when.strftime("%Y-%m-%d"), [naming.format_name(when, prefix="cam-")])
        again = index.scan("c", root, BERLIN)
        assert again.added == 1 and index.count("c") == 301


@pytest.mark.parametrize("read_ahead", [True, False], ids=["read-ahead", "read-by-writer"])
def test_a_huge_folder_goes_in_chunks(tmp_path, monkeypatch, read_ahead, index_location):
    # The writer's chunk loop reads scan_writer.CHUNK; scan.CHUNK decides whether the walking
    # thread reads a new folder's names ahead (both paths must end in chunks).
    monkeypatch.setattr(scanwrite, "CHUNK", 7)
    if not read_ahead:
        monkeypatch.setattr(scan, "CHUNK", 7)
    inserted = []
    real = scanwrite.FolderWriter._insert

    def counting(self, dir_id, rows):
        inserted.append(len(rows.quick) + len(rows.full) + sum(p[3] for p in rows.packed))
        return real(self, dir_id, rows)

    monkeypatch.setattr(scanwrite.FolderWriter, "_insert", counting)
    start = datetime(2026, 2, 9, tzinfo=TOKYO)
    names = [naming.format_name(start + timedelta(seconds=10 * i), prefix="c-") for i in range(30)]
    make(tmp_path / "frames", names)
    with FrameIndex(index_location) as index:
        result = index.scan("c", tmp_path / "frames", TOKYO)
        assert inserted == [7, 7, 7, 7, 2]  # one transaction per chunk of new rows
        assert result.added == index.count("c") == 30
        assert [f.path.name for f in index.frames("c")] == sorted(names)
        assert sum(index.count_by_day("c", TOKYO).values()) == 30


def test_a_scan_stopped_between_chunks_lists_the_folder_again(
    tmp_path, monkeypatch, index_location
):
    # Each chunk is committed on its own; the folder's mtime is stored only with the last, so
    # the next scan lists the folder again and adds the rest.
    monkeypatch.setattr(scanwrite, "CHUNK", 7)
    real = scanwrite.FolderWriter._insert
    calls = []

    def failing(self, dir_id, rows):
        calls.append(dir_id)
        if len(calls) == 3:
            raise OSError("disk gone")
        return real(self, dir_id, rows)

    monkeypatch.setattr(scanwrite.FolderWriter, "_insert", failing)
    start = datetime(2026, 2, 9, tzinfo=TOKYO)
    names = [naming.format_name(start + timedelta(seconds=10 * i), prefix="c-") for i in range(30)]
    make(tmp_path / "frames", names)
    past = datetime(2026, 1, 1).timestamp()
    os.utime(tmp_path / "frames", (past, past))  # out of the racy-mtime window
    with FrameIndex(index_location) as index:
        with pytest.raises(OSError, match="disk gone"):
            index.scan("c", tmp_path / "frames", TOKYO)
        assert index.count("c") == 14 == sum(index.count_by_day("c", TOKYO).values())
        monkeypatch.setattr(scanwrite.FolderWriter, "_insert", real)
        again = index.scan("c", tmp_path / "frames", TOKYO)
        assert (again.dirs_listed, again.added) == (1, 16)
        assert index.count("c") == 30
        assert index.scan("c", tmp_path / "frames", TOKYO).dirs_listed == 0


def test_a_failing_write_stops_the_scan_and_a_rescan_completes_it(
    tmp_path, monkeypatch, index_location
):
    root = tmp_path / "frames"
    start = datetime(2026, 2, 9, tzinfo=TOKYO)
    for day in range(5):
        when = start + timedelta(days=day)
        make(root / when.strftime("%Y-%m-%d"), [naming.format_name(when, prefix="c-")])
    real = scanwrite.FolderWriter.apply
    calls = []

    def failing(self, path, *args):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("disk gone")
        return real(self, path, *args)

    monkeypatch.setattr(scanwrite.FolderWriter, "apply", failing)
    with FrameIndex(index_location) as index:
        with pytest.raises(OSError, match="disk gone"):
            index.scan("c", root, TOKYO)
        assert scanpipe.WRITER_THREAD not in {t.name for t in threading.enumerate()}
        monkeypatch.setattr(scanwrite.FolderWriter, "apply", real)
        index.scan("c", root, TOKYO)
        assert index.count("c") == 5 == sum(index.count_by_day("c", TOKYO).values())


def test_cancel_mid_scan_leaves_a_consistent_index(tmp_path, monkeypatch, index_location):
    root = tmp_path / "frames"
    start = datetime(2026, 2, 9, tzinfo=TOKYO)
    for day in range(6):
        when = start + timedelta(days=day)
        make(root / when.strftime("%Y-%m-%d"), [naming.format_name(when, prefix="c-")])
    cancel = threading.Event()
    real = scanwrite.FolderWriter.apply

    def cancelling(self, *args):
        done = real(self, *args)
        cancel.set()  # after the first folder written: the walk stops at its next folder
        return done

    monkeypatch.setattr(scanwrite.FolderWriter, "apply", cancelling)
    with FrameIndex(index_location) as index:
        with pytest.raises(Cancelled):
            index.scan("c", root, TOKYO, cancel=cancel)
        partial = index.count("c")
        assert partial == sum(index.count_by_day("c", TOKYO).values()) < 6
        monkeypatch.setattr(scanwrite.FolderWriter, "apply", real)
        assert index.scan("c", root, TOKYO).added == 6 - partial
        assert index.count("c") == 6
