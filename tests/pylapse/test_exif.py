"""EXIF capture times, checked against real camera files (facts in exif-real/MANIFEST.md)."""

from __future__ import annotations

import io
import itertools
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import piexif
import pytest
from PIL import Image

from pylapse import exif as exif_module
from pylapse.exif import ExifError, ExifTime, exif_bytes, inspect_time, read_meta, read_time

BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")


# ../shared beside the project root (see tests/conftest.py); imported by path, not by the name
# "conftest", which would pick whichever conftest module pytest loaded first.
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "exif-real"


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (shared test data lives beside the repo in ../shared)")
    return REAL


def fixed(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# --- files whose DateTimeOriginal carries its offset ---------------------------------------------

WITH_OFFSET = {
    # file: (DateTimeOriginal + SubSecTimeOriginal as the manifest gives them, offset, tag used)
    "nokia_8.3_5g_offset+0300.jpg": (datetime(2022, 8, 14, 14, 12, 31), 3, "OffsetTimeOriginal"),
    "iphone11pro_offset-0400.heic": (
        datetime(2020, 5, 4, 18, 39, 11, 644000),
        -4,
        "OffsetTimeOriginal",
    ),
    # DNG: OffsetTimeOriginal +03:00 wins over the Nikon maker note's conflicting TimeZone 0
    "nikon_z9_offset+0300.dng": (
        datetime(2025, 8, 10, 19, 2, 53, 270000),
        3,
        "OffsetTimeOriginal",
    ),
    # trail camera: TIFF/EP TimeZoneOffset tag 0x882a = -6 (hours)
    "reconyx_hf2_tzoffset-6.jpg": (datetime(2019, 4, 4, 10, 4, 12), -6, "TimeZoneOffset"),
}


@pytest.mark.parametrize("name", list(WITH_OFFSET))
def test_time_and_offset_read_as_the_manifest_says(real: Path, name: str) -> None:
    wall, hours, tag = WITH_OFFSET[name]
    found = inspect_time(real / name, CHICAGO)  # the file's own offset beats the zone
    assert found.time is not None
    assert found.time.replace(tzinfo=None) == wall
    assert found.time.utcoffset() == timedelta(hours=hours)
    assert found.time == wall.replace(tzinfo=fixed(hours))
    assert tag in found.reason


# --- files without an offset: local time in the collection's zone --------------------------------

LOCAL = {
    "canon_40d_small.jpg": datetime(2008, 5, 30, 15, 56, 1),  # SubSec "00"
    "canon_eos7d.jpg": datetime(2010, 12, 12, 12, 41, 35),  # SubSec "00"
    "samsung_g965w_subsec6.jpg": datetime(2020, 10, 27, 13, 23, 33, 860627),  # 6-digit SubSec
    "iphone6_bad_gpsdate.jpg": datetime(2014, 9, 16, 14, 5, 12, 133000),
    "nikon_d300_mn_tz+0300.jpg": datetime(2012, 7, 14, 16, 30, 12, 680000),  # SubSec "68"
    "nikon_d3100_mn_tz+0100.jpg": datetime(2017, 6, 5, 7, 8, 42),
    "iphonexr_1px_gpsdate_no_time.jpg": datetime(2020, 9, 2, 18, 52, 42, 892000),
    "sony_a58.jpg": datetime(2023, 10, 28, 21, 42, 29),
    # GPS time disagrees or is stale/placeholder: never used for the offset
    "htc_desire_gps+0200.jpg": datetime(2011, 5, 6, 9, 59, 48),
    "sony_hx5v_gps+0200.jpg": datetime(2010, 5, 15, 17, 12, 5),
    "nexus4_stale_gps.jpg": datetime(2013, 1, 20, 18, 54, 8),
    "issue308_placeholder_gps.jpg": datetime(2017, 11, 27, 1, 1, 1),
    "iphone4_gpstime_nodate.jpg": datetime(2011, 1, 13, 14, 33, 39),
    "fuji_s1pro_gpstime_nodate.jpg": datetime(2002, 7, 13, 15, 58, 28),
    "gran_turismo_empty_gps_ifd.jpg": datetime(2012, 6, 23, 6, 55, 49),
    # maker-note time zones are not read; the camera's wrong clock is taken as written
    "canon_sx_hdr_mn_tz+0100.jpg": datetime(2015, 2, 9, 22, 48, 10),
    "polaroid_ion230_wrong_clock.jpg": datetime(2026, 11, 24, 14, 41, 16),
    "sony_cybershot_orient6.jpg": datetime(2001, 11, 27, 18, 33, 44),
}


@pytest.mark.parametrize("name", list(LOCAL))
def test_time_without_offset_is_local_to_the_zone(real: Path, name: str) -> None:
    found = inspect_time(real / name, BERLIN)
    assert found.time is not None
    assert found.time.replace(tzinfo=None) == LOCAL[name]
    assert found.time.utcoffset() == BERLIN.utcoffset(LOCAL[name])
    assert found.reason == "EXIF DateTimeOriginal, local time (no offset)"


def test_the_coolpix_pair_is_70_seconds_apart(real: Path) -> None:
    first = read_time(real / "coolpix_p6000_DSCN0010.jpg", BERLIN)
    second = read_time(real / "coolpix_p6000_DSCN0012.jpg", BERLIN)
    assert first is not None and second is not None
    assert second - first == timedelta(seconds=70)
    assert first == datetime(2008, 10, 22, 16, 28, 39, tzinfo=fixed(2))  # CEST that day


def test_bytes_give_the_same_answer_as_the_path(real: Path) -> None:
    path = real / "nokia_8.3_5g_offset+0300.jpg"
    assert read_time(path.read_bytes(), UTC) == read_time(path, UTC)


# --- files without a usable time: None, with the reason ------------------------------------------

NO_TIME = {
    "nikon_e885_zero_date.jpg": (
        "EXIF DateTimeOriginal '0000:00:00 00:00:00' is all zeros (clock never set)"
    ),
    "fuji_dx5_blank_date.jpg": "EXIF DateTimeOriginal is blank ('    :  :     :  :  ')",
    "orientation_landscape_3.jpg": "no EXIF DateTimeOriginal",
    "orientation_portrait_8.jpg": "no EXIF DateTimeOriginal",
    "invalid_image01137.jpg": "no EXIF data in the file",  # only XMP
    "invalid_image01551.jpg": "no EXIF data in the file",
}


@pytest.mark.parametrize("name", list(NO_TIME))
def test_files_without_a_usable_time_say_why(real: Path, name: str) -> None:
    found = inspect_time(real / name, BERLIN)
    assert (found.time, found.reason) == (None, NO_TIME[name])
    assert read_time(real / name, BERLIN) is None


def test_a_file_pillow_cannot_open_raises_with_the_file_and_reason(real: Path) -> None:
    path = real / "beach_no_exif_bad_height.jpg"
    with pytest.raises(ExifError) as caught:
        read_time(path, BERLIN)
    assert str(caught.value) == f"{path}: not an image Pillow can open (unknown or damaged header)"


# --- unreadable input, made here ----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.jpg"
    with pytest.raises(ExifError) as caught:
        read_time(path, UTC)
    assert str(caught.value) == f"{path}: cannot be read (No such file or directory)"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ExifError) as caught:
        read_time(path, UTC)
    assert str(caught.value) == f"{path}: the file is empty"


