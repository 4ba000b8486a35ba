"""pylapse.makernote: vendor maker-note time zones and clocks, on real files and built notes."""

from __future__ import annotations

import struct
from datetime import datetime
from pathlib import Path

import piexif
import pytest

from pylapse.exif import read_meta
from pylapse.makernote import MakerNoteTime, read_makernote

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "exif-real"


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (shared test data lives beside the repo in ../shared)")
    return REAL


def _note_of(path: Path) -> MakerNoteTime | None:
    meta = read_meta(path)
    assert meta is not None
    make = meta.ifd0.get(0x010F, b"")
    text = make.decode() if isinstance(make, bytes) else str(make)
    return read_makernote(text, meta.tiff)


# --- real files ---------------------------------------------------------------------------------


def test_canon_time_info_with_the_footer_base_fix(real: Path) -> None:
    # The note was moved by an editor: its footer says it used to sit 128 bytes further on, and
    # TimeInfo is [16, 60, 32766, 0] only when read from the corrected place.
    assert _note_of(real / "canon_sx_hdr_mn_tz+0100.jpg") == MakerNoteTime(
        60, None, "Canon TimeZone +01:00, DST off"
    )


def test_nikon_world_time(real: Path) -> None:
    assert _note_of(real / "nikon_d300_mn_tz+0300.jpg") == MakerNoteTime(
        180, None, "Nikon WorldTime TimeZone +03:00, DST no"
    )
    # WorldTime bytes 00 3c 01 02: TimeZone +60 min with DaylightSavings on, so +02:00
    assert (
        b"\x00\x24\x00\x07\x00\x00\x00\x04\x00\x3c\x01\x02"
        in (real / "nikon_d3100_mn_tz+0100.jpg").read_bytes()
    )
    assert _note_of(real / "nikon_d3100_mn_tz+0100.jpg") == MakerNoteTime(
        120, None, "Nikon WorldTime TimeZone +01:00, DST yes"
    )


def test_reconyx_hyperfire2_clock(real: Path) -> None:
    assert _note_of(real / "reconyx_hf2_tzoffset-6.jpg") == MakerNoteTime(
        None, datetime(2019, 4, 4, 10, 4, 12), "Reconyx HyperFire 2 maker-note clock"
    )


@pytest.mark.parametrize(
    "name",
    ["coolpix_p6000_DSCN0010.jpg", "sony_hx5v_gps+0200.jpg", "iphone6_bad_gpsdate.jpg"],
)
def test_notes_without_time_say_nothing(real: Path, name: str) -> None:
    assert _note_of(real / name) is None


# --- built notes --------------------------------------------------------------------------------


def _tiff(make: bytes, note: bytes) -> bytes:
    block: bytes = piexif.dump(
        {"0th": {piexif.ImageIFD.Make: make}, "Exif": {piexif.ExifIFD.MakerNote: note}}
    )
    return block[6:]  # piexif's block starts with "Exif\0\0"


def _nikon(zone: int, dst: int, order: str = ">") -> bytes:
    mark = b"MM\x00*" if order == ">" else b"II*\x00"
    header = mark + struct.pack(order + "I", 8)
    entry = struct.pack(order + "HHI", 0x0024, 7, 4) + struct.pack(order + "hBB", zone, dst, 2)
    return b"Nikon\x00\x02\x10\x00\x00" + header + struct.pack(order + "H", 1) + entry + b"\0" * 4


@pytest.mark.parametrize("order", [">", "<"])
def test_nikon_world_time_built(order: str) -> None:
    note = read_makernote("NIKON CORPORATION", _tiff(b"NIKON", _nikon(-300, 1, order)))
    assert note == MakerNoteTime(-240, None, "Nikon WorldTime TimeZone -05:00, DST yes")


def test_nikon_world_time_with_a_bad_dst_flag_is_ignored() -> None:
    assert read_makernote("NIKON", _tiff(b"NIKON", _nikon(60, 7))) is None


def _canon(zone: int, dst: int, at: int, original: int | None = None) -> bytes:
    """A Canon note (one TimeInfo entry) for a TIFF block where it lands at offset ``at``.

    ``original``: where the note's offsets say it was (an editor moved it), with the footer.
    """
    base = at if original is None else original
    value = base + 2 + 12 + 4  # after the entry count, one entry and the next-IFD pointer
    ifd = struct.pack(">H", 1) + struct.pack(">HHII", 0x0035, 9, 4, value) + b"\0" * 4
    data = struct.pack(">4i", 16, zone, 0, dst)
    footer = b"" if original is None else b"MM\x00*" + struct.pack(">I", original)
    return ifd + data + footer


