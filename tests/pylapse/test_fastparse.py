"""The name-reading hot path against references written here with datetime (no fastparse)."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pylapse import naming, timeutil
from pylapse.naming import fastparse
from pylapse.naming import times as nametime
from pylapse.naming.fastparse import civil_days, default_batch, default_utc, local_utc

EPOCH = date(1970, 1, 1)
BLOCK = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}[+-][0-9]{2}\.[0-9]{2}")


def ref_default(name: str) -> tuple[int, int] | None:
    """``(utc, offset)`` of a default-format name, by datetime: the 25 characters before the
    last dot are ``YYYY-MM-DDTHH-MM-SS+HH.MM`` (ASCII digits), not preceded by a digit."""
    dot = name.rfind(".")
    start = dot - 25
    if start < 0 or not BLOCK.fullmatch(name, start, dot):
        return None
    if start > 0 and name[start - 1] in "0123456789":
        return None
    block = name[start:dot]
    try:
        wall = datetime.strptime(block[:19], "%Y-%m-%dT%H-%M-%S")
    except ValueError:
        return None
    hours, minutes = int(block[20:22]), int(block[23:25])
    west = block[19] == "-"
    # A real offset only: -12:00..+14:00 in quarter hours, at least an hour when west of UTC
    # (-00.00 means "UTC, offset unknown", and -00.01..-00.45 are counters).
    if minutes not in (0, 15, 30, 45) or hours > (12 if west else 14) or (west and hours == 0):
        return None
    if hours * 60 + minutes > (720 if west else 840):
        return None
    offset = (hours * 3600 + minutes * 60) * (-1 if west else 1)
    return int(wall.replace(tzinfo=timezone(timedelta(seconds=offset))).timestamp()), offset


def _two(values: list[int]) -> st.SearchStrategy[str]:
    return st.sampled_from(values).map(lambda v: f"{v:02d}")


# Each part of a name drawn around its edges: valid values (most of the time, so that whole
# names are often valid), the first invalid ones, junk.
YEARS = st.sampled_from(["0001", "1969", "1970", "2024", "2024", "2100", "9999", "0000"])
MONTHS = _two([1, 2, 2, 12, 12, 1, 0, 13])
DAYS = _two([1, 28, 28, 29, 30, 31, 1, 0, 32])
HOURS = _two([0, 9, 19, 20, 23, 0, 9, 19, 20, 23, 24, 29, 30, 99])
MINUTES = _two([0, 30, 59, 0, 30, 59, 60, 99])
OFFSET_HOURS = _two([0, 1, 9, 14, 23, 0, 1, 9, 14, 23, 24])
PREFIXES = st.sampled_from(
    ["", "cam-", "x1", "cam0", "IMG_", "a.b-", "sky north ", "9", "sky-north-roof-", "\udcff"]
)  # "\udcff": a byte that is not UTF-8, as os.listdir hands it over
EXTENSIONS = st.sampled_from([".jpg", ".JPG", ".tar.jpg", ".png", ".mp4", ""])


@st.composite
def names(draw: st.DrawFn) -> str:
    block = (
        f"{draw(YEARS)}-{draw(MONTHS)}-{draw(DAYS)}T{draw(HOURS)}-{draw(MINUTES)}-{draw(MINUTES)}"
        f"{draw(st.sampled_from('+-'))}{draw(OFFSET_HOURS)}.{draw(MINUTES)}"
    )
    suffix = draw(st.sampled_from(["", "", "-2", "_x"]))
    return draw(PREFIXES) + block + suffix + draw(EXTENSIONS)


@given(st.integers(-5, 10005), st.integers(-1, 14), st.integers(-1, 33))
@example(2000, 2, 29)  # a leap year by the 400 rule
@example(1900, 2, 29)  # not one by the 100 rule
@example(2024, 2, 29)
@example(2023, 2, 29)
@example(1, 1, 1)
@example(9999, 12, 31)
@example(10000, 1, 1)
@example(0, 1, 1)
def test_civil_days_is_datetimes_day_count(year: int, month: int, day: int) -> None:
    try:
        expected: int | None = (date(year, month, day) - EPOCH).days
    except ValueError:
        expected = None
    assert civil_days(year, month, day) == expected


def test_civil_days_on_every_day_of_some_centuries() -> None:
    for start in (date(1, 1, 1), date(1899, 12, 1), date(1999, 12, 1), date(9997, 10, 1)):
        day = start
        for _ in range(800):
            assert civil_days(day.year, day.month, day.day) == (day - EPOCH).days, day
            day += timedelta(days=1)


@settings(max_examples=400)
@given(names())
@example("cam-2026-02-09T14-30-00+09.00.jpg")
@example("2026-02-09T14-30-00-00.30.jpg")
@example("x12026-02-09T14-30-00+09.00.jpg")
@example("2026-02-09T14-30-00+09.00.mp4")  # the block first, a digit last
@example("cam02026-02-09T14-30-00+09.00.jpg")  # a 0 just before the block
@example("cam92026-02-09T14-30-00+09.00.jpg")  # a 9 just before the block
@example("92026-02-09T14-30-00+09.00.jpg")  # a digit as the first character
@example("CAM2026-02-09T14-30-00+09.00.jpg")  # a capital letter is not a digit
@example("cam-2026-02-09T14-30-00+09.60.jpg")  # no 60th minute in an offset
@example("cam-2026-02-09T14-30-00+09.59.jpg")
def test_default_utc_against_datetime(name: str) -> None:
    assert default_utc(name) == ref_default(name)


def test_default_utc_reads_what_format_name_writes() -> None:
    for zone in ("Asia/Tokyo", "America/St_Johns", "Asia/Kathmandu", "UTC", "America/Sao_Paulo"):
        tz = ZoneInfo(zone)
        when = datetime(2026, 2, 9, 14, 30, 5, tzinfo=tz)
        name = naming.format_name(when, prefix="cam-")
        assert default_utc(name) == (int(when.timestamp()), timeutil.offset_seconds(when))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names(), max_size=40), st.randoms(use_true_random=False))
def test_default_batch_reads_exactly_what_default_utc_reads(items: list[str], rng) -> None:
    # folders mix shapes; also one long run of a single shape (the fast column path)
    same_shape = [f"cam-2026-03-0{d}T{h:02d}-{m:02d}-07+01.00.jpg" for d in (1, 2) for h in (0, 23)
                  for m in (0, 59)]  # fmt: skip
    # one day under a long prefix (the single-part shortcut), and block-first names ending in a
    # digit (.mp4)
    one_day = [f"sky-north-roof-2026-03-01T{h:02d}-00-00+01.00.jpg" for h in (0, 5, 23)]
    block_first = [f"2026-03-01T{h:02d}-00-00+01.00.mp4" for h in (0, 5)]
    for group in (items, same_shape, [*same_shape, *items], one_day, block_first):
        group = list(group)
        rng.shuffle(group)
        batches, rest = default_batch(group)
        read = {}
        for b in batches:
            assert len(b.names) == len(b.seconds) > 0
            assert type(b.day) is int and type(b.offset) is int
            for name, seconds in zip(b.names, b.seconds, strict=True):
                assert 0 <= seconds < 86400
                read[name] = (b.day * 86400 + seconds - b.offset, b.offset)
        assert sorted([*[n for b in batches for n in b.names], *rest]) == sorted(group)
        assert read == {n: ref_default(n) for n in group if ref_default(n) is not None}
        assert set(rest) == {n for n in group if ref_default(n) is None}


FIXED = (0, 1, 2, 3, 5, 6, 8, 9, 20, 21, 23, 24)  # the date's and the offset's digits


@settings(max_examples=100)
@given(st.sampled_from(FIXED), st.integers(2, 6), st.integers(0, 5), st.sampled_from(["", "c-"]))
def test_one_folder_whose_names_differ_in_one_date_or_offset_digit(column, count, which, prefix):
    block = "2016-05-17T10-20-30+05.30"
    folder = [f"{prefix}{block[:11]}{h:02d}{block[13:]}.jpg" for h in range(count)]
    k = which % count
    at = len(prefix) + column
    digit = str((int(folder[k][at]) + 1) % 10)
    folder[k] = folder[k][:at] + digit + folder[k][at + 1 :]
    batches, rest = default_batch(folder)
    read = {n: (b.day * 86400 + s - b.offset, b.offset) for b in batches
            for n, s in zip(b.names, b.seconds, strict=True)}  # fmt: skip
    assert read == {n: ref_default(n) for n in folder if ref_default(n)}
    assert set(rest) == {n for n in folder if ref_default(n) is None}


def test_a_folder_whose_every_date_and_offset_digit_differs() -> None:
    folder = ["c-2026-03-01T00-00-00+01.00.jpg", "c-1985-12-28T00-00-00+12.45.jpg"]
    batches, rest = default_batch(folder)
    assert rest == [] and len(batches) == 2
    read = {n: (b.day * 86400 + s - b.offset, b.offset) for b in batches
            for n, s in zip(b.names, b.seconds, strict=True)}  # fmt: skip
    assert read == {n: ref_default(n) for n in folder}


def test_default_batch_groups_by_day_and_offset() -> None:
    group = [
        "c-2026-03-01T00-00-00+01.00.jpg",
        "c-2026-03-01T12-00-00+02.00.jpg",
        "c-2026-03-02T00-00-01+01.00.jpg",
        "c-2026-03-01T23-59-59+01.00.jpg",
    ]
    batches, rest = default_batch(group)
    assert rest == []
    got = {(b.day, b.offset): (b.names, b.seconds) for b in batches}
    day = (date(2026, 3, 1) - EPOCH).days
    assert got == {
        (day, 3600): ([group[0], group[3]], [0, 86399]),
        (day, 7200): ([group[1]], [43200]),
        (day + 1, 3600): ([group[2]], [1]),
    }


@pytest.fixture
def fresh_caches(monkeypatch) -> None:
    """Empty caches, so a test reads names the way a new process does (the caches are module
    globals, read at each call; earlier tests have filled them)."""
    for name in ("_DAYS", "_CLOCKS", "_OFFSETS", "_DAY_OFFSETS"):
        monkeypatch.setattr(fastparse, name, {})


def test_the_caches_never_hold_more_than_their_limit(monkeypatch, fresh_caches) -> None:
    monkeypatch.setattr(fastparse, "_CACHE_LIMIT", 3)
    for day in range(1, 8):
        name = f"2026-01-{day:02d}T00-00-{day:02d}+0{day}.00.jpg"
        assert default_utc(name) == ref_default(name)
        assert max(map(len, (fastparse._DAYS, fastparse._CLOCKS, fastparse._OFFSETS))) <= 3
    assert list(fastparse._DAYS) == ["2026-01-07"]  # 1-3, cleared at the 4th: 4-6, then 7


def test_default_batch_with_caches_smaller_than_the_folder(monkeypatch, fresh_caches) -> None:
    monkeypatch.setattr(fastparse, "_CACHE_LIMIT", 2)  # the name the caches are filled under
    group = [f"c-2026-{m:02d}-{d:02d}T{h:02d}-00-00+01.00.jpg" for m in (1, 2) for d in (1, 27)
             for h in (0, 7, 25)]  # fmt: skip
    batches, rest = default_batch(group)
    read = {n: (b.day * 86400 + s - b.offset, b.offset) for b in batches
            for n, s in zip(b.names, b.seconds, strict=True)}  # fmt: skip
    assert read == {n: ref_default(n) for n in group if ref_default(n)}
    assert sorted(rest) == sorted(n for n in group if "T25" in n)


@st.composite
def day_folders(draw: st.DrawFn) -> list[str]:
    """A folder of one day's default names, sometimes spoiled in one way a real folder is."""
    prefix = draw(st.sampled_from(["cam-", "", "sky-", "sky-north-roof-"]))
    day = draw(st.sampled_from(["2026-02-09", "2024-02-29", "2023-02-29", "1970-01-01"]))
    offset = draw(st.sampled_from(["+09.00", "-03.30", "+00.00", "+24.00"]))
    count = draw(st.integers(1, 30))
    rng = random.Random(draw(st.integers(0, 2**32)))
    clocks = [(rng.randrange(24), rng.randrange(60), rng.randrange(60)) for _ in range(count)]
    folder = [f"{prefix}{day}T{h:02d}-{m:02d}-{s:02d}{offset}.jpg" for h, m, s in clocks]
    spoil = draw(
        st.sampled_from(
            [None] * 4
            + ["hour 24", "hour 29", "hour 30", "minute 60", "second 60", "other day",
               "other offset", "other shape", "longer", "non-ascii", "other extension",
               "one digit", "not utf-8"]
        )
    )  # fmt: skip
    if spoil is not None:
        k = rng.randrange(count)
        name = folder[k]
        at = len(prefix) + 11
        name = {
            "hour 24": name[:at] + "24" + name[at + 2 :],
            "hour 29": name[:at] + "29" + name[at + 2 :],
            "hour 30": name[:at] + "30" + name[at + 2 :],
            "minute 60": name[: at + 3] + "60" + name[at + 5 :],
            "second 60": name[: at + 6] + "60" + name[at + 8 :],
            "other day": name.replace(day, "2026-02-10"),
            "other offset": name.replace(offset, "+05.45"),
            "other shape": "x" + name[1:] if prefix else name[:-4] + ".JPG",
            "longer": "a" + name,
            "non-ascii": "é" + name[1:] if prefix else name + "é",
            "other extension": name[:-4] + ".png",
            "one digit": name,
            "not utf-8": name,
        }[spoil]
        folder[k] = name
        if spoil == "one digit":  # one digit of the date or the offset, in one name
            at = len(prefix) + draw(st.sampled_from(FIXED))
            digit = str((int(name[at]) + 1) % 10)
            folder[k] = name[:at] + digit + name[at + 1 :]
        if spoil == "not utf-8":  # every name: one shape, one length in bytes, not ASCII
            folder = ["\udcff" + n[1:] if prefix else n[:-1] + "\udcff" for n in folder]
    return folder


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(day_folders())
@example(["c-2026-02-09T00-00-00+01.00.jpg", "c-2026-02-09T00-00-01+01.00.txt"])  # two shapes
@example(["c-2026-02-09T00-00-00+01.00.jpg", "cc-2026-02-09T00-00-00+01.00.jpg"])  # two widths
@example(["holiday.jpg"])
def test_default_batch_reads_a_days_folder_as_the_reference_does(folder: list[str]) -> None:
    # The scan's usual folder (one shape, one width, one date and offset) takes default_batch's
    # column-wise path; each way a real folder is spoiled takes another branch of it.
    batches, rest = default_batch(folder)
    read = [(n, (b.day * 86400 + s - b.offset, b.offset)) for b in batches
            for n, s in zip(b.names, b.seconds, strict=True)]  # fmt: skip
    assert all(type(b.day) is int for b in batches)
    assert sorted(read) == sorted((n, ref_default(n)) for n in folder if ref_default(n))
    assert sorted(rest) == sorted(n for n in folder if ref_default(n) is None)


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("IMG_20240115_120000.jpg", "Europe/Berlin"),
        ("IMG_20240715_120000.jpg", "Europe/Berlin"),
        ("PXL_20240115_120000123.jpg", "America/New_York"),
        ("2024-01-15 12.00.00,5.jpg", "Asia/Kolkata"),
        ("20240115-235959.jpg", "Pacific/Chatham"),
        ("IMG_19000101_000000.jpg", "Africa/Monrovia"),  # an offset with seconds
    ],
)
def test_local_utc_is_the_wall_clock_in_the_zone(name: str, zone: str) -> None:
    tz = ZoneInfo(zone)
    match = nametime._BUILTIN.search(name)
    assert match is not None
    naive = datetime(*(int(match[g]) for g in ("year", "month", "day", "hour", "minute", "second")))
    digits = match["fraction"] or match["millis"] or ""
    naive = naive.replace(microsecond=int(digits.ljust(6, "0")) if digits else 0)
    want = naive.replace(tzinfo=tz)
    assert local_utc(match, tz) == (want.timestamp(), int(want.utcoffset().total_seconds()))


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("IMG_20240331_023000.jpg", "Europe/Berlin"),  # a day with a change: the datetime path
        ("IMG_20241027_120000.jpg", "Europe/Berlin"),
        ("IMG_20240908_003000.jpg", "America/Santiago"),  # the day's midnight never happened
        ("IMG_20240908_120000.jpg", "America/Santiago"),
        ("IMG_20110403_003000.jpg", "Africa/Casablanca"),
        ("IMG_20240230_120000.jpg", "Europe/Berlin"),  # no such day
        ("IMG_20240115_240000.jpg", "UTC"),  # no such hour
        ("IMG_20240115_126000.jpg", "UTC"),
        ("IMG_20240115_120060.jpg", "UTC"),
        ("2024-01-15 01.30.00 PM.jpg", "UTC"),  # a 12-hour clock
        ("20240115T120000Z.jpg", "UTC"),  # an offset of its own
    ],
)
def test_local_utc_leaves_doubtful_names_to_the_datetime_path(name: str, zone: str) -> None:
    match = nametime._BUILTIN.search(name)
    assert match is not None
    assert local_utc(match, ZoneInfo(zone)) is None


