"""Time zones and clocks that cameras keep only in their maker notes, one small parser per vendor.

No well-kept Python reader fits: exifread (the one maintained EXIF reader with maker notes) does
not decode Canon's ``TimeInfo`` or Reconyx notes, gives Nikon's ``WorldTime`` as raw bytes, and
takes 2-75 ms a file. These parsers read only the few bytes they need, from the Exif IFD's
MakerNote or, in a DNG, the copy kept in DNGPrivateData:

- Canon: tag 0x0035 ``TimeInfo`` (int32 ``[size, TimeZone minutes, TimeZoneCity,
  DaylightSavings minutes]``); the maker note is an IFD whose offsets count from the TIFF header,
  corrected by the footer Canon writes (``II*\\0`` + the note's original offset) when an editor
  moved the note.
- Nikon (type 3 notes, ``Nikon\\0\\x02``, with their own TIFF header): tag 0x0024 ``WorldTime``
  (int16 TimeZone minutes, uint8 DaylightSavings 0/1, uint8 date format).
- Reconyx HyperFire (version word 0xF101) and HyperFire 2 (``RECONYXH2``): the camera's clock as
  six little-endian uint16 (seconds, minutes, hour, month, day, year) at byte 22 and 62.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

from pylapse.metadata.tiff import ifd_entries, tiff_order, value_position

__all__ = ["MakerNoteTime", "read_makernote"]

_MAKERNOTE = 0x927C
_EXIF_IFD = 0x8769
_DNG_PRIVATE = 0xC634


@dataclass(frozen=True, slots=True)
class MakerNoteTime:
    """What a maker note says about time; either field may be ``None``."""

    offset_minutes: int | None  # UTC offset in force (time zone plus daylight saving)
    local: datetime | None  # the camera's own clock, when the note keeps one
    label: str  # where it came from, for the user, e.g. "Canon TimeZone +01:00, DST off"


def read_makernote(make: str, tiff: bytes) -> MakerNoteTime | None:
    """The time evidence in the maker note of the EXIF ``tiff`` block, or ``None``.

    ``make`` is IFD0's Make; ``tiff`` the EXIF TIFF block the maker note's offsets refer to.
    Damaged or unknown notes give ``None``: a maker note is extra evidence, never required.
    """
    try:
        found = _makernote_span(tiff)
        if found is None:
            return None
        start, length, order, base = found
        note = tiff[start : start + length]
        vendor = make.strip().lower()
        if note.startswith(b"RECONYXH2") or note[:2] == b"\x01\xf1":
            return _reconyx(note)
        if vendor.startswith("canon"):
            return _canon(tiff, start, length, order, base)
        if vendor.startswith("nikon") and note.startswith(b"Nikon\x00\x02"):
            return _nikon(note)
    except (struct.error, IndexError, ValueError):
        return None
    return None


# --- TIFF structure ---------------------------------------------------------------------------

_order, _entries, _value_at = tiff_order, ifd_entries, value_position


def _makernote_span(tiff: bytes) -> tuple[int, int, str, int] | None:
    """(start, length, byte order, offset base) of the maker note in ``tiff``, or None.

    The note is the Exif IFD's MakerNote, or in a DNG the copy Adobe keeps in DNGPrivateData
    (``Adobe\\0MakN``, length, the original byte order and the note's original offset), whose
    offsets still count from where the note sat in the camera's file.
    """
    order = _order(tiff)
    (ifd0_at,) = struct.unpack_from(order + "I", tiff, 4)
    ifd0 = _entries(tiff, ifd0_at, order)
    exif_entry = ifd0.get(_EXIF_IFD)
    if exif_entry is not None:
        (exif_ifd,) = struct.unpack_from(order + "I", tiff, exif_entry[2])
        note = _entries(tiff, exif_ifd, order).get(_MAKERNOTE)
        if note is not None:
            start = _value_at(tiff, note, order)
            return (start, note[1], order, 0) if start + note[1] <= len(tiff) else None
    private = ifd0.get(_DNG_PRIVATE)
    if private is None:
        return None
    at = _value_at(tiff, private, order)
    if tiff[at : at + 10] != b"Adobe\x00MakN":
        return None
    length, mark, original = struct.unpack_from(">I2sI", tiff, at + 10)
    start = at + 20
    if start + length > len(tiff):
        return None
    return start, length, _order(mark), start - original


# --- vendors ----------------------------------------------------------------------------------


def _canon(tiff: bytes, start: int, length: int, order: str, base: int) -> MakerNoteTime | None:
    footer = tiff[start + length - 8 : start + length]
    if footer[:4] in (b"II*\x00", b"MM\x00*"):
        # An editor that moved the note leaves its offsets pointing where it used to be.
        (original,) = struct.unpack_from(_order(footer) + "I", footer, 4)
        base = start - original
    entry = _entries(tiff, start, order).get(0x0035)
    if entry is None or entry[0] not in (4, 9) or entry[1] < 4:
        return None
    size, zone, _city, dst = struct.unpack_from(
        order + "4i", tiff, _value_at(tiff, entry, order, base)
    )
    if size != 4 * entry[1] or dst not in (0, 60):
        return None  # not the TimeInfo layout (or the base is wrong): say nothing
    label = f"Canon TimeZone {_minutes(zone)}, DST {'on' if dst else 'off'}"
    return MakerNoteTime(zone + dst, None, label)


def _nikon(note: bytes) -> MakerNoteTime | None:
    inner = note[10:]  # type 3 notes carry their own TIFF header; offsets count from it
    order = _order(inner)
    (first,) = struct.unpack_from(order + "I", inner, 4)
    entry = _entries(inner, first, order).get(0x0024)
    if entry is None or entry[1] != 4:
        return None
    zone, dst, _format = struct.unpack_from(order + "hBB", inner, _value_at(inner, entry, order))
    if dst not in (0, 1):
        return None
    label = f"Nikon WorldTime TimeZone {_minutes(zone)}, DST {'yes' if dst else 'no'}"
    return MakerNoteTime(zone + 60 * dst, None, label)


def _reconyx(note: bytes) -> MakerNoteTime | None:
    at, model = (62, "HyperFire 2") if note.startswith(b"RECONYXH2") else (22, "HyperFire")
    second, minute, hour, month, day, year = struct.unpack_from("<6H", note, at)
    try:
        local = datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 - a wall clock
    except ValueError:
        return None
    return MakerNoteTime(None, local, f"Reconyx {model} maker-note clock")


def _minutes(total: int) -> str:
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
