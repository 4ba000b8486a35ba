"""Checking that bytes are one complete JPEG or PNG before they become a frame."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageFile

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class InvalidImage(ValueError):
    """Bytes that are not one complete image."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    image: Image.Image  # fully decoded, so callers can compute metrics without decoding again


_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: the last 8 bytes of every PNG
_EOI = b"\xff\xd9"
# Huffman-coded, sequential frames (baseline, extended): decoded top to bottom
_SEQUENTIAL_SOF = (0xC0, 0xC1)
# Stands in for the end-of-image marker when checking a sequential JPEG: 16 bytes of 1-bits
# (FF 00 is a stuffed FF). They cover the decoder's read-ahead (at most 57 bits) after the last
# MCU; and as all-ones is never a Huffman code, they cannot be decoded into a missing MCU.
_RUN_OUT = b"\xff\x00" * 16
# Decodes as compressed data (no FF: no marker), for the second check below.
_FILLER = bytes((i * 73 + 41) % 255 for i in range(64))


def validate_image(data: bytes) -> ImageInfo:
    """Check that ``data`` is one complete JPEG or PNG and decode it.

    Refuses empty bodies, HTML error pages, other formats and truncated files, with a reason,
    including a JPEG cut inside its image data and then closed with an end-of-image marker
    (see :func:`_decode_jpeg`).
    """
    if not data:
        raise InvalidImage("empty response (0 bytes)")
    kind = next((fmt for sig, fmt in _SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        head = data[:64].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<?xml", b"{", b"<")):
            raise InvalidImage(f"got a text/HTML page instead of an image ({len(data)} bytes)")
        raise InvalidImage(f"not a JPEG or PNG image (starts with {data[:8]!r})")
    if kind == "JPEG" and not data.rstrip(b"\x00\r\n ").endswith(_EOI):
        raise InvalidImage(f"truncated JPEG: no end-of-image marker ({len(data)} bytes)")
    if kind == "PNG" and not data.endswith(_PNG_END):
        raise InvalidImage(f"truncated PNG: no IEND chunk at the end ({len(data)} bytes)")
    try:
        image = _decode_jpeg(data) if kind == "JPEG" else _decode(data)
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage(f"undecodable {kind}: {exc}") from None
    return ImageInfo(kind, image.width, image.height, image)


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _decode_jpeg(data: bytes) -> Image.Image:
    """The decoded JPEG, refusing one whose compressed data ends before its last MCU.

    libjpeg meets such an end as a marker inside the scan, warns ("premature end of data
    segment"), fills every missing block with zeros (grey) and finishes as if all were well;
    Pillow discards its warnings. So the check uses what libjpeg does when data simply runs out:
    it suspends, and Pillow reports a truncated file.

    * Sequential (nearly every camera): the end-of-image marker is replaced by :data:`_RUN_OUT`.
      A complete one-scan image is drawn in full before the decoder needs the marker (no extra
      cost: this is the decode whose picture is used); a cut one runs out of data.
    * Progressive (or a sequential file that ran out: cut, or in several scans, when the decoder
      waits for the marker before drawing): the image is decoded as sent and once more with
      :data:`_FILLER` before the marker. After the last scan the filler is skipped as junk and
      the two pictures are equal; inside a cut scan it is decoded as picture data.
    """
    # the end-of-image marker validate_image found (a second image after the first one, as
    # in MPO files, keeps the first one's marker: then only the last image is checked)
    end = len(data.rstrip(b"\x00\r\n ")) - len(_EOI)
    if _frame_marker(data) in _SEQUENTIAL_SOF and not ImageFile.LOAD_TRUNCATED_IMAGES:
        try:
            return _decode(data[:end] + _RUN_OUT)
        except OSError as exc:
            if "truncated" not in str(exc):
                raise
    image = _decode(data)
    if _decode(data[:end] + _FILLER + data[end:]).tobytes() != image.tobytes():
        raise InvalidImage(
            "truncated JPEG: the image data ends early, though the file ends with an "
            f"end-of-image marker; its lower part would be grey ({len(data):,} bytes)"
        )
    return image


def _frame_marker(data: bytes) -> int | None:
    """The JPEG's start-of-frame marker (0xC0 baseline, 0xC2 progressive, ...) from a walk over
    its header segments, or None when they cannot be walked."""
    pos, size = 2, len(data)
    while pos + 4 <= size and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
        elif marker == 0xDA:  # the image data starts: no frame header before it
            return None
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return marker
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None
