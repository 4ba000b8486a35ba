"""The cached time arrays of a collection (FrameIndex.utc_times) and the change stamp that
tells every connection, in any process, when they are stale."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pylapse import db
from pylapse.index.store import FrameIndex
from pylapse.index.time_cache import read_times

START = datetime(2026, 3, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


def _add(index: FrameIndex, folder: Path, n: int, first: int = 0, key: str = "cam") -> None:
    for i in range(first, first + n):
        when = START + timedelta(minutes=10 * i)
        index.add_frame(key, folder / f"f{i:05d}.jpg", when, size=1, mtime=0.0)


def _uncached(index: FrameIndex, key: str, start=None, end=None):  # type: ignore[no-untyped-def]
    """The arrays as a fresh index reads them, straight from the rows."""
    with FrameIndex(index.location) as fresh:
        cid = fresh._collection_id(key)
        assert cid is not None
        return read_times(fresh._reader(), cid, start, end)


@pytest.fixture
def index(tmp_path: Path, index_location):
    with FrameIndex(index_location) as idx:
        yield idx


def test_the_arrays_are_kept_and_sliced_while_nothing_changes(
    index, tmp_path, monkeypatch
) -> None:
    _add(index, tmp_path, 2000)
    ids, utcs = index.utc_times("cam")
    assert list(utcs) == sorted(utcs) and len(ids) == 2000
    start, end = START + timedelta(days=3), START + timedelta(days=10)
    expected = _uncached(index, "cam", start.timestamp(), end.timestamp())

    def no_reading(*args: object) -> None:
        raise AssertionError("the rows were read again")

    # kept: no rows are read again (the name the store reads)
    monkeypatch.setattr("pylapse.index.store.read_times", no_reading)
    sliced = index.utc_times("cam", start, end)
    assert sliced == expected
    assert sliced[1][0] == start.timestamp() and sliced[1][-1] < end.timestamp()
    # what the caller gets is its own copy
    sliced[0][0] = -1
    assert index.utc_times("cam", start, end)[0][0] != -1


def test_a_write_through_this_index_invalidates(index, tmp_path) -> None:
    _add(index, tmp_path, 100)
    before = index.change_stamp("cam")
    assert len(index.utc_times("cam")[0]) == 100
    _add(index, tmp_path, 1, first=500)
    assert index.change_stamp("cam") > before
    assert len(index.utc_times("cam")[0]) == 101


def test_a_write_by_another_connection_invalidates(index, tmp_path) -> None:
    _add(index, tmp_path, 100)
    kept = index.utc_times("cam")
    # another program's plain SQL: deleting a frame and re-timing another
    with db.connect(index.location) as other:
        other.execute("DELETE FROM frames WHERE id = ?", (kept[0][0],))
        other.execute("UPDATE frames SET utc = 0 WHERE id = ?", (kept[0][50],))
    ids, utcs = index.utc_times("cam")
    assert len(ids) == 99 and ids[0] == kept[0][50] and utcs[0] == 0
    assert (ids, utcs) == _uncached(index, "cam")


def test_a_capture_in_another_process_invalidates(index, tmp_path) -> None:
    _add(index, tmp_path, 100)
    assert len(index.utc_times("cam")[0]) == 100
    script = (
        "import sys; from datetime import datetime, UTC; from pathlib import Path; "
        "from pylapse.index.store import FrameIndex; "
        "idx = FrameIndex(sys.argv[1]); "
        "idx.add_frame('cam', Path(sys.argv[2]) / 'new.jpg', datetime(2027, 1, 1, tzinfo=UTC), "
        "size=1, mtime=0.0); idx.close()"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(index.location), str(tmp_path)],
        check=True,
        cwd=REPO,
        timeout=60,
    )
    ids, utcs = index.utc_times("cam")
    assert len(ids) == 101 and utcs[-1] == datetime(2027, 1, 1, tzinfo=UTC).timestamp()


def test_another_collection_s_writes_keep_the_arrays(index, tmp_path) -> None:
    _add(index, tmp_path / "a", 50, key="a")
    _add(index, tmp_path / "b", 50, key="b")
    stamp = index.change_stamp("a")
    index.utc_times("a")
    _add(index, tmp_path / "b", 5, first=100, key="b")
    assert index.change_stamp("a") == stamp
    assert len(index.utc_times("b")[0]) == 55 and len(index.utc_times("a")[0]) == 50


def test_a_short_range_of_a_collection_not_kept_is_read_directly(index, tmp_path) -> None:
    _add(index, tmp_path, 300)
    day = index.utc_times("cam", START, START + timedelta(days=1))
    assert len(day[0]) == 144 and list(index._times) == []
    assert index.utc_times("cam") == _uncached(index, "cam")  # now kept
    assert list(index._times) == [index._collection_id("cam")]


def test_a_dropped_collection_has_no_times_left(index, tmp_path) -> None:
    _add(index, tmp_path, 30)
    assert len(index.utc_times("cam")[0]) == 30
    index.drop("cam")
    assert len(index.utc_times("cam")[0]) == 0


def test_a_scan_by_another_index_invalidates(index, tmp_path) -> None:
    folder = tmp_path / "scanned"
    folder.mkdir()
    for minute in range(3):
        (folder / f"cam 2026-03-01 12-{minute:02d}-00.jpg").write_bytes(b"")
    with FrameIndex(index.location) as other:  # another process's index: its own connections
        other.scan("cam", folder, "UTC")
        assert len(index.utc_times("cam")[0]) == 3  # kept from here on
        for minute in range(3, 5):
            (folder / f"cam 2026-03-01 12-{minute:02d}-00.jpg").write_bytes(b"")
        (folder / "cam 2026-03-01 12-00-00.jpg").unlink()
        other.scan("cam", folder, "UTC", verify=True)
    assert index.utc_times("cam") == _uncached(index, "cam")
    assert len(index.utc_times("cam")[0]) == 4
