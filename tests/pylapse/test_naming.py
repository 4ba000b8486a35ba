"""Frame names: templates, every accepted pattern, rejections, and the round trip as a property."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import piexif
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from pylapse import exif, timeutil
from pylapse.naming import (
    DEFAULT_FORMAT,
    EPOCH_RANGE,
    NameKind,
    TemplateError,
    TimeSource,
    compile_user_pattern,
    fastparse,
    format_name,
    frame_time,
    parse_name,
    parse_name_kind,
    parse_name_utc,
    parse_path,
    parse_path_kind,
    validate_template,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def fixed(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# --- formatting ---------------------------------------------------------------------------------


def test_default_format_example_from_the_design() -> None:
    when = datetime(2026, 2, 9, 14, 30, 0, tzinfo=TOKYO)
    assert format_name(when, prefix="cam-") == "cam-2026-02-09T14-30-00+09.00.jpg"
    assert DEFAULT_FORMAT == "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}.{ext}"


def test_template_fields() -> None:
    when = datetime(2026, 7, 1, 6, 5, 4, tzinfo=BERLIN)
    template = "{camera}_{timestamp:%Y%m%d_%H%M%S}_{tz}{tz_offset}.{ext}"
    assert format_name(when, template, camera="porch", ext=".png") == (
        "porch_20260701_060504_CEST+02.00.png"
    )


def test_negative_and_half_hour_offsets() -> None:
    assert format_name(datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("America/St_Johns"))) == (
        "2026-01-05T09-00-00-03.30.jpg"
    )
    assert format_name(datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Kathmandu"))) == (
        "2026-01-05T09-00-00+05.45.jpg"
    )


def test_a_sub_minute_historical_offset_keeps_its_seconds() -> None:
    when = datetime(1960, 6, 1, 12, 0, tzinfo=ZoneInfo("Africa/Monrovia"))  # -00:44:30 then
    name = format_name(when)
    assert name == "1960-06-01T12-00-00-00.44.30.jpg"
    parsed = parse_name(name, UTC)
    assert parsed is not None and parsed.time == when
    assert parse_name_utc(name, UTC) == (when.timestamp(), -2670)


def test_format_name_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        format_name(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{prefix}.{ext}", "has no {timestamp:...} field, so frames would collide"),
        ("{timestamp}.jpg", "{timestamp} needs a strftime format"),
        ("{prefix:>5}{timestamp:%Y%m%d%H%M%S}", "only {timestamp} takes a format, not {prefix}"),
        ("{timestamp!r:%Y}", "conversions like !r are not allowed"),
        ("{timestamp:%Y-%m-%d}/{timestamp:%H%M%S}.jpg", "must make a plain file name, not a path"),
        ("{timestamp:%Y-%m-%d %H-%M}.jpg", "two frames one second apart the same name"),
        ("{timestamp:%Y-%m-%d %I-%M-%S}.jpg", "one hour (12-hour clock without %p?) apart"),
        ("{timestamp:%d.%m.%Y %H.%M.%S}.jpg", "cannot read back"),
        ("{timestamp:%Y-%m-%d", "is not a valid template"),
        ("{when:%Y}", "uses unknown field {when}"),
    ],
)
def test_invalid_templates_are_rejected(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        validate_template(template)


@pytest.mark.parametrize(
    "template",
    [
        DEFAULT_FORMAT,
        "{prefix}{timestamp:%Y%m%d_%H%M%S}.{ext}",
        "IMG_{timestamp:%Y%m%d_%H%M%S}.{ext}",
        "{camera} {timestamp:%Y-%m-%d %I.%M.%S %p}.{ext}",
        "{prefix}{timestamp:%Y-%m-%dT%H-%M-%S.%f}{tz_offset}.{ext}",
        "{timestamp:%Y-%m-%d %H:%M:%S}{tz}.{ext}",
    ],
)
def test_valid_templates_are_accepted(template: str) -> None:
    assert validate_template(template) == template


# --- every accepted name pattern --------------------------------------------------------------

ACCEPTED = [
    # the default format and its separator variants
    ("cam-2026-02-09T14-30-00+09.00.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=fixed(9))),
    ("cam-2026-02-09T14-30-00+0900.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=fixed(9))),
    ("cam-2026-02-09T14:30:00+09:00.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=fixed(9))),
    ("cam 2026-02-09 14.30.00-05.00.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=fixed(-5))),
    ("cam_2026-02-09_14-30-00Z.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=UTC)),
    ("2026-02-09T14-30-00.250+01.00.jpg", datetime(2026, 2, 9, 14, 30, 0, 250000, fixed(1))),
    ("2026-02-09T14-30-00+09.00-2.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=fixed(9))),
    ("2026-02-09T14-30-00.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=BERLIN)),
    ("2026.02.09 14.30.00.jpg", datetime(2026, 2, 9, 14, 30, tzinfo=BERLIN)),
    # compact camera and phone names
    ("IMG_20240115_120000.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=BERLIN)),
    ("20240115-120000.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=BERLIN)),
    ("20240115T120000.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=BERLIN)),
    ("20240115T120000Z.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=UTC)),
    # Google Pixel names are UTC
    ("PXL_20240115_120000123.jpg", datetime(2024, 1, 15, 13, 0, 0, 123000, tzinfo=fixed(1))),
    ("2013-10-16-22-23-42.jpg", datetime(2013, 10, 16, 22, 23, 42, tzinfo=BERLIN)),
    # 12-hour clocks
    ("2024-01-15 01.30.00 PM.jpg", datetime(2024, 1, 15, 13, 30, tzinfo=BERLIN)),
    ("2024-01-15 12.05.00 AM.jpg", datetime(2024, 1, 15, 0, 5, tzinfo=BERLIN)),
    ("2024-01-15 12.05.00 pm.jpg", datetime(2024, 1, 15, 12, 5, tzinfo=BERLIN)),
    ("Screenshot 2024-01-15 at 1.30.00 PM.png", datetime(2024, 1, 15, 13, 30, tzinfo=BERLIN)),
    ("2024-01-15_9-05-07a.m..jpg", datetime(2024, 1, 15, 9, 5, 7, tzinfo=BERLIN)),
    # without seconds, as pyLapse 0.2 read them (second 0)
    ("cam-2024-01-15-1200.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=BERLIN)),
    ("cam-2024-01-15_1230.jpg", datetime(2024, 1, 15, 12, 30, tzinfo=BERLIN)),
    ("2024-01-15_12-00.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=BERLIN)),
    ("Porch 2024-01-15 23:59.jpg", datetime(2024, 1, 15, 23, 59, tzinfo=BERLIN)),
    ("IMG_20240115_0705.jpg", datetime(2024, 1, 15, 7, 5, tzinfo=BERLIN)),
    ("2024-01-15T12-00+09.00.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=fixed(9))),
    ("2024-01-15 01.30 PM.jpg", datetime(2024, 1, 15, 13, 30, tzinfo=BERLIN)),
    ("cam-2024-01-15-1200-3.jpg", datetime(2024, 1, 15, 12, 0, tzinfo=BERLIN)),  # a counter
]


@pytest.mark.parametrize(("name", "expected"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_accepted_names(name: str, expected: datetime) -> None:
    parsed = parse_name(name, BERLIN)
    assert parsed is not None
    assert parsed.time == expected
    assert parsed.time.utcoffset() == expected.utcoffset()
    assert parsed.source is TimeSource.FILENAME
    assert parse_name_utc(name, BERLIN) == (
        expected.timestamp(),
        timeutil.offset_seconds(expected),
    )


REJECTED = [
    "DSC01234.jpg",  # no date
    "holiday.jpg",
    "2024-13-01_12-00-00.jpg",  # month 13
    "2024-01-15_25-00-00.jpg",  # hour 25
    "2024-01-15_12-60-00.jpg",  # minute 60
    "2024-02-30_12-00-00.jpg",  # 30 February
    "2023-02-29T12-00-00+01.00.jpg",  # not a leap year
    "2024-02-30T12-00-00+01.00.jpg",  # the fast path checks days too
    "2024011512000.jpg",  # too few digits
    "202401151200001.jpg",  # one digit too many
    "2024-01-15_1260.jpg",  # minute 60, without seconds
    "2024-01-15_12000.jpg",  # five digits: neither a clock with seconds nor one without
    "2024-1-15_12-00-00.jpg",  # one-digit month
    "12024-01-15_12-00-00.jpg",  # a five-digit year is not a year
    "2024-01-15 13.00.00 PM.jpg",  # 13 o'clock PM
    "0000-01-15T12-00-00+01.00.jpg",  # year zero
]


@pytest.mark.parametrize("name", REJECTED)
def test_rejected_names(name: str) -> None:
    assert parse_name(name, BERLIN) is None
    assert parse_name_utc(name, BERLIN) is None


def test_a_counter_suffix_is_not_read_as_an_offset() -> None:
    parsed = parse_name("2024-01-15_12-00-00-01.jpg", BERLIN)
    assert parsed is not None and parsed.time == datetime(2024, 1, 15, 12, tzinfo=BERLIN)


def test_am_pm_must_be_a_word_of_its_own() -> None:
    parsed = parse_name("20240115_120000_Panorama.jpg", BERLIN)
    assert parsed is not None and parsed.time.hour == 12


def test_digits_in_the_prefix_do_not_leak_into_the_year() -> None:
    parsed = parse_name("cam2-2026-02-09T14-30-00+09.00.jpg", UTC)
    assert parsed is not None and parsed.time == datetime(2026, 2, 9, 14, 30, tzinfo=fixed(9))


# --- user patterns ------------------------------------------------------------------------------


def test_user_pattern_with_named_groups_is_tried_first() -> None:
    pattern = compile_user_pattern(
        r"(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4}) (?P<hour>\d{1,2})h(?P<minute>\d{2})"
        r"(?P<second>\d{2})? ?(?P<ampm>[ap]m)?"
    )
    parsed = parse_name("Garten 15.01.2024 7h3005 pm.jpg", BERLIN, pattern)
    assert parsed is not None
    assert parsed.time == datetime(2024, 1, 15, 19, 30, 5, tzinfo=BERLIN)
    assert parsed.source is TimeSource.PATTERN
    assert parse_name_utc("Garten 15.01.2024 7h3005 pm.jpg", BERLIN, pattern) == (
        parsed.time.timestamp(),
        3600,
    )


def test_user_pattern_as_a_string_with_offset_and_0_2_seconds_group() -> None:
    pattern = r"(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)(?P<hour>\d\d)(?P<minute>\d\d)(?P<seconds>\d\d)(?P<offset>[+-]\d{4})"  # noqa: E501
    parsed = parse_name("x20240115120005+0530.jpg", BERLIN, pattern)
    assert parsed is not None and parsed.time == datetime(2024, 1, 15, 12, 0, 5, tzinfo=fixed(5.5))


def test_a_user_pattern_that_does_not_match_falls_back_to_the_built_ins() -> None:
    pattern = compile_user_pattern(
        r"^x(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)(?P<hour>\d\d)(?P<minute>\d\d)"
    )
    parsed = parse_name("IMG_20240115_120000.jpg", BERLIN, pattern)
    assert parsed is not None and parsed.source is TimeSource.FILENAME


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(?P<year>\d{4}", "is not a valid regular expression"),
        (r"(?P<year>\d{4})(?P<month>\d\d)", "lacks the named group(s) day, hour, minute"),
        (
            r"(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)(?P<hour>\d\d)(?P<minute>\d\d)(?P<ms>\d)",
            "has unknown named group(s) ms",
        ),
    ],
)
def test_bad_user_patterns(pattern: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        compile_user_pattern(pattern)


# --- the DST rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "zone", "expected_utc", "offset_hours"),
    [
        # ambiguous (clocks go back): the first occurrence, still on summer time
        ("IMG_20241027_023000.jpg", BERLIN, datetime(2024, 10, 27, 0, 30, tzinfo=UTC), 2),
        ("IMG_20241103_013000.jpg", NEW_YORK, datetime(2024, 11, 3, 5, 30, tzinfo=UTC), -4),
        # skipped (clocks go forward): shifted forward by the gap
        ("IMG_20240331_023000.jpg", BERLIN, datetime(2024, 3, 31, 1, 30, tzinfo=UTC), 2),
        ("IMG_20240310_023000.jpg", NEW_YORK, datetime(2024, 3, 10, 7, 30, tzinfo=UTC), -4),
        # names without seconds (pyLapse 0.2's shapes) follow the same rule
        ("cam-2024-10-27-0230.jpg", BERLIN, datetime(2024, 10, 27, 0, 30, tzinfo=UTC), 2),
        ("cam-2024-03-31-0230.jpg", BERLIN, datetime(2024, 3, 31, 1, 30, tzinfo=UTC), 2),
        ("cam 2024-11-03 01-30.jpg", NEW_YORK, datetime(2024, 11, 3, 5, 30, tzinfo=UTC), -4),
        ("cam-2024-10-27-0330.jpg", BERLIN, datetime(2024, 10, 27, 2, 30, tzinfo=UTC), 1),
    ],
)
def test_dst_edges_follow_the_documented_rule(
    name: str, zone: tzinfo, expected_utc: datetime, offset_hours: int
) -> None:
    parsed = parse_name(name, zone)
    assert parsed is not None
    assert parsed.time == expected_utc
    assert parsed.time.utcoffset() == timedelta(hours=offset_hours)
    assert parse_name_utc(name, zone) == (expected_utc.timestamp(), offset_hours * 3600)


def test_skipped_wall_time_reads_as_the_clock_after_the_gap() -> None:
    parsed = parse_name("IMG_20240331_023000.jpg", BERLIN)
    assert parsed is not None
    assert parsed.time.replace(tzinfo=None) == datetime(2024, 3, 31, 3, 30)


# --- the round trip as a property ----------------------------------------------------------------

_ZONES = st.timezones()
_INSTANTS = st.datetimes(
    min_value=datetime(1901, 1, 1),
    max_value=datetime(2199, 12, 31),
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))


@lru_cache(maxsize=4096)
def _transitions(zone: tzinfo, year: int) -> tuple[int, ...]:
    """UTC seconds at which ``zone``'s offset changes during ``year`` (to the second)."""
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    found = []

    def offset(t: int) -> timedelta | None:
        return datetime.fromtimestamp(t, zone).utcoffset()

    step = 86400
    for t in range(start, start + 366 * step, step):
        if offset(t) != offset(t + step):
            lo, hi = t, t + step
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            found.append(hi)
    return tuple(found)


