"""Capture times from EXIF: read ``DateTimeOriginal`` back, and write it into new frames.

Reading (:func:`read_time`, :func:`inspect_time`) takes ``DateTimeOriginal`` with
``SubSecTimeOriginal`` for the fraction and the offset from ``OffsetTimeOriginal``; when that is
missing, from the TIFF/EP ``TimeZoneOffset`` tag (whole hours, written by some trail cameras);
when both are missing, the wall clock is local time in the collection's zone (DST edge cases by
:func:`pylapse.timeutil.localize`'s rule). GPS time is deliberately not used for the offset:
real files carry stale fixes, wrong dates and placeholders (see the shared test set).

A file without a usable date is not an error: the time is ``None`` and :func:`inspect_time`
says why (no EXIF block, no DateTimeOriginal, a blank or all-zero date). A file that cannot be
read at all raises :class:`ExifError` naming the file and the reason.

JPEG, PNG, TIFF and DNG are read through Pillow (which reads headers only, never pixels);
HEIC/HEIF through the small ISO-BMFF box reader in :mod:`pylapse.metadata.bmff`, so no extra
library is needed; the time tags of :func:`read_meta` are decoded by
:mod:`pylapse.metadata.tiff`.
"""

from __future__ import annotations

import io
import math
import os
import re
import struct
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from PIL import ExifTags, Image, UnidentifiedImageError

from pylapse import timeutil
from pylapse.metadata import bmff
from pylapse.metadata.tiff import tags as ifd_tags
from pylapse.metadata.tiff import tiff_order

__all__ = [
    "ExifError",
    "ExifTime",
    "Exposure",
    "FileMeta",
    "exif_bytes",
    "exposure",
    "inspect_time",
    "read_meta",
    "read_time",
]


_DATE = re.compile(
    r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?"
)