def test_html_instead_of_an_image() -> None:
    with pytest.raises(ExifError) as caught:
        read_time(b"<!doctype html><title>401</title>", UTC)
    assert str(caught.value) == "<bytes>: not an image Pillow can open (unknown or damaged header)"


def test_damaged_heif_container() -> None:
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1" + b"\x00\x00\x01\x00meta"
    with pytest.raises(ExifError) as caught:
        read_time(data, UTC)
    assert str(caught.value).startswith("<bytes>: damaged HEIF container (box b'meta' at 24")


def test_heif_without_exif_item_has_no_time() -> None:
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00heicmif1"
    assert inspect_time(data, UTC).reason == "no EXIF data in the file"


# --- writing ------------------------------------------------------------------------------------


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 100, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 2, 9, 14, 30, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        datetime(2026, 2, 9, 14, 30, 0, 123456, tzinfo=ZoneInfo("America/St_Johns")),
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC).astimezone(ZoneInfo("America/New_York")),
    ],
)
def test_exif_bytes_round_trip_through_piexif_insert(when: datetime) -> None:
    out = io.BytesIO()
    piexif.insert(exif_bytes(when), _jpeg(), out)
    data = out.getvalue()
    found = inspect_time(data, ZoneInfo("Europe/Berlin"))
    assert found.time is not None
    assert found.time.timestamp() == when.timestamp()  # == would fail in a repeated hour
    assert found.time.utcoffset() == when.utcoffset()
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # still a valid JPEG
        sub = image.getexif().get_ifd(0x8769)
    assert sub[0x9003] == when.strftime("%Y:%m:%d %H:%M:%S")


def test_exif_bytes_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        exif_bytes(datetime(2026, 1, 1))


# --- each reading rule on files made here (no ../shared needed) ----------------------------------

DTO = piexif.ExifIFD.DateTimeOriginal
OFFSET = piexif.ExifIFD.OffsetTimeOriginal
SUBSEC = piexif.ExifIFD.SubSecTimeOriginal
TIMEZONE_OFFSET = 0x882A  # TIFF/EP; piexif has no name for it, so Pillow writes it


def made(exif_ifd: dict[int, object] | None, *, zeroth: dict | None = None) -> bytes:
    """A JPEG made here whose EXIF is exactly ``exif_ifd`` (and ``zeroth``); no EXIF if None."""
    if exif_ifd is None and zeroth is None:
        return _jpeg()
    if exif_ifd is not None and TIMEZONE_OFFSET in exif_ifd:
        exif = Image.Exif()
        sub = exif.get_ifd(0x8769)
        for tag, value in exif_ifd.items():
            sub[tag] = value.decode() if isinstance(value, bytes) else value
        buffer = io.BytesIO()
        Image.new("RGB", (16, 16), (200, 100, 50)).save(buffer, "JPEG", exif=exif)
        return buffer.getvalue()
    block = piexif.dump(
        {"0th": zeroth or {}, "Exif": exif_ifd or {}, "GPS": {}, "1st": {}, "thumbnail": None}
    )
    out = io.BytesIO()
    piexif.insert(block, _jpeg(), out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("offset", "delta"),
    [
        ("+09:00", timedelta(hours=9)),
        ("+05:45", timedelta(hours=5, minutes=45)),
        ("-03:30", -timedelta(hours=3, minutes=30)),
        ("-00:30", -timedelta(minutes=30)),  # the sign of a zero-hour offset is kept
        ("+00:00", timedelta(0)),
        ("+14:00", timedelta(hours=14)),
    ],
)
def test_offset_time_original_gives_the_offset(offset: str, delta: timedelta) -> None:
    data = made({DTO: b"2024:01:15 12:30:45", OFFSET: offset.encode()})
    found = inspect_time(data, BERLIN)  # the file's own offset beats the collection's zone
    assert found.time == datetime(2024, 1, 15, 12, 30, 45, tzinfo=timezone(delta))
    assert found.time.utcoffset() == delta
    assert found.reason == f"EXIF DateTimeOriginal with OffsetTimeOriginal {offset}"