@st.composite
def near_transitions(draw: st.DrawFn) -> tuple[datetime, tzinfo]:
    """An instant within two hours either side of a DST (or other offset) change."""
    zone = draw(st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("Australia/Lord_Howe"),
                                 ZoneInfo("America/Santiago"), ZoneInfo("Europe/London"),
                                 ZoneInfo("Pacific/Apia")]) | _ZONES)  # fmt: skip
    year = draw(st.integers(1970, 2100))
    changes = _transitions(zone, year)
    if not changes:
        return draw(_INSTANTS), zone
    change = draw(st.sampled_from(changes))
    delta = draw(st.integers(-7200, 7200))
    return datetime.fromtimestamp(change + delta, UTC), zone


TEMPLATES = [
    DEFAULT_FORMAT,
    "{prefix}{timestamp:%Y%m%d_%H%M%S}{tz_offset}.{ext}",
    "{camera} {timestamp:%Y-%m-%d %I.%M.%S %p}{tz_offset}.{ext}",
]


def _check_round_trip(instant: datetime, zone: tzinfo, template: str) -> None:
    local = instant.astimezone(zone)
    name = format_name(local, template, prefix="cam-", camera="porch")
    other_zone = TOKYO  # the name's own offset must win over the collection's zone
    parsed = parse_name(name, other_zone)
    assert parsed is not None, name
    if fastparse.real_offset(timeutil.format_offset(local)) is None:
        # A local mean time before 1980 such as +11.12 is no real offset: only the wall
        # clock is read, in the collection's zone.
        assert parsed.kind is NameKind.WALL, name
        assert parsed.time.replace(tzinfo=None) == local.replace(tzinfo=None), name
        return
    assert parsed.kind is NameKind.OFFSET, name
    assert parsed.time == instant, name
    assert parsed.time.utcoffset() == local.utcoffset(), name
    assert parsed.time.replace(tzinfo=None) == local.replace(tzinfo=None), name
    utc, offset = parse_name_utc(name, other_zone)
    assert (utc, offset) == (instant.timestamp(), timeutil.offset_seconds(local)), name


