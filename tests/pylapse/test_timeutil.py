"""Time zones, the DST rule of localize(), offsets and the UTC+offset round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pylapse import timeutil
from pylapse.timeutil import (
    ZoneError,
    all_zones,
    as_fixed,
    format_offset,
    from_utc,
    localize,
    offset_seconds,
    parse_offset,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_zone_by_name_and_the_local_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    assert zone("UTC") is UTC and zone("utc") is UTC
    monkeypatch.setenv("TZ", "America/Denver")
    timeutil.local_zone_name.cache_clear()
    zone.cache_clear()
    try:
        assert zone(None) == ZoneInfo("America/Denver") == zone("")
    finally:
        timeutil.local_zone_name.cache_clear()
        zone.cache_clear()


def test_a_bad_local_tz_variable_falls_back_to_the_machines_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    machine = timeutil._first_zone("", Path("/etc/timezone"), Path("/etc/localtime"))
    monkeypatch.setenv("TZ", "Nowhere/Special")
    timeutil.local_zone_name.cache_clear()
    try:
        assert timeutil.local_zone_name() == machine
    finally:
        timeutil.local_zone_name.cache_clear()


# --- the local zone's fallback chain, on real files: $TZ, /etc/timezone, /etc/localtime, UTC ----


@pytest.fixture
def etc(tmp_path: Path) -> tuple[Path, Path]:
    """Where a test's /etc/timezone and /etc/localtime go (neither exists until written)."""
    return tmp_path / "timezone", tmp_path / "localtime"


def _link(localtime: Path, target: str) -> None:
    localtime.symlink_to(target)  # a dangling link is fine: only its text is read


def test_the_tz_variable_comes_first(etc: tuple[Path, Path]) -> None:
    timezone_file, localtime = etc
    timezone_file.write_text("Europe/Berlin\n")
    _link(localtime, "/usr/share/zoneinfo/America/Denver")
    assert timeutil._first_zone("Asia/Tokyo", timezone_file, localtime) == "Asia/Tokyo"
    assert timeutil._first_zone(":Asia/Tokyo", timezone_file, localtime) == "Asia/Tokyo"


def test_then_the_timezone_file(etc: tuple[Path, Path]) -> None:
    timezone_file, localtime = etc
    timezone_file.write_text("  Europe/Berlin\n")
    _link(localtime, "/usr/share/zoneinfo/America/Denver")
    for variable in ("", "Nowhere/Special", "Europe", "../../etc/passwd"):
        assert timeutil._first_zone(variable, timezone_file, localtime) == "Europe/Berlin"


def test_then_the_localtime_link(etc: tuple[Path, Path]) -> None:
    timezone_file, localtime = etc
    _link(localtime, "../usr/share/zoneinfo/America/Denver")
    assert timeutil._first_zone("", timezone_file, localtime) == "America/Denver"  # no file
    timezone_file.write_text("not a zone\n")
    assert timeutil._first_zone("", timezone_file, localtime) == "America/Denver"
    timezone_file.unlink()
    timezone_file.mkdir()  # unreadable as a file
    assert timeutil._first_zone("", timezone_file, localtime) == "America/Denver"


@pytest.mark.parametrize("target", ["/usr/share/zoneinfo/Nowhere/Special", "/etc/UTC-ish"])
def test_else_utc(etc: tuple[Path, Path], target: str) -> None:
    timezone_file, localtime = etc
    assert timeutil._first_zone("", timezone_file, localtime) == "UTC"  # nothing at all
    _link(localtime, target)  # a link to no zone, or not into a zoneinfo folder
    assert timeutil._first_zone("Nowhere/Special", timezone_file, localtime) == "UTC"
    localtime.unlink()
    localtime.write_bytes(b"TZif")  # a copied zone file, not a link: nothing to read a name from
    assert timeutil._first_zone("", timezone_file, localtime) == "UTC"


@pytest.mark.parametrize(
    "name",
    ["Mars/Base", "../../etc/passwd", "Europe", "Asia/Tokyo ", "x" * 300],  # too long a name
)
def test_unknown_zones_are_refused_with_the_accepted_form(name: str) -> None:
    with pytest.raises(ZoneError) as caught:
        zone(name)
    assert str(caught.value) == f"{name!r} is not an IANA time zone (for example 'Asia/Tokyo')"
    assert not timeutil.is_zone(name)


