"""pylapse.filetime: one file's own time evidence, on real camera files and one synthetic file
per rule."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import piexif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from pylapse.filetime import (
    Evidence,
    OffsetSource,
    TimeSource,
    TimeStatus,
    file_evidence,
    real_offset,
)

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "exif-real"
H = 3600


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (shared test data lives beside the repo in ../shared)")
    return REAL


# --- real files ---------------------------------------------------------------------------------

C, A, X, BAD = TimeStatus.CERTAIN, TimeStatus.ASSUMED, TimeStatus.CONFLICT, TimeStatus.IMPLAUSIBLE

# file: (status, offset seconds, offset source, a phrase the reason must hold). Each expectation
# was checked against the file's bytes (see test_makernote.py for the maker notes and
# test_real_file_facts below), not copied from MANIFEST.md, which has two known slips: the Z9 DNG
# is certain +03:00 (OffsetTimeOriginal, and its WorldTime, kept in DNGPrivateData, agrees; the
# manifest's "TimeZone 0" is another exiftool field) and the D3100's maker note says +01:00 with
# DST on, so +02:00 (Genoa in June, which its GPS position confirms).
REAL_FILES: dict[str, tuple[TimeStatus, int | None, OffsetSource | None, str]] = {
    "nokia_8.3_5g_offset+0300.jpg": (C, 3 * H, OffsetSource.EXIF, "GPS agrees"),
    "iphone11pro_offset-0400.heic": (C, -4 * H, OffsetSource.EXIF, "OffsetTimeOriginal -04:00"),
    "nikon_z9_offset+0300.dng": (C, 3 * H, OffsetSource.EXIF, "+03:00; makernote agrees"),
    "htc_desire_gps+0200.jpg": (C, 2 * H, OffsetSource.GPS, "GPS fix 2011-05-06 07:59:48"),
    "sony_hx5v_gps+0200.jpg": (C, 2 * H, OffsetSource.GPS, "+01:59:58"),
    "coolpix_p6000_DSCN0010.jpg": (X, None, None, "stale GPS fix"),
    "coolpix_p6000_DSCN0012.jpg": (X, None, None, "stale GPS fix"),
    # iOS 4 wrote GPSTimeStamp in local time: 0 h from the clock, but Rome is +01:00 in January
    "iphone4_gpstime_nodate.jpg": (X, None, None, "Europe/Rome is +01:00"),
    "iphone6_bad_gpsdate.jpg": (C, 1 * H, OffsetSource.GPS, "'2014:09:259' unreadable"),
    "nexus4_stale_gps.jpg": (X, None, None, "stale GPS fix"),
    "fuji_s1pro_gpstime_nodate.jpg": (C, 1 * H, OffsetSource.GPS, "+01:00:04 modulo 24 h"),
    "issue308_placeholder_gps.jpg": (X, None, None, "placeholder GPS fix at 0,0"),
    "iphonexr_1px_gpsdate_no_time.jpg": (A, None, None, "no UTC offset"),
    "reconyx_hf2_tzoffset-6.jpg": (C, -6 * H, OffsetSource.TIFFEP, "TimeZoneOffset -6 h"),
    "canon_sx_hdr_mn_tz+0100.jpg": (C, 1 * H, OffsetSource.MAKERNOTE, "Canon TimeZone +01:00"),
    "nikon_d300_mn_tz+0300.jpg": (C, 3 * H, OffsetSource.MAKERNOTE, "Nikon WorldTime"),
    "nikon_d3100_mn_tz+0100.jpg": (C, 2 * H, OffsetSource.MAKERNOTE, "+01:00, DST yes"),
    "samsung_g965w_subsec6.jpg": (A, None, None, "no UTC offset"),
    # Lightroom's XMP (prefix xap:) carries CreateDate with +01:00 for the same wall clock
    "canon_eos7d.jpg": (C, 1 * H, OffsetSource.XMP, "XMP CreateDate +01:00"),
    "canon_40d_small.jpg": (A, None, None, "no UTC offset"),
    "sony_a58.jpg": (A, None, None, "no UTC offset"),
    "polaroid_ion230_wrong_clock.jpg": (BAD, None, None, "after ModifyDate 2008-07-31"),
    "nikon_e885_zero_date.jpg": (BAD, None, None, "all zeros"),
    "fuji_dx5_blank_date.jpg": (BAD, None, None, "is blank"),
    "sony_cybershot_orient6.jpg": (A, None, None, "no UTC offset"),
    "orientation_landscape_3.jpg": (A, None, None, "no capture time"),
    "orientation_landscape_5.jpg": (A, None, None, "no capture time"),
    "orientation_landscape_6.jpg": (A, None, None, "no capture time"),
    "orientation_portrait_8.jpg": (A, None, None, "no capture time"),
    "gran_turismo_empty_gps_ifd.jpg": (A, None, None, "no UTC offset"),
    "invalid_image01137.jpg": (C, 2 * H, OffsetSource.XMP, "XMP CreateDate +02:00"),
    "invalid_image01551.jpg": (C, 0, OffsetSource.XMP, "XMP CreateDate +00:00"),
    "beach_no_exif_bad_height.jpg": (A, None, None, "no EXIF or XMP"),
}


def test_every_real_file_has_an_expectation(real: Path) -> None:
    on_disk = {p.name for p in real.iterdir() if p.name != "MANIFEST.md"}
    assert on_disk == set(REAL_FILES)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file(real: Path, name: str) -> None:
    status, offset, source, phrase = REAL_FILES[name]
    ev = file_evidence(real / name)
    assert (ev.status, ev.offset, ev.offset_source) == (status, offset, source), ev
    assert phrase in ev.reason
    if ev.status is TimeStatus.CERTAIN:
        assert ev.offset is not None and real_offset(ev.offset)
    else:
        assert ev.offset is None  # a flagged or assumed file proves no offset


def test_real_file_facts(real: Path) -> None:
    """The facts the expectations rest on, read from the bytes here rather than the manifest."""
    nokia = (real / "nokia_8.3_5g_offset+0300.jpg").read_bytes()
    assert b"+03:00\x00" in nokia and b"2022:08:14 14:12:31" in nokia
    iphone4 = (real / "iphone4_gpstime_nodate.jpg").read_bytes()
    assert b"2011:01:13 14:33:39" in iphone4
    # the XMP-only files have no APP1 Exif segment at all, and carry the dates quoted
    for name, date in (
        ("invalid_image01137.jpg", b"2009-09-14T11:08:06+02:00"),
        ("invalid_image01551.jpg", b"2011-09-23T12:43:03Z"),
    ):
        data = (real / name).read_bytes()
        assert b"Exif\x00\x00" not in data and date in data
    polaroid = (real / "polaroid_ion230_wrong_clock.jpg").read_bytes()
    assert b"2026:11:24 14:41:16" in polaroid and b"2008:07:31 17:32:06" in polaroid
    digest = hashlib.sha256((real / "nikon_z9_offset+0300.dng").read_bytes()).hexdigest()
    assert digest.startswith("fed506ab")


def test_real_files_read_in_well_under_a_millisecond(real: Path) -> None:
    names = sorted(REAL_FILES)
    file_evidence(real / names[0])  # warm imports and the zone data
    start = time.perf_counter()
    for name in names:
        file_evidence(real / name)
    per_file = (time.perf_counter() - start) / len(names)
    assert per_file < 0.02, f"{per_file * 1e6:.0f} us per file"


# --- synthetic files ----------------------------------------------------------------------------

_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"


def _image(size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(buf, "JPEG")
    return buf.getvalue()


_SMALL = _image()


def _jpeg_bytes(
    *,
    dto: str | None = "2024:01:15 12:34:56",
    exif: dict[int, object] | None = None,
    zeroth: dict[int, object] | None = None,
    gps: dict[int, object] | None = None,
    xmp: str | None = None,
    tz_offset: tuple[int, ...] | None = None,
    base: bytes = _SMALL,
) -> bytes:
    data = base
    sub: dict[int, object] = dict(exif or {})
    if dto is not None:
        sub.setdefault(piexif.ExifIFD.DateTimeOriginal, dto.encode())
    ifd0: dict[int, object] = dict(zeroth or {})
    if tz_offset is not None:  # piexif knows the tag only as LONG: patched to SSHORT below
        ifd0[piexif.ImageIFD.TimeZoneOffset] = 0
    if sub or ifd0 or gps:
        block = piexif.dump({"0th": ifd0, "Exif": sub, "GPS": gps or {}, "1st": {}})
        if tz_offset is not None:
            entry = b"\x88\x2a\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00"
            assert block.count(entry) == 1
            values = struct.pack(f">{len(tz_offset)}h", *tz_offset).ljust(4, b"\x00")
            fixed = b"\x88\x2a\x00\x08" + struct.pack(">I", len(tz_offset)) + values
            block = block.replace(entry, fixed)
        out = io.BytesIO()
        piexif.insert(block, data, out)
        data = out.getvalue()
    if xmp is not None:
        packet = _XMP_APP1 + xmp.encode()
        data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(packet) + 2) + packet + data[2:]
    return data


def _jpeg(tmp_path: Path, name: str = "f.jpg", mtime: float | None = None, **kw: object) -> Path:
    path = tmp_path / name
    path.write_bytes(_jpeg_bytes(**kw))  # type: ignore[arg-type]
    when = mtime if mtime is not None else datetime(2025, 6, 1).timestamp()
    os.utime(path, (when, when))
    return path


def _offset(text: str) -> dict[int, object]:
    return {piexif.ExifIFD.OffsetTimeOriginal: text.encode()}


def _dms(value: float) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60 * 100)
    return ((d, 1), (m, 1), (s, 100))


def _gps(
    time_of_day: tuple[int, int, int] | None,
    date: str | None = None,
    at: tuple[float, float] | None = None,
) -> dict[int, object]:
    out: dict[int, object] = {}
    if time_of_day is not None:
        out[piexif.GPSIFD.GPSTimeStamp] = tuple((v, 1) for v in time_of_day)
    if date is not None:
        out[piexif.GPSIFD.GPSDateStamp] = date.encode()
    if at is not None:
        lat, lon = at
        out[piexif.GPSIFD.GPSLatitudeRef] = b"N" if lat >= 0 else b"S"
        out[piexif.GPSIFD.GPSLatitude] = _dms(lat)
        out[piexif.GPSIFD.GPSLongitudeRef] = b"E" if lon >= 0 else b"W"
        out[piexif.GPSIFD.GPSLongitude] = _dms(lon)
    return out


TOKYO, NEW_YORK, PARIS = (35.68, 139.76), (40.71, -74.0), (48.86, 2.35)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("+09:00", 9 * H),
        ("-03:30", -(3 * H + 1800)),
        ("+05:45", 5 * H + 2700),  # Nepal
        ("+14:00", 14 * H),  # Kiribati
        ("-12:00", -12 * H),
        ("+00:00", 0),
    ],
)
def test_exif_offset_that_is_real_is_certain(tmp_path: Path, text: str, seconds: int) -> None:
    ev = file_evidence(_jpeg(tmp_path, exif=_offset(text)))
    assert ev == Evidence(
        datetime(2024, 1, 15, 12, 34, 56),
        TimeSource.EXIF,
        seconds,
        OffsetSource.EXIF,
        TimeStatus.CERTAIN,
        f"OffsetTimeOriginal {text}",
    )


@pytest.mark.parametrize("text", ["+25:00", "+05:07", "-13:00", "+14:15", "nine", "+9"])
def test_exif_offset_that_is_not_real_is_flagged(tmp_path: Path, text: str) -> None:
    ev = file_evidence(_jpeg(tmp_path, exif=_offset(text)))
    assert ev.status is TimeStatus.IMPLAUSIBLE and ev.offset is None
    assert f"OffsetTimeOriginal {text!r} is not a real UTC offset" in ev.reason
    assert ev.local == datetime(2024, 1, 15, 12, 34, 56)  # the clock itself is kept


def test_blank_offset_is_no_evidence_not_a_flag(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("      ")))
    assert (ev.status, ev.offset, ev.reason) == (
        TimeStatus.ASSUMED,
        None,
        "no UTC offset in the file",
    )


def test_offset_time_is_used_when_offset_time_original_is_missing(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, exif={piexif.ExifIFD.OffsetTime: b"-05:00"}))
    assert (ev.status, ev.offset, ev.reason) == (TimeStatus.CERTAIN, -5 * H, "OffsetTime -05:00")


def test_subseconds_and_date_time_digitized(tmp_path: Path) -> None:
    ev = file_evidence(
        _jpeg(
            tmp_path,
            dto=None,
            exif={
                piexif.ExifIFD.DateTimeDigitized: b"2024:03:01 08:00:00",
                piexif.ExifIFD.SubSecTimeDigitized: b"25",
                piexif.ExifIFD.OffsetTimeDigitized: b"+01:00",
            },
        )
    )
    assert ev.local == datetime(2024, 3, 1, 8, 0, 0, 250000)
    assert (ev.offset, ev.reason) == (H, "OffsetTimeDigitized +01:00")


def test_tiffep_time_zone_offset_in_whole_hours(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, tz_offset=(-5,)))
    assert (ev.status, ev.offset, ev.offset_source) == (
        TimeStatus.CERTAIN,
        -5 * H,
        OffsetSource.TIFFEP,
    )


def test_tiffep_time_zone_offset_out_of_range_is_flagged(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, tz_offset=(20,)))
    assert ev.status is TimeStatus.IMPLAUSIBLE and "TimeZoneOffset" in ev.reason


def test_offsets_that_disagree_are_a_conflict(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+02:00"), tz_offset=(1,)))
    assert ev.status is TimeStatus.CONFLICT and ev.offset is None
    assert ev.reason == "OffsetTimeOriginal +02:00 disagrees with TimeZoneOffset +1 h"


def test_offsets_that_agree_are_certain(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+02:00"), tz_offset=(2,)))
    assert (ev.status, ev.offset, ev.offset_source) == (
        TimeStatus.CERTAIN,
        2 * H,
        OffsetSource.EXIF,
    )


# GPS


def test_gps_date_and_time_gives_the_offset(tmp_path: Path) -> None:
    gps = _gps((3, 34, 50), "2024:01:15", TOKYO)
    ev = file_evidence(_jpeg(tmp_path, gps=gps))
    assert (ev.status, ev.offset, ev.offset_source) == (TimeStatus.CERTAIN, 9 * H, OffsetSource.GPS)
    assert "+09:00:06" in ev.reason


def test_gps_negative_offset_across_midnight(tmp_path: Path) -> None:
    # 20:00 local on 1 July in New York is 00:00:30 UTC on 2 July
    gps = _gps((0, 0, 30), "2024:07:02", NEW_YORK)
    ev = file_evidence(_jpeg(tmp_path, dto="2024:07:01 20:00:00", gps=gps))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, -4 * H)


def test_gps_time_only_is_taken_modulo_a_day(tmp_path: Path) -> None:
    gps = _gps((16, 0, 0), None, TOKYO)  # 01:00 local in Tokyo = 16:00 UTC the day before
    ev = file_evidence(_jpeg(tmp_path, dto="2024:01:15 01:00:00", gps=gps))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, 9 * H)
    assert "time only (no GPS date)" in ev.reason


def test_gps_time_only_ambiguity_is_settled_by_the_location(tmp_path: Path) -> None:
    # Kiritimati is +14:00; modulo a day the same difference reads -10:00 (Hawaii)
    gps = _gps((22, 0, 0), None, (1.87, -157.4))
    ev = file_evidence(_jpeg(tmp_path, dto="2024:01:15 12:00:00", gps=gps))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, 14 * H)


def test_stale_gps_fix_is_a_conflict(tmp_path: Path) -> None:
    gps = _gps((3, 34, 56), "2024:01:12", TOKYO)  # three days before the photo
    ev = file_evidence(_jpeg(tmp_path, gps=gps))
    assert ev.status is TimeStatus.CONFLICT and ev.offset is None
    assert ev.reason.startswith("stale GPS fix: GPS fix 2024-01-12 03:34:56 UTC is 3.4 days")


def test_placeholder_gps_position_is_a_conflict(tmp_path: Path) -> None:
    gps = _gps((0, 0, 0), "2017:01:01", (0.0, 0.0))
    ev = file_evidence(_jpeg(tmp_path, gps=gps))
    assert (ev.status, ev.reason) == (
        TimeStatus.CONFLICT,
        "placeholder GPS fix at 0,0 (not a real position)",
    )


def test_placeholder_gps_date_is_a_conflict(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, gps=_gps((3, 34, 56), "0000:00:00", TOKYO)))
    assert (ev.status, ev.reason) == (TimeStatus.CONFLICT, "placeholder GPS date '0000:00:00'")


def test_gps_far_from_any_real_offset_is_a_conflict(tmp_path: Path) -> None:
    gps = _gps((3, 27, 56), "2024:01:15", TOKYO)  # +09:07: a clock 7 minutes off
    ev = file_evidence(_jpeg(tmp_path, gps=gps))
    assert ev.status is TimeStatus.CONFLICT
    assert "not within 2 minutes of a real UTC offset" in ev.reason


def test_gps_that_disagrees_with_the_location_is_a_conflict(tmp_path: Path) -> None:
    gps = _gps((3, 34, 56), "2024:01:15", PARIS)  # +09:00 in Paris
    ev = file_evidence(_jpeg(tmp_path, gps=gps))
    assert ev.status is TimeStatus.CONFLICT
    assert "the location's zone Europe/Paris is +01:00 then" in ev.reason


def test_gps_that_disagrees_with_the_collection_zone_is_a_conflict(tmp_path: Path) -> None:
    path = _jpeg(tmp_path, gps=_gps((3, 34, 56), "2024:01:15"))  # no position
    assert file_evidence(path).offset == 9 * H
    ev = file_evidence(path, zone=ZoneInfo("Europe/Berlin"))
    assert ev.status is TimeStatus.CONFLICT
    assert "the collection's zone is +01:00 then" in ev.reason
    assert file_evidence(path, zone=ZoneInfo("Asia/Tokyo")).status is TimeStatus.CERTAIN


def test_gps_agreeing_with_the_exif_offset_is_noted(tmp_path: Path) -> None:
    gps = _gps((3, 34, 58), "2024:01:15", TOKYO)
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+09:00"), gps=gps))
    assert (ev.status, ev.offset, ev.reason) == (
        TimeStatus.CERTAIN,
        9 * H,
        "OffsetTimeOriginal +09:00; GPS agrees",
    )


def test_gps_disagreeing_with_the_exif_offset_is_a_conflict(tmp_path: Path) -> None:
    gps = _gps((4, 34, 56), "2024:01:15", TOKYO)
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+09:00"), gps=gps))
    assert ev.status is TimeStatus.CONFLICT
    assert ev.reason.startswith("OffsetTimeOriginal +09:00 disagrees with GPS")


def test_stale_gps_does_not_override_an_exif_offset(tmp_path: Path) -> None:
    gps = _gps((3, 34, 56), "2023:05:01", TOKYO)
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+09:00"), gps=gps))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, 9 * H)


# implausible clocks


@pytest.mark.parametrize(
    "dto",
    ["1970:01:01 00:03:12", "1998:01:01 00:00:00", "2000:01:01 00:10:00", "1980:01:01 09:00:00"],
)
def test_factory_default_clocks_are_implausible(tmp_path: Path, dto: str) -> None:
    ev = file_evidence(_jpeg(tmp_path, dto=dto, exif=_offset("+01:00")))
    assert ev.status is TimeStatus.IMPLAUSIBLE and ev.offset is None
    assert "factory-default clock" in ev.reason


def test_an_ordinary_new_years_day_is_not_a_factory_clock(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, dto="2024:01:01 00:00:00", exif=_offset("+01:00")))
    assert ev.status is TimeStatus.CERTAIN


def test_a_clock_after_the_file_was_modified_is_implausible(tmp_path: Path) -> None:
    mtime = datetime(2024, 1, 10, 12, 0).timestamp()
    path = _jpeg(tmp_path, exif=_offset("+09:00"), mtime=mtime)  # the photo says 15 January
    ev = file_evidence(path)
    assert ev.status is TimeStatus.IMPLAUSIBLE
    assert "is after the file was last modified" in ev.reason
    # the mtime given by the caller wins over the file system's
    later = datetime(2024, 2, 1).timestamp()
    assert file_evidence(path, mtime=later).status is TimeStatus.CERTAIN


def test_a_clock_within_a_day_of_the_modification_time_is_fine(tmp_path: Path) -> None:
    mtime = datetime(2024, 1, 15, 0, 0).timestamp()  # a few hours "before" the clock
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+09:00"), mtime=mtime))
    assert ev.status is TimeStatus.CERTAIN


def test_date_time_original_after_modify_date_is_implausible(tmp_path: Path) -> None:
    zeroth = {piexif.ImageIFD.DateTime: b"2019:03:02 10:00:00"}
    ev = file_evidence(_jpeg(tmp_path, zeroth=zeroth, exif=_offset("+09:00")))
    assert ev.status is TimeStatus.IMPLAUSIBLE
    assert "after ModifyDate 2019-03-02 10:00:00" in ev.reason


def test_modify_date_years_later_is_an_edit_not_a_flag(tmp_path: Path) -> None:
    zeroth = {piexif.ImageIFD.DateTime: b"2027:03:02 10:00:00"}
    ev = file_evidence(
        _jpeg(
            tmp_path, zeroth=zeroth, exif=_offset("+09:00"), mtime=datetime(2028, 1, 1).timestamp()
        )
    )
    assert ev.status is TimeStatus.CERTAIN


@pytest.mark.parametrize(
    ("dto", "phrase"),
    [
        ("0000:00:00 00:00:00", "all zeros"),
        ("    :  :     :  :  ", "blank"),
        ("junk", "not a date"),
    ],
)
def test_unusable_dates_are_refused(tmp_path: Path, dto: str, phrase: str) -> None:
    ev = file_evidence(_jpeg(tmp_path, dto=dto))
    assert (ev.local, ev.status) == (None, TimeStatus.IMPLAUSIBLE)
    assert phrase in ev.reason


# XMP


def _xmp(body: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f"{body}/></rdf:RDF></x:xmpmeta>"
    )


def test_xmp_only_file_gives_clock_and_offset(tmp_path: Path) -> None:
    xmp = _xmp(
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreateDate="2024-05-01T10:20:30.5+09:00"'
    )
    ev = file_evidence(_jpeg(tmp_path, dto=None, xmp=xmp))
    assert ev == Evidence(
        datetime(2024, 5, 1, 10, 20, 30, 500000),
        TimeSource.XMP,
        9 * H,
        OffsetSource.XMP,
        TimeStatus.CERTAIN,
        "XMP CreateDate +09:00",
    )


def test_xmp_element_form_and_utc(tmp_path: Path) -> None:
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><photoshop:DateCreated>2024-05-01T10:20:30Z'
        "</photoshop:DateCreated></x:xmpmeta>"
    )
    ev = file_evidence(_jpeg(tmp_path, dto=None, xmp=xmp))
    assert (ev.local, ev.offset, ev.offset_source) == (
        datetime(2024, 5, 1, 10, 20, 30),
        0,
        OffsetSource.XMP,
    )


def test_xmp_without_offset_or_with_another_clock_proves_nothing(tmp_path: Path) -> None:
    plain = _xmp('xmp:CreateDate="2024-01-15T12:34:56"')
    assert file_evidence(_jpeg(tmp_path, xmp=plain)).status is TimeStatus.ASSUMED
    other = _xmp('xmp:CreateDate="2024-02-01T08:00:00+05:30"')  # an editor's clock
    ev = file_evidence(_jpeg(tmp_path, xmp=other))
    assert (ev.status, ev.offset) == (TimeStatus.ASSUMED, None)


def test_xmp_offset_confirms_or_contradicts_exif(tmp_path: Path) -> None:
    same = _xmp('xmp:CreateDate="2024-01-15T12:34:56+09:00"')
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+09:00"), xmp=same))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, 9 * H)
    other = _xmp('xmp:CreateDate="2024-01-15T12:34:56+08:00"')
    ev = file_evidence(_jpeg(tmp_path, exif=_offset("+09:00"), xmp=other))
    assert ev.status is TimeStatus.CONFLICT
    assert ev.reason == "OffsetTimeOriginal +09:00 disagrees with XMP CreateDate +08:00"


def test_xmp_offset_that_is_not_real_is_flagged(tmp_path: Path) -> None:
    xmp = _xmp('xmp:CreateDate="2024-01-15T12:34:56+05:07"')
    ev = file_evidence(_jpeg(tmp_path, dto=None, xmp=xmp))
    assert ev.status is TimeStatus.IMPLAUSIBLE and "not a real UTC offset" in ev.reason


# names, bad files, headers only


def test_name_clock_agreeing_takes_the_offset(tmp_path: Path) -> None:
    path = _jpeg(tmp_path, exif=_offset("+09:00"))
    ev = file_evidence(path, wall_clock=datetime(2024, 1, 15, 12, 34, 57))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, 9 * H)


def test_name_clock_disagreeing_is_a_conflict(tmp_path: Path) -> None:
    path = _jpeg(tmp_path, exif=_offset("+09:00"))
    ev = file_evidence(path, wall_clock=datetime(2024, 1, 15, 3, 34, 56))
    assert (ev.status, ev.offset) == (TimeStatus.CONFLICT, None)
    assert "the name's clock 2024-01-15 03:34:56 differs from the file's" in ev.reason


@pytest.mark.parametrize(
    "content", [b"", b"\xff\xd8\xff\xe1\x00", b"not an image at all", b"II*\x00junk"]
)
def test_bad_files_never_raise(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    ev = file_evidence(path)
    assert (ev.local, ev.offset, ev.status) == (None, None, TimeStatus.ASSUMED)
    assert ev.reason


def test_missing_file_never_raises(tmp_path: Path) -> None:
    ev = file_evidence(tmp_path / "gone.jpg")
    assert ev.status is TimeStatus.ASSUMED and "cannot be read" in ev.reason


def test_large_jpeg_is_read_from_headers_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(_jpeg_bytes(exif=_offset("+09:00"), base=_image((4000, 3000))))

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image, "open", refuse)
    assert file_evidence(path).offset == 9 * H


# --- property: an accepted offset is always a real one ------------------------------------------


def _is_real(seconds: int) -> bool:
    """The oracle, written out independently of pylapse.filetime.real_offset."""
    return -12 * H <= seconds <= 14 * H and seconds % (15 * 60) == 0


@given(st.integers(-30 * H, 30 * H))
def test_real_offset_matches_the_definition(seconds: int) -> None:
    assert real_offset(seconds) == _is_real(seconds)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sign=st.sampled_from("+-"),
    hours=st.integers(0, 30),
    minutes=st.integers(0, 59),
    gps_shift=st.one_of(st.none(), st.integers(-3 * 86400, 3 * 86400)),
    with_date=st.booleans(),
)
def test_an_accepted_offset_is_real_or_the_file_is_flagged(
    sign: str, hours: int, minutes: int, gps_shift: int | None, with_date: bool
) -> None:
    local = datetime(2024, 1, 15, 12, 34, 56)
    exif = _offset(f"{sign}{hours:02d}:{minutes:02d}") if hours < 26 else {}
    gps = None
    if gps_shift is not None:
        fix = datetime.fromtimestamp(local.timestamp() - gps_shift)
        gps = _gps(
            (fix.hour, fix.minute, fix.second), fix.strftime("%Y:%m:%d") if with_date else None
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.jpg"
        path.write_bytes(_jpeg_bytes(exif=exif, gps=gps))
        ev = file_evidence(path, mtime=datetime(2025, 1, 1).timestamp())
    if ev.offset is not None:
        assert ev.status is TimeStatus.CERTAIN and _is_real(ev.offset)
        if ev.offset_source is OffsetSource.GPS and gps_shift is not None:
            drift = (gps_shift - ev.offset) % 86400
            assert min(drift, 86400 - drift) <= 120
    else:
        assert ev.status is not TimeStatus.CERTAIN
    if exif:
        seconds = (hours * 3600 + minutes * 60) * (-1 if sign == "-" else 1)
        if not _is_real(seconds):
            assert ev.status is TimeStatus.IMPLAUSIBLE
        elif ev.status is TimeStatus.CERTAIN:
            assert ev.offset == seconds


def test_offset_time_of_a_later_save_does_not_speak_for_the_capture(tmp_path: Path) -> None:
    zeroth = {piexif.ImageIFD.DateTime: b"2024:02:01 09:00:00"}  # saved again two weeks later
    exif = {piexif.ExifIFD.OffsetTime: b"+01:00"}
    ev = file_evidence(_jpeg(tmp_path, zeroth=zeroth, exif=exif))
    assert (ev.status, ev.offset) == (TimeStatus.ASSUMED, None)
    same = {piexif.ImageIFD.DateTime: b"2024:01:15 12:34:56"}
    ev = file_evidence(_jpeg(tmp_path, zeroth=same, exif=exif))
    assert (ev.status, ev.offset) == (TimeStatus.CERTAIN, H)


def test_tiffep_second_value_that_differs_is_a_conflict(tmp_path: Path) -> None:
    ev = file_evidence(_jpeg(tmp_path, tz_offset=(1, 2)))
    assert (ev.status, ev.offset) == (TimeStatus.CONFLICT, None)
    assert ev.reason == (
        "TimeZoneOffset +1 h (ModifyDate) disagrees with its second value +2 h (DateTimeOriginal)"
    )
    assert file_evidence(_jpeg(tmp_path, tz_offset=(2, 2))).offset == 2 * H