@settings(max_examples=300, deadline=None)
@given(instant=_INSTANTS, zone=_ZONES, template=st.sampled_from(TEMPLATES))
@example(instant=datetime(2024, 10, 27, 0, 30, tzinfo=UTC), zone=BERLIN, template=DEFAULT_FORMAT)
@example(instant=datetime(2024, 10, 27, 1, 30, tzinfo=UTC), zone=BERLIN, template=DEFAULT_FORMAT)
def test_round_trip_random_instants_in_random_zones(
    instant: datetime, zone: tzinfo, template: str
) -> None:
    _check_round_trip(instant, zone, template)


@settings(max_examples=300, deadline=None)
@given(case=near_transitions(), template=st.sampled_from(TEMPLATES))
def test_round_trip_on_both_sides_of_dst_transitions(
    case: tuple[datetime, tzinfo], template: str
) -> None:
    instant, zone = case
    _check_round_trip(instant, zone, template)


@settings(max_examples=200, deadline=None)
@given(
    case=near_transitions(),
    micro=st.integers(0, 999_999),
    template=st.sampled_from(
        ["IMG_{timestamp:%Y%m%d_%H%M%S}.{ext}", "{timestamp:%Y-%m-%d %H.%M.%S.%f}.{ext}"]
    ),
)
def test_names_without_offset_keep_their_wall_clock(
    case: tuple[datetime, tzinfo], micro: int, template: str
) -> None:
    """Without an offset only the wall clock survives; outside the repeated hour, the instant."""
    instant, zone = case
    if "%f" in template:
        instant = instant.replace(microsecond=micro)
    local = instant.astimezone(zone)
    name = format_name(local, template)
    parsed = parse_name(name, zone)
    assert parsed is not None
    assert parsed.time.replace(tzinfo=None) == local.replace(tzinfo=None)
    assert parse_name_utc(name, zone) == (  # the fast path agrees with the datetime path
        parsed.time.timestamp(),
        timeutil.offset_seconds(parsed.time),
    )
    repeated = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    if not repeated:
        assert parsed.time == instant
    else:  # the documented rule: the first occurrence (zoneinfo's fold=0)
        first = min(local.replace(fold=0).timestamp(), local.replace(fold=1).timestamp())
        assert parsed.time.timestamp() == first


# --- frame_time: name, then EXIF, then mtime ---------------------------------------------------


def _jpeg(exif_block: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "JPEG")
    if exif_block is None:
        return buffer.getvalue()
    out = io.BytesIO()
    piexif.insert(exif_block, buffer.getvalue(), out)
    return out.getvalue()


def test_frame_time_prefers_the_name(tmp_path: Path) -> None:
    path = tmp_path / "IMG_20240115_120000.jpg"
    path.write_bytes(_jpeg(exif.exif_bytes(datetime(2000, 1, 1, tzinfo=UTC))))
    found = frame_time(path, BERLIN)
    assert (found.time, found.source, found.note) == (
        datetime(2024, 1, 15, 12, tzinfo=BERLIN),
        TimeSource.FILENAME,
        "",
    )