@pytest.mark.parametrize(
    ("values", "hours"),
    [((-6,), -6), (5, 5), ((1, 2), 2), (0, 0), (-14, -14), (14, 14)],
    ids=["minus-6", "plus-5", "two-values-the-second-is-DateTimeOriginal's", "zero", "-14", "+14"],
)
def test_timezone_offset_in_whole_hours_when_offset_time_is_missing(values, hours: int) -> None:
    found = inspect_time(made({DTO: "2019:04:04 10:04:12", TIMEZONE_OFFSET: values}), BERLIN)
    assert found.time == datetime(2019, 4, 4, 10, 4, 12, tzinfo=timezone(timedelta(hours=hours)))
    assert found.reason == f"EXIF DateTimeOriginal with TimeZoneOffset {hours:+d} h"


def test_offset_time_wins_over_timezone_offset() -> None:
    data = made({DTO: "2019:04:04 10:04:12", OFFSET: "+03:00", TIMEZONE_OFFSET: (-6,)})
    found = inspect_time(data, BERLIN)
    assert found.time is not None and found.time.utcoffset() == timedelta(hours=3)
    assert found.reason == "EXIF DateTimeOriginal with OffsetTimeOriginal +03:00"


@pytest.mark.parametrize("offset", [b"      ", b"   :  ", b"+25:00", b"+09:61", b"nine"])
def test_a_blank_or_malformed_offset_falls_back(offset: bytes) -> None:
    # to TimeZoneOffset when there is one, else to the collection's zone
    data = made({DTO: "2019:04:04 10:04:12", OFFSET: offset, TIMEZONE_OFFSET: (-6,)})
    found = inspect_time(data, BERLIN)
    assert found.time is not None and found.time.utcoffset() == timedelta(hours=-6)
    assert found.reason == "EXIF DateTimeOriginal with TimeZoneOffset -6 h"
    found = inspect_time(made({DTO: b"2019:04:04 10:04:12", OFFSET: offset}), BERLIN)
    assert found.time == datetime(2019, 4, 4, 10, 4, 12, tzinfo=BERLIN)
    assert found.reason == "EXIF DateTimeOriginal, local time (no offset)"


@pytest.mark.parametrize("hours", [15, -15])
def test_a_timezone_offset_beyond_14_hours_is_ignored(hours: int) -> None:
    found = inspect_time(made({DTO: "2019:04:04 10:04:12", TIMEZONE_OFFSET: hours}), CHICAGO)
    assert found.time == datetime(2019, 4, 4, 10, 4, 12, tzinfo=CHICAGO)
    assert found.reason == "EXIF DateTimeOriginal, local time (no offset)"


@pytest.mark.parametrize(
    ("subsec", "micro"),
    [
        (b"5", 500000),  # a decimal fraction: "5" is half a second, "05" a twentieth
        (b"05", 50000),
        (b"68", 680000),
        (b"270", 270000),
        (b"860627", 860627),
        (b"123456789", 123456),  # beyond microseconds: cut, not rounded
        (b" 68\x00", 680000),  # padding cameras write
        (b"000", 0),
        (b"", 0),
    ],
)
def test_sub_seconds(subsec: bytes, micro: int) -> None:
    data = made({DTO: b"2024:01:15 12:30:45", SUBSEC: subsec, OFFSET: b"+01:00"})
    found = read_time(data, UTC)
    assert found == datetime(2024, 1, 15, 12, 30, 45, micro, tzinfo=fixed(1))


def test_a_fraction_written_into_the_date_itself() -> None:
    assert read_time(made({DTO: b"2024:01:15 12:30:45.25", OFFSET: b"+01:00"}), UTC) == (
        datetime(2024, 1, 15, 12, 30, 45, 250000, tzinfo=fixed(1))
    )
    both = made({DTO: b"2024:01:15 12:30:45.25", SUBSEC: b"5", OFFSET: b"+01:00"})
    assert read_time(both, UTC) == datetime(2024, 1, 15, 12, 30, 45, 500000, tzinfo=fixed(1))


@pytest.mark.parametrize(
    "text",
    [b"2024-01-15 12:30:45", b"2024/01/15 12:30:45", b"2024:01:15T12:30:45", b"2024:1:5 9:3:7"],
)
def test_dates_written_with_other_separators(text: bytes) -> None:
    found = read_time(made({DTO: text, OFFSET: b"+02:00"}), UTC)
    assert found is not None and found.utcoffset() == timedelta(hours=2)
    assert found.replace(tzinfo=None) in (
        datetime(2024, 1, 15, 12, 30, 45),
        datetime(2024, 1, 5, 9, 3, 7),
    )


@pytest.mark.parametrize(
    ("wall", "zone", "expected"),
    [
        ("2024:07:01 12:00:00", BERLIN, datetime(2024, 7, 1, 12, tzinfo=fixed(2))),
        ("2024:01:01 12:00:00", BERLIN, datetime(2024, 1, 1, 12, tzinfo=fixed(1))),
        # DST edges by localize()'s rule: the repeated hour's first occurrence, a skipped hour
        # shifted forward
        ("2024:10:27 02:30:00", BERLIN, datetime(2024, 10, 27, 2, 30, tzinfo=fixed(2))),
        ("2024:03:31 02:30:00", BERLIN, datetime(2024, 3, 31, 3, 30, tzinfo=fixed(2))),
        ("2024:11:03 01:30:00", ZoneInfo("America/New_York"), datetime(2024, 11, 3, 1, 30,
                                                                        tzinfo=fixed(-4))),
    ],
)  # fmt: skip
def test_without_an_offset_the_wall_clock_is_the_collections_zone(wall, zone, expected) -> None:
    found = inspect_time(made({DTO: wall.encode()}), zone)
    assert found.time == expected
    assert found.time.utcoffset() == expected.utcoffset()  # a fixed offset, not the zone
    assert found.reason == "EXIF DateTimeOriginal, local time (no offset)"


