"""Free-space guard and per-volume usage with days until full."""

from __future__ import annotations

import shutil

from pylapse.capture.disk import DiskGuard, existing_parent, free_bytes, volume_usage


def test_guard_off_and_on(tmp_path):
    assert DiskGuard(0).check(tmp_path) is None
    assert DiskGuard(1).check(tmp_path) is None  # there is surely 1 MB
    huge = DiskGuard(10**12)  # an exabyte
    reason = huge.check(tmp_path / "not" / "yet" / "created")
    assert reason is not None
    assert "min_free_mb 1000000000000" in reason and "paused" in reason


def test_existing_parent(tmp_path):
    assert existing_parent(tmp_path / "a" / "b") == tmp_path
    assert free_bytes(tmp_path / "a") == shutil.disk_usage(tmp_path).free


def test_volume_usage_groups_by_device_and_estimates_days(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    usage = volume_usage([a, b], bytes_per_day={a: 1e9, b: 1e9})
    assert len(usage) == 1  # same volume
    vol = usage[0]
    assert vol.path == a
    assert vol.total >= vol.free > 0
    assert vol.days_until_full == vol.free / 2e9
    assert volume_usage([a])[0].days_until_full is None  # nothing being written


def test_disk_full_is_recognised_from_sqlite_and_the_os(tmp_path):
    import errno
    import sqlite3

    from pylapse.capture.disk import is_disk_full

    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    try:
        with conn:
            conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 50)
    except sqlite3.OperationalError as exc:
        full = exc
    assert is_disk_full(full)
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    try:
        try:
            raise full
        except sqlite3.Error as inner:
            raise RuntimeError("schema step failed") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)  # through the cause
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(None)
    conn.close()
