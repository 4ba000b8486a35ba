"""EXIF capture times, checked against real camera files (facts in exif-real/MANIFEST.md)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import piexif
import pytest
from PIL import Image

from pylapse.exif import ExifError, exif_bytes, inspect_time, read_time

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