def test_is_zone() -> None:
    assert timeutil.is_zone("Asia/Tokyo") and timeutil.is_zone("utc")
    assert not timeutil.is_zone("Asia/Atlantis")


def test_all_zones_lists_the_iana_database() -> None:
    zones = all_zones()
    assert "Asia/Tokyo" in zones and "America/New_York" in zones
    assert list(zones) == sorted(zones)


def test_now_is_aware() -> None:
    assert timeutil.now().tzinfo is UTC
    assert timeutil.now(BERLIN).tzinfo is BERLIN


# --- the DST rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone_", "wall", "expected_wall", "offset_hours"),
    [
        # ambiguous: the first occurrence (summer time)
        (BERLIN, datetime(2024, 10, 27, 2, 30), datetime(2024, 10, 27, 2, 30), 2),
        (NEW_YORK, datetime(2024, 11, 3, 1, 30), datetime(2024, 11, 3, 1, 30), -4),
        # skipped: shifted forward by the gap
        (BERLIN, datetime(2024, 3, 31, 2, 30), datetime(2024, 3, 31, 3, 30), 2),
        (NEW_YORK, datetime(2024, 3, 10, 2, 30), datetime(2024, 3, 10, 3, 30), -4),
        # ordinary times are untouched
        (BERLIN, datetime(2024, 7, 1, 12, 0), datetime(2024, 7, 1, 12, 0), 2),
        (NEW_YORK, datetime(2024, 1, 1, 0, 0), datetime(2024, 1, 1, 0, 0), -5),
    ],
)
def test_localize_rule(zone_, wall: datetime, expected_wall: datetime, offset_hours: int) -> None:
    aware = localize(wall, zone_)
    assert aware.replace(tzinfo=None) == expected_wall
    assert aware.utcoffset() == timedelta(hours=offset_hours)


def test_localize_is_documented() -> None:
    doc = timeutil.__doc__ or ""
    assert "**Ambiguous**" in doc and "*first* occurrence" in doc
    assert "**Skipped**" in doc and "shifted forward" in doc


def test_localize_converts_an_aware_time() -> None:
    assert localize(datetime(2024, 1, 1, 12, tzinfo=UTC), BERLIN).hour == 13


# --- offsets and the UTC + offset round trip -----------------------------------------------------


def test_format_offset() -> None:
    assert format_offset(datetime(2026, 2, 9, tzinfo=ZoneInfo("Asia/Tokyo"))) == "+09.00"
    assert format_offset(datetime(2026, 2, 9, tzinfo=ZoneInfo("America/St_Johns")), ":") == "-03:30"
    assert format_offset(datetime(2026, 2, 9, tzinfo=UTC)) == "+00.00"
    assert format_offset(datetime(1960, 1, 1, tzinfo=ZoneInfo("Africa/Monrovia"))) == "-00.44.30"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("Z", 0), ("z", 0), ("+09.00", 32400), ("+09:00", 32400), ("+0900", 32400), ("+09", 32400),
     ("-05.30", -19800), ("-00.44.30", -2670), (" +01:00 ", 3600)],
)  # fmt: skip
def test_parse_offset(text: str, seconds: int) -> None:
    assert parse_offset(text).utcoffset(None) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "09:00", "+9", "+24:00", "+09:60", "UTC+9", "+09:00:99", "+01:00:60"]
)
def test_parse_offset_refuses_junk(text: str) -> None:
    with pytest.raises(ValueError, match="is not a UTC offset"):
        parse_offset(text)


def test_from_utc_rebuilds_the_frames_own_wall_clock() -> None:
    # 01:30 EDT and 01:30 EST on the night New York leaves summer time: same wall clock, an
    # hour apart, told apart by the stored offset.
    first = localize(datetime(2024, 11, 3, 1, 30), NEW_YORK)
    second = (first.astimezone(UTC) + timedelta(hours=1)).astimezone(NEW_YORK)
    assert (first.utcoffset(), second.utcoffset()) == (timedelta(hours=-4), timedelta(hours=-5))
    for instant in (first, second):
        stored = (instant.timestamp(), offset_seconds(instant))
        back = from_utc(*stored)
        assert back.timestamp() == instant.timestamp()
        assert back.utcoffset() == instant.utcoffset()
        assert back.replace(tzinfo=None) == datetime(2024, 11, 3, 1, 30)


