"""retention.forecast and the disk guard's days until full, with and without retention."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pylapse.capture.disk import volume_usage
from pylapse.config.retention import RetentionConfig
from pylapse.retention.forecast import Growth, days_until_full, thin_ratio

GB = 1e9


def test_without_retention_the_disk_fills_at_the_rate() -> None:
    assert days_until_full(100 * GB, [Growth(10 * GB)]) == pytest.approx(10)
    assert days_until_full(100 * GB, []) is None
    assert days_until_full(100 * GB, [Growth(0)]) is None


def test_thinning_slows_the_growth_after_keep_all_days() -> None:
    # 10 GB a day kept whole for 5 days (50 GB), then a tenth: 1 GB a day for the other 50 GB
    growth = Growth(10 * GB, keep_all_days=5, thin_ratio=0.1)
    assert days_until_full(100 * GB, [growth]) == pytest.approx(55)


def test_expiry_stops_the_growth_before_the_disk_is_full() -> None:
    growth = Growth(10 * GB, keep_all_days=5, thin_ratio=0.1, delete_after_days=30)
    assert days_until_full(100 * GB, [growth]) is None  # 50 + 25 GB at most
    assert days_until_full(70 * GB, [growth]) == pytest.approx(25)


def test_several_folders_on_one_volume_add_up() -> None:
    kept_whole = Growth(1 * GB)
    thinned = Growth(10 * GB, keep_all_days=2, thin_ratio=0.0)
    # days 0-2: 11 GB a day (22 GB), then 1 GB a day
    assert days_until_full(30 * GB, [kept_whole, thinned]) == pytest.approx(10)


def test_the_share_thinning_keeps_comes_from_the_frames_a_day() -> None:
    assert thin_ratio(10, 1440) == pytest.approx(0.1)  # one a minute thinned to one per 10
    assert thin_ratio(10, 50) == 1.0  # fewer frames than windows: all kept
    assert thin_ratio(None, 1440) == 1.0 and thin_ratio(10, None) == 1.0
    growth = Growth.of(5.0, RetentionConfig(enabled=True, thin_minutes=10, keep_all_days=3,
                                            delete_after_days=9), 1440)  # fmt: skip
    assert (growth.keep_all_days, growth.thin_ratio, growth.delete_after_days) == (3, 0.1, 9)
    assert Growth.of(5.0, None, 1440).keep_all_days == math.inf
    assert Growth.of(5.0, RetentionConfig(thin_minutes=10), 1440).thin_ratio == 1.0  # disabled


def test_the_disk_guard_gives_both_forecasts(tmp_path: Path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    (plain,) = volume_usage([a], bytes_per_day={a: 1e6})
    assert plain.retention is False and plain.days_until_full_retained is None
    growth = Growth(1e6, keep_all_days=1, thin_ratio=0.0)
    (both,) = volume_usage([a], bytes_per_day={a: 1e6}, retention={a: growth})
    assert both.days_until_full == pytest.approx(both.free / 1e6)
    assert both.retention is True
    assert both.days_until_full_retained is None  # only one day of frames is ever kept whole