def test_frame_time_falls_back_to_exif_and_says_why(tmp_path: Path) -> None:
    when = datetime(2025, 8, 10, 19, 2, 53, 270000, tzinfo=fixed(3))
    path = tmp_path / "DSC01234.jpg"
    path.write_bytes(_jpeg(exif.exif_bytes(when)))
    found = frame_time(path, BERLIN)
    assert (found.time, found.source) == (when, TimeSource.EXIF)
    assert found.note == "no date and time in the name 'DSC01234.jpg'"


def test_frame_time_falls_back_to_mtime_with_the_reasons(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(_jpeg())
    os.utime(path, (1_700_000_000, 1_700_000_000))
    found = frame_time(path, BERLIN)
    assert found.source is TimeSource.MTIME
    assert found.time == datetime.fromtimestamp(1_700_000_000, BERLIN)
    assert found.note == (
        "no date and time in the name 'holiday.jpg'; no EXIF data in the file; "
        "used the file's modification time"
    )


def test_frame_time_reports_an_unreadable_file_and_uses_the_given_mtime(tmp_path: Path) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"<html>not a picture</html>")
    found = frame_time(path, BERLIN, mtime=1_000_000_000.0)
    assert found.source is TimeSource.MTIME
    assert found.time == datetime.fromtimestamp(1_000_000_000, BERLIN)
    assert "not an image Pillow can open" in found.note


def test_frame_time_can_skip_exif(tmp_path: Path) -> None:
    path = tmp_path / "DSC01234.jpg"
    path.write_bytes(_jpeg(exif.exif_bytes(datetime(2025, 1, 1, tzinfo=UTC))))
    found = frame_time(path, BERLIN, use_exif=False, mtime=0.0)
    assert (found.source, found.time) == (TimeSource.MTIME, datetime.fromtimestamp(0, BERLIN))


def test_the_fast_path_caches_cannot_grow_without_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastparse, "_CACHE_LIMIT", 3)
    for day in range(1, 10):
        assert parse_name_utc(f"2026-01-{day:02d}T00-00-00+00.00.jpg", UTC) is not None
        assert parse_name_utc(f"IMG_202601{day:02d}_000000.jpg", BERLIN) is not None
    assert len(fastparse._DAYS) <= 3
    assert len(fastparse._DAY_OFFSETS) <= 3


# --- frame_time with a user pattern, and template edges -------------------------------------------

YEAR_DAY_MONTH = (
    r"(?P<year>\d{4})-(?P<day>\d{2})-(?P<month>\d{2})_"
    r"(?P<hour>\d{2})-(?P<minute>\d{2})-(?P<second>\d{2})"
)


def test_frame_time_honours_a_user_pattern(tmp_path: Path) -> None:
    # A camera writing year-day-month: the built-ins read 2 January, the pattern 1 February.
    path = tmp_path / "shot-2024-01-02_03-04-05.jpg"
    path.write_bytes(_jpeg(exif.exif_bytes(datetime(2000, 1, 1, tzinfo=UTC))))
    found = frame_time(path, BERLIN, YEAR_DAY_MONTH)
    assert (found.time, found.source, found.note) == (
        datetime(2024, 2, 1, 3, 4, 5, tzinfo=BERLIN),
        TimeSource.PATTERN,
        "",
    )
    assert frame_time(path, BERLIN, compile_user_pattern(YEAR_DAY_MONTH)) == found
    assert frame_time(str(path), BERLIN, YEAR_DAY_MONTH) == found
    plain = frame_time(path, BERLIN)
    assert (plain.time, plain.source) == (datetime(2024, 1, 2, 3, 4, 5, tzinfo=BERLIN), "filename")


def test_frame_time_past_a_pattern_that_reads_no_date(tmp_path: Path) -> None:
    # the pattern matches but names month 13: the built-ins read the name, then EXIF, then mtime
    named = tmp_path / "shot-2024-01-13_03-04-05.jpg"
    named.write_bytes(_jpeg())
    found = frame_time(named, BERLIN, YEAR_DAY_MONTH)
    assert (found.time, found.source) == (datetime(2024, 1, 13, 3, 4, 5, tzinfo=BERLIN), "filename")
    when = datetime(2025, 8, 10, 19, 2, 53, tzinfo=fixed(3))
    undated = tmp_path / "shot-13.jpg"
    undated.write_bytes(_jpeg(exif.exif_bytes(when)))
    found = frame_time(undated, BERLIN, YEAR_DAY_MONTH)
    assert (found.time, found.source, found.note) == (
        when,
        TimeSource.EXIF,
        "no date and time in the name 'shot-13.jpg'",
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{timestamp:%Y-%m-%d %H-%S}.jpg", "two frames one minute apart the same name"),
        ("{timestamp:%Y-%m-%d %M-%S}.jpg", "two frames one hour apart the same name"),
        ("{timestamp:%Y-%m %H-%M-%S}.jpg", "two frames one day apart the same name"),
        ("{timestamp:%m-%d %H-%M-%S}.jpg", "two frames one year apart the same name"),
        ("{timestamp:%Y-%m-%d\\%H%M%S}.jpg", "must make a plain file name, not a path"),
        ("{timestamp:%Y-%m-%dT%H-%M-%S}\x00.jpg", "must make a plain file name, not a path"),
        ("{camera}/{timestamp:%Y%m%d_%H%M%S}", "must make a plain file name, not a path"),
        ("{timestamp:%y%m%d_%H%M%S}.jpg", "cannot read back"),  # a two-digit year
        ("{timestamp:%Y-%j %H-%M-%S}.jpg", "cannot read back"),  # day of the year
        ("{}{timestamp:%Y}", "uses unknown field {}"),
        ("{0}{timestamp:%Y}", "uses unknown field {0}"),
        ("{prefix[0]}{timestamp:%Y%m%d_%H%M%S}", "uses unknown field {prefix[0]}"),
        ("{timestamp.year}{timestamp:%Y}", "uses unknown field {timestamp.year}"),
        ("{timestamp:%Y%m%d_%H%M%S}{tz:>4}", "only {timestamp} takes a format, not {tz}"),
        ("{timestamp:}.jpg", "{timestamp} needs a strftime format"),
        ("{timestamp:Y-m-d}.jpg", "{timestamp} needs a strftime format"),
        ("{timestamp:%Y%m%d_%H%M%S}{ext!s}", "conversions like !s are not allowed"),
        ("{timestamp:%Y}}", "is not a valid template"),
    ],
)
def test_more_invalid_templates(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)) as caught:
        validate_template(template)
    assert str(caught.value).startswith(repr(template))  # the message names the template