def test_gps_time_is_never_used_for_the_offset() -> None:
    gps = {
        piexif.GPSIFD.GPSDateStamp: b"2024:01:15",
        piexif.GPSIFD.GPSTimeStamp: ((3, 1), (30, 1), (45, 1)),  # 9 hours from the wall clock
    }
    block = piexif.dump(
        {"0th": {}, "Exif": {DTO: b"2024:01:15 12:30:45"}, "GPS": gps, "1st": {}, "thumbnail": None}
    )
    out = io.BytesIO()
    piexif.insert(block, _jpeg(), out)
    found = inspect_time(out.getvalue(), BERLIN)
    assert found.time == datetime(2024, 1, 15, 12, 30, 45, tzinfo=BERLIN)
    assert found.reason == "EXIF DateTimeOriginal, local time (no offset)"


@pytest.mark.parametrize(
    ("exif_ifd", "zeroth", "reason"),
    [
        (None, None, "no EXIF data in the file"),
        (None, {piexif.ImageIFD.Make: b"Acme"}, "no EXIF DateTimeOriginal"),  # no Exif IFD
        ({piexif.ExifIFD.ExposureTime: (1, 100)}, None, "no EXIF DateTimeOriginal"),
        (
            {DTO: b"0000:00:00 00:00:00"},
            None,
            "EXIF DateTimeOriginal '0000:00:00 00:00:00' is all zeros (clock never set)",
        ),
        (
            {DTO: b"2024:00:15 12:00:00"},
            None,
            "EXIF DateTimeOriginal '2024:00:15 12:00:00' is all zeros (clock never set)",
        ),
        (
            {DTO: b"2024:01:00 12:00:00"},
            None,
            "EXIF DateTimeOriginal '2024:01:00 12:00:00' is all zeros (clock never set)",
        ),
        (
            {DTO: b"    :  :     :  :  "},
            None,
            "EXIF DateTimeOriginal is blank ('    :  :     :  :  ')",
        ),
        ({DTO: b"\x00" * 19}, None, "EXIF DateTimeOriginal is blank ('')"),
        ({DTO: b"yesterday"}, None, "EXIF DateTimeOriginal 'yesterday' is not a date"),
        (
            {DTO: b"2024:13:15 12:00:00"},
            None,
            "EXIF DateTimeOriginal '2024:13:15 12:00:00' is not a date "
            "(month must be in 1..12)",
        ),
        (
            {DTO: b"2024:02:30 12:00:00"},
            None,
            "EXIF DateTimeOriginal '2024:02:30 12:00:00' is not a date "
            "(day is out of range for month)",
        ),
        (
            {DTO: b"2024:01:15 24:00:00"},
            None,
            "EXIF DateTimeOriginal '2024:01:15 24:00:00' is not a date "
            "(hour must be in 0..23)",
        ),
    ],
    ids=["no-exif", "no-exif-ifd", "no-date", "zero", "zero-month", "zero-day", "blank", "nuls",
         "words", "month-13", "30-february", "hour-24"],
)  # fmt: skip
def test_no_usable_time_says_why(exif_ifd, zeroth, reason: str) -> None:
    data = made(exif_ifd, zeroth=zeroth)
    assert inspect_time(data, BERLIN) == ExifTime(None, reason)
    assert read_time(data, BERLIN) is None


def test_png_with_and_without_exif() -> None:
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    assert inspect_time(plain.getvalue(), UTC).reason == "no EXIF data in the file"
    tagged = io.BytesIO()
    block = piexif.dump(
        {"Exif": {DTO: b"2024:01:15 12:30:45", OFFSET: b"-05:00"}, "0th": {}, "GPS": {}, "1st": {}}
    )
    Image.new("RGB", (8, 8)).save(tagged, "PNG", exif=block)  # an eXIf chunk
    assert read_time(tagged.getvalue(), UTC) == datetime(2024, 1, 15, 12, 30, 45, tzinfo=fixed(-5))


def test_a_path_and_its_bytes_agree(tmp_path: Path) -> None:
    data = made({DTO: b"2024:01:15 12:30:45", OFFSET: b"+09:00", SUBSEC: b"25"})
    path = tmp_path / "DSC0001.JPG"
    path.write_bytes(data)
    assert inspect_time(path, UTC) == inspect_time(data, UTC) == inspect_time(str(path), UTC)
    assert read_time(path, UTC) == datetime(2024, 1, 15, 12, 30, 45, 250000, tzinfo=fixed(9))


# --- what we write, read back by a strict reader (EXIF 2.31 to the letter) -----------------------

_STRICT = {
    DTO: re.compile(rb"(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})\x00"),  # count 20
    OFFSET: re.compile(rb"([+-])(\d{2}):(\d{2})\x00"),  # "+HH:MM" and its NUL: count 7
    SUBSEC: re.compile(rb"(\d+)\x00"),
}


def _exif_ifd_entries(block: bytes) -> dict[int, tuple[int, int, bytes]]:
    """tag -> (type, count, raw value) of the Exif IFD of an EXIF block, read byte by byte."""
    assert block.startswith(b"Exif\x00\x00")
    tiff = block[6:]
    order = {b"II": "<", b"MM": ">"}[tiff[:2]]
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 8: 2, 9: 4, 10: 8}

    def entries(at: int) -> dict[int, tuple[int, int, bytes]]:
        (n,) = struct.unpack(order + "H", tiff[at : at + 2])
        out = {}
        for i in range(n):
            raw = tiff[at + 2 + 12 * i : at + 14 + 12 * i]
            tag, kind, count, value = struct.unpack(order + "HHI4s", raw)
            size = sizes[kind] * count
            if size > 4:
                (where,) = struct.unpack(order + "I", value)
                value = tiff[where : where + size]
            out[tag] = (kind, count, value[:size])
        return out

    (first,) = struct.unpack(order + "I", tiff[4:8])
    (exif_at,) = struct.unpack(order + "I", entries(first)[0x8769][2])
    return entries(exif_at)