class ExifError(ValueError):
    """A file whose EXIF cannot be read; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class ExifTime:
    time: datetime | None  # aware, or None when the file has no usable capture time
    reason: str  # where the time and its offset came from, or why there is none


Source = str | os.PathLike[str] | bytes


def read_time(source: Source, tz: tzinfo) -> datetime | None:
    """The capture time in ``source`` (a path or the file's bytes), or ``None`` if it has none.

    Raises :class:`ExifError` when the file cannot be read.
    """
    return inspect_time(source, tz).time


def inspect_time(source: Source, tz: tzinfo) -> ExifTime:
    """Like :func:`read_time`, with the reason: which tags were used, or why there is no time."""
    name = "<bytes>" if isinstance(source, bytes | bytearray) else os.fspath(source)
    sub = _load_exif(source, name)
    if sub is None:
        return ExifTime(None, "no EXIF data in the file")
    raw = sub.get(ExifTags.Base.DateTimeOriginal)
    if raw is None:
        return ExifTime(None, "no EXIF DateTimeOriginal")
    text = _text(raw)
    if not text.replace(":", "").strip():
        shown = _text(raw, strip=False)
        return ExifTime(None, f"EXIF DateTimeOriginal is blank ({shown!r})")
    match = _DATE.match(text)
    if match is None:
        return ExifTime(None, f"EXIF DateTimeOriginal {text!r} is not a date")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if year == 0 or month == 0 or day == 0:
        return ExifTime(None, f"EXIF DateTimeOriginal {text!r} is all zeros (clock never set)")
    subsec = _text(sub.get(ExifTags.Base.SubsecTimeOriginal, ""))
    fraction = _digits(subsec) or (match.group(7) or "")
    try:
        naive = datetime(  # noqa: DTZ001 - zone attached below from the offset or ``tz``
            year, month, day, hour, minute, second, int(fraction[:6].ljust(6, "0") or 0)
        )
    except ValueError as exc:
        return ExifTime(None, f"EXIF DateTimeOriginal {text!r} is not a date ({exc})")
    offset = _offset(sub)
    if offset is not None:
        zone, tag = offset
        return ExifTime(naive.replace(tzinfo=zone), f"EXIF DateTimeOriginal with {tag}")
    local = timeutil.as_fixed(timeutil.localize(naive, tz))
    return ExifTime(local, "EXIF DateTimeOriginal, local time (no offset)")


def exif_bytes(when: datetime) -> bytes:
    """An EXIF block with DateTimeOriginal, SubSecTimeOriginal and OffsetTimeOriginal for
    ``when`` (aware), ready for ``piexif.insert(exif_bytes(when), jpeg_bytes)``."""
    import piexif  # only the capture path needs it

    if when.tzinfo is None:
        raise ValueError("exif_bytes needs an aware datetime")
    # EXIF offsets are +HH:MM; a sub-minute historical offset rounds to the minute.
    minutes = round(timeutil.offset_seconds(when) / 60)
    offset = timeutil.offset_text(minutes * 60, sep=":")
    exif_ifd = {
        piexif.ExifIFD.DateTimeOriginal: when.strftime("%Y:%m:%d %H:%M:%S").encode(),
        piexif.ExifIFD.OffsetTimeOriginal: offset.encode(),
    }
    if when.microsecond:
        exif_ifd[piexif.ExifIFD.SubSecTimeOriginal] = f"{when.microsecond:06d}".encode()
    ifds = {"0th": {}, "Exif": exif_ifd, "GPS": {}, "1st": {}, "thumbnail": None}
    block: bytes = piexif.dump(ifds)  # piexif has no type information
    return block


# --- helpers ----------------------------------------------------------------------------------


def _text(value: object, *, strip: bool = True) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    text = str(value).replace("\x00", "")
    return text.strip() if strip else text


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _offset(sub: dict[int, object]) -> tuple[tzinfo, str] | None:
    raw = sub.get(ExifTags.Base.OffsetTimeOriginal)
    if raw is not None:
        try:
            return timeutil.parse_offset(_text(raw)), f"OffsetTimeOriginal {_text(raw)}"
        except ValueError:
            pass  # blank or malformed: try the next source
    hours = sub.get(ExifTags.Base.TimeZoneOffset)
    if hours is not None:
        # TIFF/EP: the first value is the offset of DateTime, the second (when present) of
        # DateTimeOriginal; cameras writing one value write the same clock to both.
        values = hours if isinstance(hours, tuple) else (hours,)
        value = values[1] if len(values) > 1 else values[0]
        if isinstance(value, int) and -14 <= value <= 14:
            return timeutil.parse_offset(f"{'-' if value < 0 else '+'}{abs(value):02d}"), (
                f"TimeZoneOffset {value:+d} h"
            )
    return None


def _load_exif(source: Source, name: str) -> dict[int, object] | None:
    """The file's Exif IFD (``None`` without EXIF); :class:`ExifError` if it cannot be read."""
    opener: io.BytesIO | str | os.PathLike[str]
    try:
        if isinstance(source, bytes | bytearray):
            head = bytes(source[:16])
            opener = io.BytesIO(source)
        else:
            with open(source, "rb") as handle:
                head = handle.read(16)
            opener = source
    except OSError as exc:
        raise ExifError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise ExifError(f"{name}: the file is empty")
    if head[4:8] == b"ftyp":  # ISO-BMFF: HEIC/HEIF/AVIF
        return _heif_exif(source, name)
    try:
        with Image.open(opener) as image:
            if image.format in ("JPEG", "MPO") and "exif" not in image.info:
                return None  # no APP1 block (Pillow may still report an XMP orientation)
            exif = image.getexif()  # header only; the sub-IFD is read while the file is open
            return _exif_ifd(exif)
    except UnidentifiedImageError:
        raise ExifError(
            f"{name}: not an image Pillow can open (unknown or damaged header)"
        ) from None
    except Image.DecompressionBombError as exc:
        raise ExifError(f"{name}: refused as too large to open: {exc}") from None
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ExifError(f"{name}: damaged image or EXIF block ({exc})") from None


def _exif_ifd(exif: Image.Exif) -> dict[int, object] | None:
    if not len(exif):
        return None
    return dict(exif.get_ifd(ExifTags.IFD.Exif)) if ExifTags.IFD.Exif in exif else {}


def _heif_exif(source: Source, name: str) -> dict[int, object] | None:
    data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    try:
        payload = bmff.exif_item(data)
    except (struct.error, IndexError, ValueError) as exc:
        raise ExifError(f"{name}: damaged HEIF container ({exc})") from None
    if payload is None:
        return None
    if len(payload) < 4:
        raise ExifError(f"{name}: damaged HEIF Exif item ({len(payload)} bytes)")
    (skip,) = struct.unpack(">I", payload[:4])
    exif = Image.Exif()
    try:
        exif.load(b"Exif\x00\x00" + payload[4 + skip :])
        return _exif_ifd(exif)
    except (OSError, SyntaxError, ValueError, struct.error) as exc:
        raise ExifError(f"{name}: damaged EXIF block in the HEIF file ({exc})") from None


# --- every time tag at once, for pylapse.filetime ---------------------------------------------


@dataclass(frozen=True, slots=True)
class FileMeta:
    """The metadata blocks of one file that carry time, read from its headers only."""

    ifd0: dict[int, object]  # IFD0 (Make, Model, DateTime = ModifyDate, TIFF/EP tags)
    exif: dict[int, object]  # the Exif IFD (DateTimeOriginal, OffsetTime*, SubSec*, MakerNote)
    gps: dict[int, object]  # the GPS IFD
    tiff: bytes  # the TIFF block the IFDs came from (maker-note offsets point into it)
    xmp: bytes  # the XMP packet, or b""


_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_TIFF_HEAD = 1 << 20  # maker notes sit near the start of TIFF-based raw files; headers only


def read_meta(path: str | os.PathLike[str]) -> FileMeta | None:
    """The time-bearing metadata of the file at ``path``, or ``None`` when it has none.

    JPEG is walked segment by segment up to the image data (so a file Pillow refuses, for
    example with a zero height, still gives its EXIF); TIFF/DNG through Pillow's lazy header
    read; HEIC through the box reader. Raises :class:`ExifError` when the file cannot be read.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
            if head[:2] == b"\xff\xd8":
                handle.seek(2)
                tiff, xmp = _jpeg_segments(handle)
                return _meta(tiff, xmp, name) if tiff or xmp else None
    except OSError as exc:
        raise ExifError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    except (struct.error, ValueError) as exc:
        raise ExifError(f"{name}: damaged JPEG header ({exc})") from None
    if not head:
        raise ExifError(f"{name}: the file is empty")
    if head[4:8] == b"ftyp":
        return _heif_meta(path, name)
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        with open(path, "rb") as handle:
            block = handle.read(_TIFF_HEAD)
        meta = _meta(block, b"", name)
        packet = meta.ifd0.get(700)  # TIFF/DNG keep their XMP packet in tag 700
        return FileMeta(meta.ifd0, meta.exif, meta.gps, block, _bytes(packet)) if packet else meta
    return None  # PNG/WebP and others: no time evidence is read from them here


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, tuple):  # Pillow may give an undefined-type tag as a tuple of ints
        return bytes(v for v in value if isinstance(v, int) and 0 <= v < 256)
    return str(value).encode("utf-8", "replace")


def _jpeg_segments(handle: io.BufferedReader) -> tuple[bytes, bytes]:
    """The EXIF TIFF block and the XMP packet of a JPEG, reading markers up to the scan data."""
    tiff = xmp = b""
    while True:
        marker = handle.read(2)
        while marker[:1] == b"\xff" and marker[1:] == b"\xff":  # fill bytes before a marker
            marker = b"\xff" + handle.read(1)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):
            return tiff, xmp  # end of image, start of scan, or not a marker: headers are over
        if 0xD0 <= marker[1] <= 0xD7 or marker[1] == 0x01:
            continue  # markers without a length
        (length,) = struct.unpack(">H", handle.read(2))
        body = handle.read(length - 2)
        if marker[1] == 0xE1 and body[:6] == b"Exif\x00\x00" and not tiff:
            tiff = body[6:]
        elif marker[1] == 0xE1 and body.startswith(_XMP_APP1) and not xmp:
            xmp = body[len(_XMP_APP1) :]


def _meta(tiff: bytes, xmp: bytes, name: str) -> FileMeta:
    if not tiff:
        return FileMeta({}, {}, {}, b"", xmp)
    try:
        order = tiff_order(tiff)
        ifd0 = ifd_tags(tiff, struct.unpack_from(order + "I", tiff, 4)[0], order, _IFD0_TAGS)
        sub = gps = {}
        pointer = ifd0.get(ExifTags.IFD.Exif)
        if isinstance(pointer, int):
            sub = ifd_tags(tiff, pointer, order, _EXIF_TAGS)
        pointer = ifd0.get(ExifTags.IFD.GPSInfo)
        if isinstance(pointer, int):
            gps = ifd_tags(tiff, pointer, order, _GPS_TAGS)
    except (ValueError, struct.error) as exc:
        raise ExifError(f"{name}: damaged EXIF block ({exc})") from None
    return FileMeta(ifd0, sub, gps, tiff, xmp)


# Only the tags time evidence needs are decoded (Pillow's full decode of a camera's hundred tags
# costs ten times more): IFD0 Make, DateTime, XMP, the Exif and GPS pointers, TimeZoneOffset;
# the Exif IFD's dates, offsets, sub-seconds, TimeZoneOffset and MakerNote; GPS position and fix.
_IFD0_TAGS = frozenset({0x010F, 0x0132, 700, 0x8769, 0x8825, 0x882A})
_EXIF_TAGS = frozenset(
    {0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292, 0x882A, 0x927C}
)
_GPS_TAGS = frozenset({1, 2, 3, 4, 7, 29})


_HEIF_HEAD = 1 << 16  # ftyp and meta come first; the items are fetched by their offsets


def _heif_meta(path: str | os.PathLike[str], name: str) -> FileMeta | None:
    """The Exif and XMP items of a HEIF file, reading its ``meta`` box and those items only."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEIF_HEAD)
            meta = bmff.top_box(head, b"meta")
            if meta is not None and meta[1] > len(head):  # a large meta box: read all of it
                handle.seek(0)
                head = handle.read(meta[1])
            if meta is None:
                return None
            children = {k: (s, e) for k, s, e in bmff.boxes(head, meta[0] + 4, meta[1])}
            if b"iinf" not in children or b"iloc" not in children:
                return None
            ids = bmff.item_ids(head, *children[b"iinf"])
            labels = {b"Exif": "Exif", b"mime": "XMP"}
            wanted = {ids[kind]: label for kind, label in labels.items() if kind in ids}
            spans = bmff.item_extents(head, *children[b"iloc"], wanted) if wanted else {}
            items = {
                kind: bmff.read_spans(handle, spans[ids[kind]])
                for kind in labels
                if kind in ids and ids[kind] in spans
            }
    except OSError as exc:
        raise ExifError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    except (struct.error, IndexError, ValueError) as exc:
        raise ExifError(f"{name}: damaged HEIF container ({exc})") from None
    payload = items.get(b"Exif", b"")
    tiff = b""
    if len(payload) >= 4:
        (skip,) = struct.unpack(">I", payload[:4])
        tiff = payload[4 + skip :]
    xmp = items.get(b"mime", b"")
    return _meta(tiff, xmp, name) if tiff or xmp else None


# --- exposure, for the sky metrics (issue 18) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exposure:
    """A frame's exposure as its EXIF states it; ``None`` where the file does not say."""

    time: float | None  # seconds (ExposureTime)
    f_number: float | None  # FNumber
    iso: float | None  # PhotographicSensitivity (ISOSpeedRatings)


_EXPOSURE_TIME, _F_NUMBER, _ISO = 0x829A, 0x829D, 0x8827


def exposure(image: Image.Image) -> Exposure:
    """The exposure time, f-number and ISO of an opened image, from its EXIF header (no pixel
    is read); all ``None`` without EXIF. A damaged block gives ``None`` rather than an error:
    these are measurements to store, not evidence to check."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif) if ExifTags.IFD.Exif in exif else {}
    except (OSError, SyntaxError, ValueError, struct.error):
        return Exposure(None, None, None)
    return Exposure(_number(sub.get(_EXPOSURE_TIME)), _number(sub.get(_F_NUMBER)),
                    _number(sub.get(_ISO)))


def _number(value: object) -> float | None:
    if isinstance(value, tuple | list):  # ISO may be a list (several sensitivities)
        value = value[0] if value else None
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int, str or junk
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) and number > 0 else None