def test_a_template_error_says_what_to_write() -> None:
    with pytest.raises(TemplateError) as caught:
        validate_template("{timestamp:%Y-%m-%d %H-%M}.jpg")
    assert str(caught.value) == (
        "'{timestamp:%Y-%m-%d %H-%M}.jpg' gives two frames one second apart the same name "
        "('2026-02-09 02-30.jpg'); include %Y %m %d %H %M %S"
    )
    with pytest.raises(TemplateError) as caught:
        validate_template("{when}.jpg")
    assert str(caught.value) == (
        "'{when}.jpg' uses unknown field {when}; accepted: {prefix}, {camera}, {timestamp}, "
        "{tz}, {tz_offset}, {ext}"
    )
    with pytest.raises(TemplateError) as caught:
        validate_template("{timestamp:%y%m%d_%H%M%S}.jpg")
    assert str(caught.value) == (
        "'{timestamp:%y%m%d_%H%M%S}.jpg' makes names such as '260209_023005.jpg' that pyLapse "
        "cannot read back; write the date year first and the time after it, e.g. "
        "{timestamp:%Y-%m-%dT%H-%M-%S} or {timestamp:%Y%m%d_%H%M%S}"
    )


@pytest.mark.parametrize(
    "template",
    [
        "{timestamp:%Y%m%d%H%M%S}.{ext}",  # no separators at all
        "{prefix}{camera}-{timestamp:%Y-%m-%dT%H-%M-%S}{tz_offset}",  # no extension
        "{timestamp:%Y-%m-%d_%H.%M.%S}_{tz}.{ext}",
    ],
)
def test_more_valid_templates(template: str) -> None:
    assert validate_template(template) == template
    when = datetime(2026, 7, 1, 23, 59, 59, tzinfo=TOKYO)
    parsed = parse_name(format_name(when, template, prefix="p-", camera="c"), TOKYO)
    assert parsed is not None and parsed.time == when


def test_the_utc_path_tries_a_user_pattern_first_too() -> None:
    name = "shot-2024-01-02_03-04-05.jpg"
    want = datetime(2024, 2, 1, 3, 4, 5, tzinfo=BERLIN)
    assert parse_name_utc(name, BERLIN, YEAR_DAY_MONTH) == (want.timestamp(), 3600)
    assert parse_name_utc(name, BERLIN) == (
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=BERLIN).timestamp(),
        3600,
    )


def test_a_user_pattern_without_seconds_and_with_a_long_fraction() -> None:
    minutes = r"(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)-(?P<hour>\d\d)(?P<minute>\d\d)"
    parsed = parse_name("cam-20240115-1230.jpg", UTC, minutes)
    assert parsed is not None and parsed.time == datetime(2024, 1, 15, 12, 30, tzinfo=UTC)
    nanos = minutes + r"(?P<second>\d\d)\.(?P<fraction>\d+)"
    parsed = parse_name("cam-20240115-123005.123456789.jpg", UTC, nanos)  # cut to microseconds
    assert parsed is not None
    assert parsed.time == datetime(2024, 1, 15, 12, 30, 5, 123456, tzinfo=UTC)


def test_format_name_without_a_camera_or_with_a_dotted_extension() -> None:
    when = datetime(2026, 2, 9, 14, 30, tzinfo=TOKYO)
    assert format_name(when, "{camera}{timestamp:%Y%m%d_%H%M%S}.{ext}") == "20260209_143000.jpg"
    assert format_name(when, "{timestamp:%Y%m%d_%H%M%S}.{ext}", ext=".png") == "20260209_143000.png"
    with pytest.raises(ValueError) as caught:
        format_name(datetime(2026, 2, 9))
    assert str(caught.value) == "format_name needs an aware datetime"


def test_frame_time_reads_exif_without_an_offset_in_the_collections_zone(tmp_path: Path) -> None:
    block = piexif.dump({"Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:07:01 12:00:00"}})
    path = tmp_path / "DSC00042.jpg"
    path.write_bytes(_jpeg(block))
    found = frame_time(path, NEW_YORK)
    assert (found.time, found.source) == (datetime(2024, 7, 1, 12, tzinfo=NEW_YORK), "exif")
    assert found.time.utcoffset() == timedelta(hours=-4)


# --- what a name proves: offset, UTC or wall clock only ----------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cam-2026-02-09T14-30-00+09.00.jpg", NameKind.OFFSET),  # the default format
        ("IMG_20240115_123456+0900.jpg", NameKind.OFFSET),
        ("2024-01-15T12:34:56+00:00.jpg", NameKind.OFFSET),  # +00:00 is a real local offset
        ("IMG_20240115_123456.jpg", NameKind.WALL),  # a phone's wall clock only
        ("2024-01-15 01.30.00 PM.jpg", NameKind.WALL),
        ("20240115_123456-0001.jpg", NameKind.WALL),  # a counter, not -00:01
        ("PXL_20240115_123456789.jpg", NameKind.UTC),
        ("20240115T123456Z.jpg", NameKind.OFFSET),  # ISO 8601: Z is +00:00
        ("2024-01-15T12:34:56-00:00.jpg", NameKind.UTC),  # RFC 3339: UTC, local offset unknown
        ("1705318496_camera.jpeg", NameKind.UTC),
        # cameras' own shapes: motion's %v-%Y%m%d%H%M%S-%q, Hikvision FTP, Reolink FTP
        ("01-20240115123456-01.jpg", NameKind.WALL),
        ("192.168.1.64_01_20240115123456789_TIMING.jpg", NameKind.WALL),
        ("Camera1_00_20240115123456.jpg", NameKind.WALL),
    ],
)
def test_the_kind_says_whether_the_offset_came_from_the_name(name: str, kind: NameKind) -> None:
    parsed = parse_name(name, TOKYO)
    assert parsed is not None and parsed.kind is kind
    utc, offset, fast_kind = parse_name_kind(name, TOKYO) or (None, None, None)
    assert (utc, offset, fast_kind) == (
        parsed.time.timestamp(),
        timeutil.offset_seconds(parsed.time),
        kind,
    )
    assert parse_name_utc(name, TOKYO) == (utc, offset)


def test_a_wall_clock_name_gives_its_wall_clock_and_the_zones_offset() -> None:
    # What the index needs to let the file's own evidence (EXIF +09:00) supply the offset.
    hit = parse_name_kind("IMG_20240115_123456.jpg", BERLIN)
    assert hit is not None
    utc, offset, kind = hit
    assert kind is NameKind.WALL and offset == 3600
    wall = datetime.fromtimestamp(utc + offset, UTC).replace(tzinfo=None)
    assert wall == datetime(2024, 1, 15, 12, 34, 56)