def strict_read(block: bytes) -> datetime:
    """The capture time an EXIF 2.31 reader that accepts nothing else would read."""
    entries = _exif_ifd_entries(block)
    fields = {}
    for tag, pattern in _STRICT.items():
        kind, count, value = entries[tag]
        assert kind == 2 and count == len(value), (tag, kind, count)  # ASCII, NUL included
        match = pattern.fullmatch(value)
        assert match, f"tag {tag:#x}: {value!r} is not what EXIF 2.31 allows"
        fields[tag] = match.groups()
    year, month, day, hour, minute, second = map(int, fields[DTO])
    sign, oh, om = fields[OFFSET]
    offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == b"-" else 1)
    micro = int(fields[SUBSEC][0].decode().ljust(6, "0")[:6])
    return datetime(year, month, day, hour, minute, second, micro, timezone(offset))


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 2, 9, 14, 30, 0, 1, tzinfo=ZoneInfo("Asia/Tokyo")),
        datetime(2026, 2, 9, 14, 30, 0, 500000, tzinfo=ZoneInfo("America/St_Johns")),
        datetime(2026, 2, 9, 14, 30, 0, 999999, tzinfo=ZoneInfo("Asia/Kathmandu")),
        datetime(2026, 2, 9, 14, 30, 0, 250000, tzinfo=timezone(-timedelta(minutes=30))),
        datetime(2026, 2, 9, 14, 30, 0, 123456, tzinfo=UTC),
        datetime(2024, 11, 3, 5, 30, 0, 10, tzinfo=UTC).astimezone(ZoneInfo("America/New_York")),
    ],
)
def test_exif_bytes_pass_a_strict_reader(when: datetime) -> None:
    back = strict_read(exif_bytes(when))
    assert back.timestamp() == when.timestamp()  # == would fail in a repeated hour (PEP 495)
    assert back.utcoffset() == when.utcoffset()
    assert back.replace(tzinfo=None) == when.replace(tzinfo=None)


def test_exif_bytes_round_a_sub_minute_offset_to_the_minute() -> None:
    when = datetime(1960, 6, 1, 12, 0, 0, 5, tzinfo=ZoneInfo("Africa/Monrovia"))  # -00:44:30
    back = strict_read(exif_bytes(when))
    assert back.replace(tzinfo=None) == when.replace(tzinfo=None)  # the wall clock as written
    assert abs(back.utcoffset() - when.utcoffset()) <= timedelta(seconds=30)


def test_exif_bytes_without_a_fraction_write_no_sub_seconds() -> None:
    entries = _exif_ifd_entries(exif_bytes(datetime(2026, 2, 9, 14, 30, tzinfo=UTC)))
    assert SUBSEC not in entries
    assert entries[OFFSET] == (2, 7, b"+00:00\x00")
    assert entries[DTO] == (2, 20, b"2026:02:09 14:30:00\x00")


# --- HEIF/HEIC: the ISO-BMFF box reader on files made here ----------------------------------------


def _box(kind: bytes, payload: bytes, *, large: bool = False) -> bytes:
    if large:  # size 1: the real size follows as 64 bits
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full(kind: bytes, version: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version, 0, 0, 0]) + payload)


