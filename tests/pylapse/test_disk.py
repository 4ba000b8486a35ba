"""Free-space guard and per-volume usage with days until full."""

from __future__ import annotations

import shutil

from pylapse.disk import DiskGuard, existing_parent, free_bytes, volume_usage


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
