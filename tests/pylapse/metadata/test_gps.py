"""pylapse.metadata.gps: the UTC offset a GPS block implies, read straight from its tags (the
whole rule, weighed against a file's other evidence, is tested through pylapse.filetime)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pylapse.metadata import gps

TOKYO = ZoneInfo("Asia/Tokyo")
# GPS IFD tags: 1/2 latitude ref/value, 3/4 longitude ref/value, 7 time (UTC), 29 date
TOKYO_FIX = {1: b"N", 2: (35.0, 41.0, 0.0), 3: b"E", 4: (139.0, 41.0, 0.0)}


def test_real_offsets_are_quarter_hours_from_minus_12_to_plus_14() -> None:
    assert gps.real_offset(9 * 3600) and gps.real_offset(5 * 3600 + 45 * 60)
    assert gps.real_offset(-12 * 3600) and gps.real_offset(14 * 3600)
    assert not gps.real_offset(15 * 3600) and not gps.real_offset(3600 + 60)
    assert gps.nearest_real(9 * 3600 + 90) == 9 * 3600
    assert gps.nearest_real(9 * 3600 + 300) is None


def test_offsets_are_shown_with_seconds_only_when_needed() -> None:
    assert gps.show_offset(9 * 3600) == "+09:00"
    assert gps.show_offset(-(3 * 3600 + 30 * 60)) == "-03:30"
    assert gps.show_offset(3600 + 5) == "+01:00:05"


def test_position_is_signed_by_its_references() -> None:
    assert gps.position(TOKYO_FIX) == (35 + 41 / 60, 139 + 41 / 60)
    south_west = {1: b"S\x00", 2: (10.0, 30.0, 0.0), 3: "W", 4: (20.0, 0.0, 0.0)}
    assert gps.position(south_west) == (-10.5, -20.0)
    assert gps.position({}) is None


def test_a_dated_fix_gives_the_clock_minus_the_fix() -> None:
    block = {**TOKYO_FIX, 7: (3.0, 30.0, 5.0), 29: b"2024:01:15"}
    found = gps.offset_from_fix(block, datetime(2024, 1, 15, 12, 30, 5), None)
    assert isinstance(found, tuple)
    raw, label = found
    assert raw == 9 * 3600 and "+09:00" in label
    assert gps.zone_disagreement(block, datetime(2024, 1, 15, 12, 30, 5), 9 * 3600, None) == ""
    assert "Asia/Tokyo" in gps.zone_disagreement(
        block, datetime(2024, 1, 15, 12, 30, 5), 8 * 3600, None
    )


def test_placeholders_stale_fixes_and_missing_times_are_not_offsets() -> None:
    local = datetime(2024, 1, 15, 12, 30, 5)
    assert gps.offset_from_fix({}, local, None) is None
    zero = {1: b"N", 2: (0.0, 0.0, 0.0), 3: b"E", 4: (0.0, 0.0, 0.0), 7: (3.0, 30.0, 5.0)}
    assert "placeholder GPS fix" in str(gps.offset_from_fix(zero, local, None))
    stale = {**TOKYO_FIX, 7: (3.0, 30.0, 5.0), 29: b"2023:12:01"}
    assert "stale GPS fix" in str(gps.offset_from_fix(stale, local, None))


def test_a_time_only_fix_takes_the_reading_the_zones_agree_with() -> None:
    # 12:30 local, 23:30 UTC: -11 h or +13 h; Tokyo (the position) is +09:00 and agrees with
    # neither, so the reading up to +12 h is taken.
    block = {**TOKYO_FIX, 7: (23.0, 30.0, 0.0)}
    found = gps.offset_from_fix(block, datetime(2024, 1, 15, 12, 30), TOKYO)
    assert isinstance(found, tuple)
    raw, label = found
    assert raw == -11 * 3600 and "modulo 24 h" in label and "no GPS date" in label