def test_a_user_pattern_without_an_offset_group_is_a_wall_clock() -> None:
    pattern = r"shot-(?P<year>\d{4})(?P<month>\d\d)(?P<day>\d\d)-(?P<hour>\d\d)(?P<minute>\d\d)"
    parsed = parse_name("shot-20240115-1234.jpg", TOKYO, pattern)
    assert parsed is not None and parsed.source is TimeSource.PATTERN
    assert parsed.kind is NameKind.WALL
    with_offset = pattern + r"(?P<offset>[+-]\d{4})"
    parsed = parse_name("shot-20240115-1234+0530.jpg", TOKYO, with_offset)
    assert parsed is not None and parsed.kind is NameKind.OFFSET
    assert parsed.time.utcoffset() == timedelta(hours=5, minutes=30)
    # The user said "offset", but +0533 is none: the wall clock stands, in the zone.
    parsed = parse_name("shot-20240115-1234+0533.jpg", TOKYO, with_offset)
    assert parsed is not None and parsed.kind is NameKind.WALL
    assert parsed.time == datetime(2024, 1, 15, 12, 34, tzinfo=TOKYO)


def test_exif_and_mtime_times_have_no_name_kind(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_bytes(_jpeg())
    found = frame_time(path, BERLIN, mtime=1_705_318_496.0)
    assert found.source is TimeSource.MTIME and found.kind is None


# --- Google Pixel names are UTC -------------------------------------------------------------------

_PIXEL_UTC = datetime(2024, 1, 15, 12, 34, 56, 789000)


@pytest.mark.parametrize(
    ("name", "zone", "utc", "offset_hours"),
    [
        ("PXL_20240115_123456789.jpg", TOKYO, datetime(2024, 1, 15, 12, 34, 56, 789000), 9),
        (
            "PXL_20240115_123456789.NIGHT.jpg",
            NEW_YORK,
            datetime(2024, 1, 15, 12, 34, 56, 789000),
            -5,
        ),
        ("PXL_20240115_123456789.MP.jpg", UTC, datetime(2024, 1, 15, 12, 34, 56, 789000), 0),
        ("PXL_20240115_235959999.jpg", TOKYO, datetime(2024, 1, 15, 23, 59, 59, 999000), 9),
        # 02:30 on Berlin's spring-forward day does not exist as a wall clock; 01:30 UTC does
        ("PXL_20240331_013000000.jpg", BERLIN, datetime(2024, 3, 31, 1, 30), 2),
        # both 02:30s of the fall-back night, which a wall clock cannot tell apart
        ("PXL_20241027_003000000.jpg", BERLIN, datetime(2024, 10, 27, 0, 30), 2),
        ("PXL_20241027_013000000.jpg", BERLIN, datetime(2024, 10, 27, 1, 30), 1),
    ],
)
def test_pixel_names_are_read_as_utc(
    name: str, zone: tzinfo, utc: datetime, offset_hours: int
) -> None:
    parsed = parse_name(name, zone)
    assert parsed is not None and parsed.kind is NameKind.UTC
    assert parsed.time == utc.replace(tzinfo=UTC)
    assert parsed.time.utcoffset() == timedelta(hours=offset_hours)
    assert parse_name_kind(name, zone) == (
        utc.replace(tzinfo=UTC).timestamp(),
        offset_hours * 3600,
        NameKind.UTC,
    )


@pytest.mark.parametrize(
    "name", ["IMG_20240115_123456789.jpg", "XPXL_20240115_123456789.jpg", "pxl_20240115_123456.jpg"]
)
def test_only_pixels_own_prefix_means_utc(name: str) -> None:
    parsed = parse_name(name, TOKYO)
    assert parsed is not None and parsed.kind is NameKind.WALL
    assert parsed.time.replace(tzinfo=None, microsecond=0) == datetime(2024, 1, 15, 12, 34, 56)


# --- digits after the seconds: an offset only when they are a real one -------------------------


@pytest.mark.parametrize(
    ("suffix", "offset_minutes"),
    [
        ("-0001", None),  # a burst counter, not -00:01
        ("-0015", None),  # no zone was ever 15 min west of UTC
        ("-0045", None),
        ("-0059", None),
        ("-0100", -60),
        ("-0330", -210),
        ("-1200", -720),  # the far west edge
        ("-1215", None),
        ("-1300", None),
        ("+0001", None),
        ("+0010", None),
        ("+0100", 60),
        ("+0545", 345),  # Nepal
        ("+1245", 765),  # Chatham
        ("+1345", 825),
        ("+1400", 840),  # the far east edge
        ("+1415", None),
        ("+1500", None),
        ("+2500", None),
        ("+0960", None),
        ("+09:00", 540),
        ("+09.00", 540),
        ("+0000", 0),
    ],
)
def test_digits_after_the_seconds_are_an_offset_only_when_real(
    suffix: str, offset_minutes: int | None
) -> None:
    name = f"20240115_123456{suffix}.jpg"
    parsed = parse_name(name, TOKYO)
    assert parsed is not None
    if offset_minutes is None:
        assert parsed.kind is NameKind.WALL
        assert parsed.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=TOKYO)
    else:
        assert parsed.kind is NameKind.OFFSET
        assert parsed.time.utcoffset() == timedelta(minutes=offset_minutes)
        assert parsed.time.replace(tzinfo=None) == datetime(2024, 1, 15, 12, 34, 56)
    assert parse_name_kind(name, TOKYO) == (
        parsed.time.timestamp(),
        timeutil.offset_seconds(parsed.time),
        parsed.kind,
    )


_REAL_OFFSETS = {m for m in range(-720, 841, 15) if not -60 < m < 0}  # minutes, the rule


@settings(max_examples=300, deadline=None)
@given(sign=st.sampled_from("+-"), hours=st.integers(0, 99), minutes=st.integers(0, 99),
       sep=st.sampled_from(["", ":", "."]))  # fmt: skip
@example(sign="-", hours=0, minutes=0, sep="")
def test_an_offset_is_read_exactly_when_it_is_a_real_one(
    sign: str, hours: int, minutes: int, sep: str
) -> None:
    name = f"cam-2024-07-01T12-00-00{sign}{hours:02d}{sep}{minutes:02d}.jpg"
    parsed = parse_name(name, BERLIN)
    assert parsed is not None
    value = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
    if sign == "-" and value == 0:
        assert parsed.kind is NameKind.UTC  # -00:00
    elif minutes < 60 and value in _REAL_OFFSETS:
        assert parsed.kind is NameKind.OFFSET
        assert parsed.time.utcoffset() == timedelta(minutes=value)
    else:
        assert parsed.kind is NameKind.WALL
        assert parsed.time == datetime(2024, 7, 1, 12, tzinfo=BERLIN)
    assert parse_name_kind(name, BERLIN) == (
        parsed.time.timestamp(),
        timeutil.offset_seconds(parsed.time),
        parsed.kind,
    )