def _uint(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big") if size else b""


def heif(
    payload: bytes | None,
    *,
    iinf: int = 0,
    infe: int = 2,
    iloc: int = 1,
    sizes: tuple[int, int, int, int] = (4, 4, 0, 0),  # offset, length, base offset, index
    method: int = 0,
    pieces: int = 1,
    exif_first: bool = False,
    large: bool = False,
    mdat_to_end: bool = False,
    large_meta: bool = False,
    meta_to_end: bool = False,
    old_entry_first: bool = False,
) -> bytes:
    """A HEIF file made here: an image item (1) and, unless ``payload`` is None, an Exif item
    (2) whose bytes lie in ``mdat`` in ``pieces`` extents; the other arguments pick the box
    versions and field sizes the reader must cope with."""
    offset_size, length_size, base_size, index_size = sizes
    id_size = 2 if infe == 2 else 4
    count_size = 2 if iloc < 2 else 4

    def entry(item_id: int, kind: bytes) -> bytes:
        return _full(b"infe", infe, _uint(item_id, id_size) + b"\x00\x00" + kind + b"\x00")

    items = [(1, b"hvc1")] + ([(2, b"Exif")] if payload is not None else [])
    if exif_first:
        items.reverse()
    entries = b"".join(entry(i, k) for i, k in items)
    if old_entry_first:  # a version 1 infe (no item type) before the others: skipped
        entries = _full(b"infe", 1, b"\x00\x09\x00\x00name\x00") + entries
    count = len(items) + old_entry_first
    infos = _full(b"iinf", iinf, _uint(count, 2 if iinf == 0 else 4) + entries)
    image = b"\x00" * 10  # stands in for the coded picture

    def locations(mdat_at: int) -> bytes:
        out = bytes([offset_size << 4 | length_size, base_size << 4 | index_size])
        out += _uint(len(items), count_size)
        blob = {1: (mdat_at, image), 2: (mdat_at + len(image), payload or b"")}
        for item_id, _kind in items:
            at, data = blob[item_id]
            out += _uint(item_id, count_size)
            if iloc in (1, 2):
                out += _uint(method if item_id == 2 else 0, 2)
            out += b"\x00\x00"  # data_reference_index
            base = max(0, at - 3) if base_size else 0
            out += _uint(base, base_size)
            cuts = [0, *(len(data) * k // pieces for k in range(1, pieces)), len(data)]
            out += _uint(len(cuts) - 1, 2)
            for a, b in itertools.pairwise(cuts):
                out += _uint(0, index_size) + _uint(at + a - base, offset_size)
                out += _uint(b - a, length_size)
        return _full(b"iloc", iloc, out)

    ftyp = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    hdlr = _full(b"hdlr", 0, b"\x00" * 4 + b"pict" + b"\x00" * 13)

    free = _box(b"free", b"")  # an empty box: header only

    def meta(mdat_at: int) -> bytes:
        payload = bytes(4) + hdlr + infos + locations(mdat_at)  # a FullBox: version and flags
        if meta_to_end:
            return struct.pack(">I4s", 0, b"meta") + payload  # size 0: to the end of the file
        return _box(b"meta", payload, large=large_meta)

    header = 16 if large else 8
    body = image + (payload or b"")
    mdat = _box(b"mdat", body, large=large)
    if mdat_to_end:
        mdat = struct.pack(">I4s", 0, b"mdat") + body  # size 0: to the end of the file
    if meta_to_end:  # the picture first, the meta box last
        return ftyp + free + mdat + meta(len(ftyp) + len(free) + header)
    mdat_at = len(ftyp) + len(free) + len(meta(0)) + header
    return ftyp + free + meta(mdat_at) + mdat


def exif_payload(exif_ifd: dict[int, bytes]) -> bytes:
    """A HEIF Exif item: the offset of the TIFF header, then "Exif\\0\\0" and the TIFF data."""
    block = piexif.dump({"0th": {}, "Exif": exif_ifd, "GPS": {}, "1st": {}, "thumbnail": None})
    assert block.startswith(b"Exif\x00\x00")
    return struct.pack(">I", 6) + block


HEIF_TIME = {DTO: b"2020:05:04 18:39:11", SUBSEC: b"644", OFFSET: b"-04:00"}
HEIF_WANT = datetime(2020, 5, 4, 18, 39, 11, 644000, tzinfo=fixed(-4))


@pytest.mark.parametrize(
    "layout",
    [
        {},
        {"iinf": 1},  # a 32-bit entry count
        {"infe": 3},  # 32-bit item ids
        {"iloc": 0},  # no construction method
        {"iloc": 2, "infe": 3},  # 32-bit item count and ids
        {"sizes": (8, 8, 0, 0)},
        {"sizes": (4, 4, 4, 0)},  # offsets relative to a base offset
        {"sizes": (4, 4, 8, 0), "iloc": 2},
        {"sizes": (4, 4, 0, 4)},  # extent indexes
        {"sizes": (2, 2, 0, 0), "pieces": 3},  # the item in three extents
        {"exif_first": True},
        {"large": True},  # an mdat box with a 64-bit size
        {"mdat_to_end": True},
        {"large_meta": True},  # the meta box itself with a 64-bit size
        {"meta_to_end": True},  # the meta box last, its size 0: to the end of the file
        {"old_entry_first": True},
        {"iloc": 2, "infe": 3, "sizes": (4, 4, 0, 8)},  # extent indexes in a version 2 iloc
    ],
    ids=repr,
)
def test_heif_exif_in_every_layout(layout) -> None:
    data = heif(exif_payload(HEIF_TIME), **layout)
    found = inspect_time(data, BERLIN)
    assert (found.time, found.reason) == (
        HEIF_WANT,
        "EXIF DateTimeOriginal with OffsetTimeOriginal -04:00",
    )


_HEIF_LAYOUTS = [
    {},
    {"infe": 3},
    {"iloc": 0},
    {"iloc": 2, "infe": 3},
    {"sizes": (4, 4, 4, 0)},
    {"sizes": (2, 2, 0, 0), "pieces": 3},
    {"exif_first": True},
    {"large": True},
    {"mdat_to_end": True},
    {"large_meta": True},
    {"meta_to_end": True},
]


@pytest.mark.parametrize("layout", _HEIF_LAYOUTS, ids=repr)
def test_read_meta_fetches_heif_items_by_offset(tmp_path: Path, layout: dict[str, object]) -> None:
    path = tmp_path / "IMG.HEIC"
    path.write_bytes(heif(exif_payload(HEIF_TIME), **layout))  # type: ignore[arg-type]
    meta = read_meta(path)
    assert meta is not None and meta.exif[DTO] == "2020:05:04 18:39:11"


def test_read_meta_heif_reads_past_a_short_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a 48-byte head the meta box and the Exif item both lie past it: the meta box is read
    # whole and the item fetched by its offset.
    monkeypatch.setattr(exif_module, "_HEIF_HEAD", 48)
    data = heif(exif_payload(HEIF_TIME))
    path = tmp_path / "short_head.HEIC"
    path.write_bytes(data)
    meta = read_meta(path)
    assert meta is not None and meta.exif[DTO] == "2020:05:04 18:39:11"
    cut = tmp_path / "cut.HEIC"
    cut.write_bytes(data[: len(data) - 10])  # the item now runs past the end of the file
    with pytest.raises(ExifError, match="runs past the end of the file"):
        read_meta(cut)


def _heif_with_xmp(xmp: bytes, content_type: bytes = b"application/rdf+xml") -> bytes:
    """A HEIF file whose only metadata is an XMP item (infe type mime) in mdat."""
    ftyp = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    mime = _full(b"infe", 2, b"\x00\x07\x00\x00mime" + b"XMP\x00" + content_type + b"\x00")
    iinf = _full(b"iinf", 0, b"\x00\x01" + mime)

    def iloc(at: int) -> bytes:  # version 0, 4-byte offsets and lengths, one item, one extent
        return _full(
            b"iloc",
            0,
            b"\x44\x00\x00\x01\x00\x07\x00\x00\x00\x01" + struct.pack(">II", at, len(xmp)),
        )

    head = ftyp + _full(b"meta", 0, iinf + iloc(0))
    at = len(head) + 8  # the packet starts right after the mdat header
    return ftyp + _full(b"meta", 0, iinf + iloc(at)) + _box(b"mdat", xmp)


def test_read_meta_heif_with_xmp_and_no_exif(tmp_path: Path) -> None:
    packet = b'<x:xmpmeta xmp:CreateDate="2021-07-01T10:00:00+02:00"/>'
    path = tmp_path / "xmp_only.HEIC"
    path.write_bytes(_heif_with_xmp(packet))
    meta = read_meta(path)
    assert meta is not None and meta.xmp == packet and meta.tiff == b""
    other = tmp_path / "other_mime.HEIC"
    other.write_bytes(_heif_with_xmp(packet, b"image/jpeg"))  # a mime item that is not XMP
    assert read_meta(other) is None


def test_heif_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(heif(exif_payload(HEIF_TIME)))
    assert read_time(path, UTC) == HEIF_WANT


def test_heif_without_exif_has_no_time() -> None:
    assert inspect_time(heif(None), UTC) == ExifTime(None, "no EXIF data in the file")
    ftyp_only = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    assert inspect_time(ftyp_only, UTC).reason == "no EXIF data in the file"
    no_iloc = ftyp_only + _full(b"meta", 0, _full(b"iinf", 0, b"\x00\x00"))
    assert inspect_time(no_iloc, UTC).reason == "no EXIF data in the file"
    exif_entry = _full(b"infe", 2, b"\x00\x02\x00\x00Exif\x00")
    listed_only = ftyp_only + _full(b"meta", 0, _full(b"iinf", 0, b"\x00\x01" + exif_entry))
    assert inspect_time(listed_only, UTC).reason == "no EXIF data in the file"  # no locations
    # infe boxes of version 0 and 1 carry no item type: skipped, never read as the Exif item
    old = ftyp_only + _full(
        b"meta",
        0,
        _full(b"iinf", 0, b"\x00\x01" + _full(b"infe", 1, b"\x00\x02\x00\x00Exif\x00"))
        + _full(b"iloc", 0, b"\x44\x00\x00\x00"),
    )
    assert inspect_time(old, UTC).reason == "no EXIF data in the file"


def test_a_damaged_heif_says_what_is_wrong() -> None:
    with pytest.raises(ExifError) as caught:
        read_time(heif(exif_payload(HEIF_TIME), method=1), UTC)
    assert str(caught.value) == (
        "<bytes>: damaged HEIF container (Exif item stored by construction method 1)"
    )
    with pytest.raises(ExifError) as caught:
        read_time(heif(b"\x00\x00\x06"), UTC)
    assert str(caught.value) == "<bytes>: damaged HEIF Exif item (3 bytes)"
    with pytest.raises(ExifError) as caught:
        read_time(heif(struct.pack(">I", 0) + b"not a TIFF header at all"), UTC)
    assert str(caught.value).startswith("<bytes>: damaged EXIF block in the HEIF file (")
    cut = heif(exif_payload(HEIF_TIME))[:48]  # the meta box runs past the end
    with pytest.raises(ExifError, match=r"^<bytes>: damaged HEIF container \(box b'meta' at 32"):
        read_time(cut, UTC)
    tiny = struct.pack(">I4s", 4, b"ftyp") + b"heic" + b"\x00" * 8  # a box smaller than its header
    with pytest.raises(ExifError, match=r"damaged HEIF container \(box b'ftyp' at 0 overruns"):
        read_time(tiny, UTC)


def test_an_exif_item_of_just_its_offset_word_holds_no_exif() -> None:
    # the smallest payload the reader accepts: four bytes, the offset and nothing after it
    assert inspect_time(heif(struct.pack(">I", 0)), UTC) == ExifTime(
        None, "no EXIF data in the file"
    )


# --- tags Pillow hands over as bytes (type UNDEFINED), and files it refuses ----------------------


def undefined(exif_ifd: dict[int, bytes]) -> bytes:
    """A JPEG whose Exif IFD holds ``exif_ifd`` as UNDEFINED bytes (as some cameras write)."""
    exif = Image.Exif()
    exif.get_ifd(0x8769).update(exif_ifd)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_tags_given_as_bytes_are_read_as_text() -> None:
    data = undefined({DTO: b"2024:01:15 12:30:45\xff", SUBSEC: b"25\x00", OFFSET: b"+09:00\x00"})
    found = inspect_time(data, UTC)
    assert found.time == datetime(2024, 1, 15, 12, 30, 45, 250000, tzinfo=fixed(9))
    assert found.reason == "EXIF DateTimeOriginal with OffsetTimeOriginal +09:00"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00" * 19, "EXIF DateTimeOriginal is blank ('')"),
        (b"  :  :     :  :  \x00", "EXIF DateTimeOriginal is blank ('  :  :     :  :  ')"),
        (b"  yesterday \x00", "EXIF DateTimeOriginal 'yesterday' is not a date"),
        (b" 0000:00:00 00:00:00 ", "EXIF DateTimeOriginal '0000:00:00 00:00:00' is all zeros "
                                   "(clock never set)"),
        (b"0000:01:15 12:00:00", "EXIF DateTimeOriginal '0000:01:15 12:00:00' is all zeros "
                                 "(clock never set)"),  # a year never set is enough
    ],
)  # fmt: skip
def test_bytes_dates_without_a_time_say_why(value: bytes, reason: str) -> None:
    assert inspect_time(undefined({DTO: value}), UTC) == ExifTime(None, reason)


def test_an_image_too_large_to_open_is_refused_by_name() -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 900 million pixels
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    with pytest.raises(ExifError, match=r"^<bytes>: refused as too large to open: Image size"):
        read_time(png, UTC)


def test_a_damaged_exif_block_is_named() -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    png = plain.getvalue()
    data = png[:33] + chunk(b"eXIf", b"XX\x00*\x00\x00\x00\x08") + png[33:]  # after IHDR
    with pytest.raises(ExifError, match=r"^<bytes>: damaged image or EXIF block \(not a TIFF"):
        read_time(data, UTC)


def test_exif_bytes_refuses_a_naive_time_by_name() -> None:
    with pytest.raises(ValueError) as caught:
        exif_bytes(datetime(2026, 1, 1))
    assert str(caught.value) == "exif_bytes needs an aware datetime"


def test_a_multi_picture_file_with_only_an_xmp_orientation_has_no_exif() -> None:
    # Pillow reports the XMP orientation through getexif(); the file still has no EXIF block
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
    )
    for kind, extra in (("MPO", {"save_all": True, "append_images": [Image.new("RGB", (8, 8))]}),
                        ("JPEG", {})):  # fmt: skip
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(buffer, kind, xmp=xmp, **extra)
        assert inspect_time(buffer.getvalue(), UTC) == ExifTime(None, "no EXIF data in the file")