def test_as_fixed_compares_equal_across_zones_in_a_repeated_hour() -> None:
    ambiguous = datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK)
    utc = datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    assert ambiguous != utc  # PEP 495: inter-zone equality fails in the repeated hour
    assert as_fixed(ambiguous) == utc
    assert as_fixed(ambiguous).tzinfo == timezone(timedelta(hours=-4))


def test_offset_seconds_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        offset_seconds(datetime(2024, 1, 1))


def test_tz_abbrev() -> None:
    assert timeutil.tz_abbrev(datetime(2026, 7, 1, tzinfo=BERLIN)) == "CEST"
    assert timeutil.tz_abbrev(datetime(2026, 1, 1, tzinfo=NEW_YORK)) == "EST"
    assert timeutil.tz_abbrev(datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=5)))) == "+0500"
    assert timeutil.tz_abbrev(datetime(2026, 7, 1, tzinfo=timezone(timedelta(hours=-3)))) == "-0300"
    assert timeutil.tz_abbrev(datetime(2026, 7, 1, tzinfo=UTC)) == "UTC"


@pytest.mark.parametrize(
    ("name", "when", "abbrev"),
    [
        # zones whose database abbreviation is only a number ("-03", "+0545"): written out in
        # full, as the +HHMM that %z would print
        ("America/Sao_Paulo", datetime(2026, 1, 15), "-0300"),
        ("Asia/Kathmandu", datetime(2026, 1, 15), "+0545"),
        ("Australia/Lord_Howe", datetime(2026, 1, 15), "+1100"),
        ("Australia/Lord_Howe", datetime(2026, 7, 15), "+1030"),
        ("America/Santiago", datetime(2026, 7, 15), "-0400"),
        ("Asia/Tokyo", datetime(2026, 1, 15), "JST"),
    ],
)
def test_numeric_zone_abbreviations_become_full_offsets(
    name: str, when: datetime, abbrev: str
) -> None:
    local = when.replace(tzinfo=ZoneInfo(name))
    assert timeutil.tz_abbrev(local) == abbrev


def test_a_zone_without_a_name_gives_its_offset() -> None:
    class Nameless(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta:
            return timedelta(hours=2)

        def tzname(self, dt: datetime | None) -> None:
            return None

        def dst(self, dt: datetime | None) -> timedelta:
            return timedelta(0)

    assert timeutil.tz_abbrev(datetime(2026, 1, 1, tzinfo=Nameless())) == "+0200"


def test_localize_ignores_a_fold_given_with_the_wall_time() -> None:
    # the rule is the first occurrence, whatever fold the caller's naive datetime carries
    aware = localize(datetime(2024, 10, 27, 2, 30, fold=1), BERLIN)
    assert aware.utcoffset() == timedelta(hours=2)


def test_as_fixed_keeps_no_fold() -> None:
    second = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN)  # the CET 02:30
    fixed_second = as_fixed(second)
    assert fixed_second.utcoffset() == timedelta(hours=1)
    assert fixed_second.fold == 0 and "fold" not in repr(fixed_second)


def test_fixed_zones() -> None:
    assert timeutil.fixed_zone(0) is UTC
    assert timeutil.fixed_zone(-12600).utcoffset(None) == timedelta(hours=-3, minutes=-30)
    assert timeutil.fixed_zone(3600) is timeutil.fixed_zone(3600)  # cached: one object


def test_offset_text() -> None:
    assert timeutil.offset_text(32400) == "+09.00"  # the file-name form by default
    assert timeutil.offset_text(-12600, ":") == "-03:30"
    assert timeutil.offset_text(-1800, "") == "-0030"
    assert timeutil.offset_text(-2670) == "-00.44.30"
    assert timeutil.offset_text(0) == "+00.00"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("+23:59", 86340), ("-23.59.59", -86399), ("+00:59:59", 3599), ("-0030", -1800)],
)
def test_parse_offset_up_to_its_limits(text: str, seconds: int) -> None:
    assert parse_offset(text).utcoffset(None) == timedelta(seconds=seconds)