# --- epoch names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "utc"),
    [
        ("1705318496_camera.jpeg", datetime(2024, 1, 15, 11, 34, 56)),
        ("1705318496123_camera.jpeg", datetime(2024, 1, 15, 11, 34, 56, 123000)),
        ("snapshot_1705318496.jpg", datetime(2024, 1, 15, 11, 34, 56)),
        ("1705318496.25.jpg", datetime(2024, 1, 15, 11, 34, 56, 250000)),
        ("1000000000.jpg", datetime(2001, 9, 9, 1, 46, 40)),  # the first instant read
        ("1000000000000.jpg", datetime(2001, 9, 9, 1, 46, 40)),
        ("1999999999.jpg", datetime(2033, 5, 18, 3, 33, 19)),  # the last second read
        ("1999999999999.jpg", datetime(2033, 5, 18, 3, 33, 19, 999000)),
        ("0999999999_1705318496.jpg", datetime(2024, 1, 15, 11, 34, 56)),  # the first in range
    ],
)
def test_epoch_names_are_read_as_utc(name: str, utc: datetime) -> None:
    parsed = parse_name(name, TOKYO)
    assert parsed is not None
    assert parsed.kind is NameKind.UTC and parsed.source is TimeSource.FILENAME
    assert parsed.time == utc.replace(tzinfo=UTC)
    assert parsed.time.utcoffset() == timedelta(hours=9)
    assert parse_name_kind(name, TOKYO) == (parsed.time.timestamp(), 32400, NameKind.UTC)


@pytest.mark.parametrize(
    "name",
    [
        "0999999999.jpg",  # a counter with leading zeros would be 2001 minus a bit, or 1970
        "0000000042.jpg",
        "2000000000.jpg",  # from here a 10-digit number reads like a compact date and hour
        "2024011512.jpg",
        "9999999999.jpg",  # 2286
        "0999999999999.jpg",
        "2000000000000.jpg",
        "999999999.jpg",  # nine digits
        "17053184961.jpg",  # eleven
        "170531849612.jpg",  # twelve
        "17053184961234.jpg",  # fourteen
    ],
)
def test_numbers_outside_the_plausible_epoch_range_are_not_times(name: str) -> None:
    assert parse_name(name, TOKYO) is None
    assert parse_name_kind(name, TOKYO) is None


def test_a_date_in_the_name_wins_over_an_epoch_number() -> None:
    parsed = parse_name("20240115_123456_1705318496.jpg", TOKYO)
    assert parsed is not None and parsed.kind is NameKind.WALL
    assert parsed.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=TOKYO)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**13 - 1), st.booleans())
@example(EPOCH_RANGE[0], False)
@example(EPOCH_RANGE[1] - 1, False)
@example(EPOCH_RANGE[1], False)
@example(EPOCH_RANGE[0] * 1000 - 1, True)
def test_an_epoch_name_is_read_exactly_inside_the_range(number: int, millis: bool) -> None:
    digits = 13 if millis else 10
    text = f"{number % 10**digits:0{digits}d}"
    value = int(text)
    seconds = value // 1000 if millis else value
    parsed = parse_name(f"{text}_cam.jpg", NEW_YORK)
    if EPOCH_RANGE[0] <= seconds < EPOCH_RANGE[1]:
        expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            milliseconds=value if millis else value * 1000
        )
        assert parsed is not None and parsed.time == expected
        assert parsed.time.utcoffset() == expected.astimezone(NEW_YORK).utcoffset()
    else:
        assert parsed is None


# --- dates carried by folders --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "wall"),
    [
        # motionEye: a folder per day, the clock in the name, "-NN" a counter within the second
        ("2024-01-15/12-34-56.jpg", datetime(2024, 1, 15, 12, 34, 56)),
        ("2024-01-15/12-34-56-01.jpg", datetime(2024, 1, 15, 12, 34, 56)),
        ("Camera1/2024-01-15/23-59-59.jpg", datetime(2024, 1, 15, 23, 59, 59)),
        # Dahua / Amcrest
        ("2024-01-15/001/jpg/12/34/56[M][0@0][0].jpg", datetime(2024, 1, 15, 12, 34, 56)),
        ("AMC0123/2024-01-15/001/jpg/00/00/00[R][0@0][0].jpg", datetime(2024, 1, 15)),
        ("2024-01-15/002/JPG/07/05/09.jpg", datetime(2024, 1, 15, 7, 5, 9)),
    ],
)
def test_folder_layouts_give_the_date(relative: str, wall: datetime) -> None:
    parsed = parse_path(relative, BERLIN)
    assert parsed is not None
    assert parsed.source is TimeSource.FOLDER and parsed.kind is NameKind.WALL
    assert parsed.time == wall.replace(tzinfo=BERLIN)
    assert parse_path_kind(relative, BERLIN) == (
        parsed.time.timestamp(),
        3600,
        NameKind.WALL,
        TimeSource.FOLDER,
    )


@pytest.mark.parametrize(
    ("relative", "utc", "offset_hours"),
    [  # the wall clock rule of names holds for folders too
        ("2024-03-31/02-30-00.jpg", datetime(2024, 3, 31, 1, 30), 2),  # skipped: forward
        ("2024-10-27/02-30-00.jpg", datetime(2024, 10, 27, 0, 30), 2),  # repeated: the first
        ("2024-10-27/001/jpg/02/30/00[M][0@0][0].jpg", datetime(2024, 10, 27, 0, 30), 2),
        ("2024-10-27/03-30-00.jpg", datetime(2024, 10, 27, 2, 30), 1),
    ],
)
def test_folder_dates_on_dst_days(relative: str, utc: datetime, offset_hours: int) -> None:
    parsed = parse_path(relative, BERLIN)
    assert parsed is not None and parsed.time == utc.replace(tzinfo=UTC)
    assert parsed.time.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    "relative",
    [
        "12-34-56.jpg",  # no folder, no date
        "holiday/12-34-56.jpg",
        "2024-01-15/IMG_0001.jpg",  # a dated folder, but no clock in the name
        "2024-02-30/12-34-56.jpg",  # no such day
        "2024-01-15/25-00-00.jpg",
        "2024-01-15/extra/12-34-56.jpg",  # motionEye's file sits right in the day's folder
        "2024-01-15/001/jpg/12/34/567.jpg",  # three digits are no second
        "2024-01-15/001/dav/12/34/56.jpg",
        "2024-01-15/001/jpg/12/34/56/x.jpg",
    ],
)
def test_paths_without_a_layout_give_no_time(relative: str) -> None:
    assert parse_path(relative, BERLIN) is None
    assert parse_path_kind(relative, BERLIN) is None