def test_read_time_reads_an_offset_less_time_in_the_zone_given() -> None:
    data = made({DTO: b"2024:07:01 12:00:00"})
    assert read_time(data, ZoneInfo("Asia/Tokyo")) == datetime(2024, 7, 1, 12, tzinfo=fixed(9))
    assert read_time(data, BERLIN) == datetime(2024, 7, 1, 12, tzinfo=fixed(2))


# --- read_meta: the time tags for pylapse.filetime, read from headers only ----------------------

_TIME_TAGS = {
    "ifd0": (0x010F, 0x0132),
    "exif": (0x9003, 0x9004, 0x9010, 0x9011, 0x9291, 0x882A),
    "gps": (1, 2, 3, 4, 7, 29),
}


def _pillow_ifds(path: Path) -> dict[str, dict[int, object]]:
    with Image.open(path) as image:
        exif = image.getexif()
        return {
            "ifd0": dict(exif),
            "exif": dict(exif.get_ifd(0x8769)),
            "gps": dict(exif.get_ifd(0x8825)),
        }


def _same(ours: object, pillows: object) -> bool:
    if isinstance(pillows, tuple):
        return isinstance(ours, tuple) and all(map(_same, ours, pillows))
    if isinstance(pillows, str):
        return isinstance(ours, str) and ours.rstrip("\x00 ") == pillows.rstrip("\x00 ")
    if isinstance(pillows, bytes):
        return ours == pillows
    return float(ours) == float(pillows)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "nokia_8.3_5g_offset+0300.jpg",
        "htc_desire_gps+0200.jpg",
        "sony_hx5v_gps+0200.jpg",
        "iphone6_bad_gpsdate.jpg",
        "coolpix_p6000_DSCN0010.jpg",
        "reconyx_hf2_tzoffset-6.jpg",
        "samsung_g965w_subsec6.jpg",
        "fuji_dx5_blank_date.jpg",
        "nikon_z9_offset+0300.dng",
    ],
)
def test_read_meta_decodes_the_time_tags_as_pillow_does(real: Path, name: str) -> None:
    meta = read_meta(real / name)
    assert meta is not None
    pillow = _pillow_ifds(real / name)
    ours = {"ifd0": meta.ifd0, "exif": meta.exif, "gps": meta.gps}
    compared = 0
    for ifd, tags in _TIME_TAGS.items():
        for tag in tags:
            if tag in pillow[ifd]:
                assert _same(ours[ifd].get(tag), pillow[ifd][tag]), (ifd, hex(tag))
                compared += 1
    assert compared >= 2