def test_a_zone_without_offsets_is_left_to_the_datetime_path() -> None:
    class Naive(timezone.__mro__[1]):  # a tzinfo that knows no offset
        def utcoffset(self, dt):
            return None

    match = nametime._BUILTIN.search("IMG_20240115_120000.jpg")
    assert match is not None
    assert local_utc(match, Naive()) is None
    assert local_utc(match, UTC) == (datetime(2024, 1, 15, 12, tzinfo=UTC).timestamp(), 0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("+09.00", 32400),
        ("+0900", 32400),
        ("+09:00", 32400),
        ("+09", 32400),
        ("+14.00", 50400),  # the far east edge
        ("+14.15", None),
        ("-12.00", -43200),  # the far west edge
        ("-12.15", None),
        ("-01.00", -3600),
        ("-00.45", None),  # a counter: no zone was ever 45 min west of UTC
        ("-00.15", None),
        ("-0001", None),
        ("-00.00", None),  # UTC with the local offset unknown: see is_utc_mark
        ("+00.00", 0),
        ("+05.45", 20700),
        ("+05.53", None),
        ("+09.60", None),
        ("-00.44.30", -2670),  # pyLapse's own writing of a local mean time (Monrovia, 1960)
        ("-00:44:30", -2670),
        ("-004430", None),  # six digits in a row are a counter
        ("-00.44:30", None),
        ("+13.00.00", 46800),  # seconds of zero: a real offset however written
        ("+15.00.30", None),
        ("Z", None),
        ("0900", None),
        ("+٠٩٠٠", None),  # non-ASCII digits
    ],
)
def test_real_offset(text: str, seconds: int | None) -> None:
    assert fastparse.real_offset(text) == seconds