def test_a_time_in_the_name_wins_over_the_folder() -> None:
    parsed = parse_path("2023-12-31/IMG_20240115_123456.jpg", BERLIN)
    assert parsed is not None and parsed.source is TimeSource.FILENAME
    assert parsed.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=BERLIN)
    assert parse_path_kind("2023-12-31/IMG_20240115_123456.jpg", BERLIN) == (
        parsed.time.timestamp(),
        3600,
        NameKind.WALL,
        TimeSource.FILENAME,
    )


def test_a_user_pattern_may_read_the_path_from_the_root() -> None:
    pattern = (
        r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/"
        r"(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})(?P<offset>[+-]\d{4})?\.jpg$"
    )
    parsed = parse_path("2024/01/15/123456.jpg", BERLIN, pattern)
    assert parsed is not None and parsed.source is TimeSource.PATTERN
    assert parsed.kind is NameKind.WALL
    assert parsed.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=BERLIN)
    parsed = parse_path("2024/01/15/123456+0900.jpg", BERLIN, pattern)
    assert parsed is not None and parsed.kind is NameKind.OFFSET
    assert parsed.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=fixed(9))
    assert parse_path_kind("2024/01/15/123456+0900.jpg", BERLIN, pattern) == (
        parsed.time.timestamp(),
        32400,
        NameKind.OFFSET,
        TimeSource.PATTERN,
    )
    # the name alone does not carry the date: parse_name cannot read it
    assert parse_name("123456.jpg", BERLIN, pattern) is None


def test_a_user_pattern_is_tried_on_the_name_before_the_path() -> None:
    pattern = r"(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)_(?P<hour>\d\d)h(?P<minute>\d\d)"
    parsed = parse_path("2023-01-01_00h00/2024-01-15_12h34.jpg", BERLIN, pattern)
    assert parsed is not None and parsed.time == datetime(2024, 1, 15, 12, 34, tzinfo=BERLIN)


def test_frame_time_reads_folder_dates_before_exif(tmp_path: Path) -> None:
    folder = tmp_path / "2024-01-15"
    folder.mkdir()
    path = folder / "12-34-56-00.jpg"
    path.write_bytes(_jpeg())
    found = frame_time(path, BERLIN, relative="2024-01-15/12-34-56-00.jpg", mtime=0.0)
    assert found.source is TimeSource.FOLDER and found.kind is NameKind.WALL
    assert found.time == datetime(2024, 1, 15, 12, 34, 56, tzinfo=BERLIN)
    without = frame_time(path, BERLIN, mtime=1_705_318_496.0)  # the bare name has no date
    assert without.source is TimeSource.MTIME


# --- the kinds as a property: the fast path, the datetime path and the rules agree -------------

_SUFFIXES = {  # what follows the clock -> the offset in minutes it proves, "utc", or None (wall)
    "": None,
    "_2": None,
    "-01": None,
    "-0001": None,  # burst counters
    "-0015": None,
    "-0045": None,
    "+1500": None,
    "+0960": None,
    "-0100": -60,
    "-12:00": -720,
    "+0900": 540,
    "+09:00": 540,
    "+0530": 330,
    "+14:00": 840,
    "Z": 0,
    "-00:00": "utc",
}


@st.composite
def shaped_names(draw: st.DrawFn) -> tuple[str, datetime, int | str | None, bool]:
    """(name, its wall clock, what its suffix proves, whether the prefix is Pixel's)."""
    day = draw(
        st.sampled_from([datetime(2024, 3, 31), datetime(2024, 10, 27), datetime(2024, 3, 10),
                         datetime(2024, 11, 3), datetime(2024, 4, 7), datetime(2024, 10, 6)])
        | st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2032, 12, 31))
    )  # fmt: skip
    clock = draw(st.integers(0, 86399))
    wall = day.replace(
        hour=clock // 3600, minute=clock // 60 % 60, second=clock % 60, microsecond=0
    )
    prefix = draw(st.sampled_from(["", "IMG_", "PXL_", "cam-", "XPXL_"]))
    if draw(st.booleans()):
        text = wall.strftime("%Y%m%d_%H%M%S")
        if draw(st.booleans()):
            text += "123"
            wall = wall.replace(microsecond=123000)
    else:
        text = wall.strftime("%Y-%m-%dT%H-%M-%S")
    suffix = draw(st.sampled_from(sorted(_SUFFIXES)))
    return prefix + text + suffix + ".jpg", wall, _SUFFIXES[suffix], prefix == "PXL_"


@settings(max_examples=400, deadline=None)
@given(
    case=shaped_names(),
    zone=st.sampled_from([BERLIN, NEW_YORK, TOKYO, ZoneInfo("Australia/Lord_Howe"),
                          ZoneInfo("Pacific/Chatham"), UTC]),
)  # fmt: skip
def test_every_name_shape_gives_the_kind_its_rule_says(
    case: tuple[str, datetime, int | str | None, bool], zone: tzinfo
) -> None:
    name, wall, proves, pixel = case
    if pixel or proves == "utc":
        kind, expected = NameKind.UTC, wall.replace(tzinfo=UTC)
    elif isinstance(proves, int):
        kind, expected = NameKind.OFFSET, wall.replace(tzinfo=timezone(timedelta(minutes=proves)))
    else:
        kind, expected = NameKind.WALL, timeutil.localize(wall, zone)
    parsed = parse_name(name, zone)
    assert parsed is not None, name
    assert parsed.kind is kind, name
    # timestamps: == across zones is never true inside a repeated hour (PEP 495)
    assert parsed.time.timestamp() == expected.timestamp(), name
    assert parsed.time.replace(tzinfo=None) == expected.astimezone(parsed.time.tzinfo).replace(
        tzinfo=None
    ), name
    if kind is NameKind.OFFSET:
        assert parsed.time.utcoffset() == expected.utcoffset(), name
    else:  # the zone's offset at that instant
        assert parsed.time.utcoffset() == expected.astimezone(zone).utcoffset(), name
    numbers = (parsed.time.timestamp(), timeutil.offset_seconds(parsed.time))
    assert parse_name_kind(name, zone) == (*numbers, kind), name
    assert parse_name_utc(name, zone) == numbers, name
