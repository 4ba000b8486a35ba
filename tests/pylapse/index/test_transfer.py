"""pylapse.index.transfer: a SQLite index copied into another database (PostgreSQL, or another
SQLite file), resumed after an interruption, verified, and refused over a foreign index."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pylapse import db, naming
from pylapse.index.store import FrameIndex
from pylapse.index.transfer import TransferError, copy_index, day_checksums

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def source(tmp_path):
    """A SQLite index: 3 days of scanned frames, one captured frame with scores."""
    root = tmp_path / "frames"
    start = datetime(2026, 3, 1, tzinfo=TOKYO)
    for i in range(3 * 24):
        when = start + timedelta(hours=i)
        folder = root / when.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / naming.format_name(when, prefix="cam-")).write_bytes(b"")
    path = tmp_path / "source" / "pylapse.db"
    with FrameIndex(path) as index:
        index.scan("cam", root, TOKYO)
        when = start + timedelta(days=5)
        fid = index.add_frame("cam", root / "late.jpg", when, size=10, mtime=1.0, luma=50.0)
        index.set_scores([(fid, {"sharpness": 2.5, "dhash": -5, "sky_r_mean": 100.0})])
    return path


def _everything(location):
    with FrameIndex(location) as index:
        frames = index.frames("cam")
        return [(f.id, str(f.path), f.utc, f.offset, f.luma, f.sharpness, f.dhash) for f in frames]


def test_a_copy_reads_as_the_source_and_new_rows_get_new_ids(source, index_location, tmp_path):
    report = copy_index(source, index_location)
    assert report.frames == 73 and report.resumed_after == 0
    assert report.counts["frames"] == 73 and report.days == 4
    assert _everything(index_location) == _everything(source)
    with FrameIndex(index_location) as copy:
        assert copy.count_by_day("cam", TOKYO) == FrameIndex(source).count_by_day("cam", TOKYO)
        when = datetime(2026, 4, 1, tzinfo=TOKYO)
        assert copy.add_frame("cam", tmp_path / "new.jpg", when, size=1, mtime=0.0) == 74


def test_an_interrupted_copy_goes_on_where_it_stopped(source, index_location):
    def stop_after_the_first_chunk(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_index(source, index_location, stop_after_the_first_chunk, chunk=20)
    report = copy_index(source, index_location, chunk=20)
    assert report.resumed_after == 20 and report.frames == 53
    conn = db.connect(index_location)
    try:
        assert day_checksums(conn) == day_checksums(db.connect(source))
    finally:
        conn.close()


def test_a_target_with_another_index_is_refused(source, index_location, tmp_path):
    with FrameIndex(index_location) as other:
        other.add_frame("x", tmp_path / "x.jpg", datetime(2020, 1, 1, tzinfo=TOKYO), size=1,
                        mtime=0.0)  # fmt: skip
    with pytest.raises(TransferError, match="not this index's"):
        copy_index(source, index_location)