@pytest.mark.parametrize(
    ("text", "mark"),
    [("Z", False), ("-00:00", True), ("-0000", True), ("-00.00", True), ("-00", True),
     ("+00:00", False), ("-00:01", False), ("z", False), ("-01:00", False)],
)  # fmt: skip
def test_is_utc_mark(text: str, mark: bool) -> None:
    assert fastparse.is_utc_mark(text) is mark


@given(
    st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99), st.sampled_from(["", ":", "."])
)
def test_real_offset_against_the_rule(sign: str, hours: int, minutes: int, sep: str) -> None:
    value = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
    real = minutes < 60 and minutes % 15 == 0 and -720 <= value <= 840 and not -60 < value <= 0
    real = real or (sign == "+" and value == 0)
    got = fastparse.real_offset(f"{sign}{hours:02d}{sep}{minutes:02d}")
    assert got == (value * 60 if real else None)


def test_local_utc_reads_a_name_whose_suffix_is_a_counter() -> None:
    match = nametime._BUILTIN.search("20240115_123456-0001.jpg")
    assert match is not None and match["offset"] == "-0001"
    want = datetime(2024, 1, 15, 12, 34, 56, tzinfo=ZoneInfo("Europe/Berlin"))
    assert local_utc(match, ZoneInfo("Europe/Berlin")) == (want.timestamp(), 3600)
    for real in ("20240115_123456-0100.jpg", "20240115_123456-0000.jpg"):
        match = nametime._BUILTIN.search(real)
        assert match is not None and local_utc(match, UTC) is None, real


def test_default_batch_leaves_non_offsets_to_the_general_rules() -> None:
    names = [
        "cam-2026-02-09T14-30-00+09.00.jpg",
        "cam-2026-02-09T14-30-00-00.30.jpg",  # a counter, not half an hour west
        "cam-2026-02-09T14-30-00-00.00.jpg",  # UTC, local offset unknown
        "cam-2026-02-09T14-30-00+14.30.jpg",
    ]
    batches, rest = default_batch(names)
    assert [n for b in batches for n in b.names] == names[:1]
    assert sorted(rest) == sorted(names[1:])
    assert [default_utc(n) for n in names[1:]] == [None, None, None]