def test_read_meta_reads_a_jpeg_pillow_refuses(real: Path, tmp_path: Path) -> None:
    assert read_meta(real / "beach_no_exif_bad_height.jpg") is None  # and does not raise
    data = io.BytesIO()
    Image.new("RGB", (8, 8)).save(data, "JPEG")
    block = piexif.dump({"Exif": {piexif.ExifIFD.DateTimeOriginal: b"2024:01:15 12:34:56"}})
    out = io.BytesIO()
    piexif.insert(block, data.getvalue(), out)
    jpeg = out.getvalue()
    sof = jpeg.index(b"\xff\xc0")
    broken = jpeg[: sof + 5] + b"\x00\x00" + jpeg[sof + 7 :]  # height 0, as in the beach file
    target = tmp_path / "zero_height.jpg"
    target.write_bytes(broken)
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(target)
    meta = read_meta(target)
    assert meta is not None and meta.exif[piexif.ExifIFD.DateTimeOriginal] == "2024:01:15 12:34:56"


def test_read_meta_finds_xmp_in_dng_heic_and_jpeg(real: Path) -> None:
    dng = read_meta(real / "nikon_z9_offset+0300.dng")
    assert dng is not None and b"+03:00" in dng.xmp
    heic = read_meta(real / "iphone11pro_offset-0400.heic")
    assert heic is not None and b"CreateDate" in heic.xmp and heic.exif
    xmp_only = read_meta(real / "invalid_image01137.jpg")
    assert xmp_only is not None and xmp_only.tiff == b"" and b"2009-09-14T11:08:06" in xmp_only.xmp


def test_read_meta_damaged_block_raises_exif_error(tmp_path: Path) -> None:
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 60000)
    segment = b"Exif\x00\x00" + tiff
    jpeg = b"\xff\xd8\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment + b"\xff\xd9"
    path = tmp_path / "damaged.jpg"
    path.write_bytes(jpeg)
    with pytest.raises(ExifError, match="damaged EXIF block"):
        read_meta(path)