def _canon_tiff(zone: int, dst: int, moved_by: int | None = None) -> bytes:
    size = len(_canon(0, 0, 0, None if moved_by is None else 0))
    probe = _tiff(b"Canon", b"\xa5" * size)
    at = probe.index(b"\xa5" * size)
    original = None if moved_by is None else at + moved_by
    return _tiff(b"Canon", _canon(zone, dst, at, original))


def test_canon_time_info_built() -> None:
    note = read_makernote("Canon", _canon_tiff(-480, 60))
    assert note == MakerNoteTime(-420, None, "Canon TimeZone -08:00, DST on")


def test_canon_moved_note_is_read_through_its_footer() -> None:
    note = read_makernote("Canon", _canon_tiff(330, 0, moved_by=128))
    assert note == MakerNoteTime(330, None, "Canon TimeZone +05:30, DST off")


def test_canon_time_info_with_an_odd_dst_value_is_ignored() -> None:
    assert read_makernote("Canon", _canon_tiff(60, 30)) is None


def _reconyx_v1(when: datetime) -> bytes:
    fields = (when.second, when.minute, when.hour, when.month, when.day, when.year)
    return struct.pack("<H", 0xF101) + b"\0" * 20 + struct.pack("<6H", *fields) + b"\0" * 40


def test_reconyx_hyperfire_clock_built() -> None:
    when = datetime(2021, 11, 3, 23, 59, 1)
    note = read_makernote("RECONYX", _tiff(b"RECONYX", _reconyx_v1(when)))
    assert note == MakerNoteTime(None, when, "Reconyx HyperFire maker-note clock")


def test_reconyx_impossible_clock_is_ignored() -> None:
    bad = struct.pack("<H", 0xF101) + b"\0" * 20 + struct.pack("<6H", 0, 0, 0, 13, 40, 2021)
    assert read_makernote("RECONYX", _tiff(b"RECONYX", bad + b"\0" * 40)) is None


@pytest.mark.parametrize(
    "note",
    [b"", b"Nikon\x00\x02\x10\x00\x00MM\x00*\xff\xff\xff\xff", b"RECONYXH2\x00", b"\xff" * 3],
)
@pytest.mark.parametrize("make", ["Canon", "NIKON CORPORATION", "RECONYX"])
def test_damaged_notes_give_nothing(make: str, note: bytes) -> None:
    assert read_makernote(make, _tiff(make.encode(), note)) is None


def test_unknown_vendor_and_missing_note() -> None:
    assert read_makernote("Pentax", _tiff(b"Pentax", b"AOC\x00" + b"\0" * 30)) is None
    block: bytes = piexif.dump({"0th": {piexif.ImageIFD.Make: b"Canon"}, "Exif": {}})
    assert read_makernote("Canon", block[6:]) is None


def test_dng_keeps_the_maker_note_in_dng_private_data(real: Path) -> None:
    # Adobe's copy ("Adobe\0MakN"): the Z9's WorldTime says +03:00 (b4 00 = 180 min, DST 0),
    # agreeing with OffsetTimeOriginal; MANIFEST.md's "TimeZone 0" is another exiftool field.
    assert _note_of(real / "nikon_z9_offset+0300.dng") == MakerNoteTime(
        180, None, "Nikon WorldTime TimeZone +03:00, DST no"
    )


def test_dng_private_data_canon_note_uses_its_original_offsets() -> None:
    moved_to = 400  # where the Canon note was in the camera's own file
    body = _canon(-300, 0, moved_to)  # its pointer counts from moved_to, not from the DNG
    header = b"Adobe\x00MakN" + struct.pack(">I", len(body)) + b"MM" + struct.pack(">I", moved_to)
    private = header + body
    ifd0 = {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.DNGPrivateData: private}
    block: bytes = piexif.dump({"0th": ifd0})
    note = read_makernote("Canon", block[6:])
    assert note == MakerNoteTime(-300, None, "Canon TimeZone -05:00, DST off")
