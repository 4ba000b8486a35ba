"""JPEG frames exported at their own size: decoded and encoded by libjpeg-turbo directly.

A 1080p frame exported to 1080p with a timestamp is only decoded, stamped and encoded: no resize.
Measured per frame on one core of the reference machine (1920x1080 camera-like JPEGs, q90 out),
Pillow's decode takes ~7.5 ms and its encode ~5.6 ms; the same libjpeg-turbo through its
TurboJPEG API (``simplejpeg``, whose wheels bundle it) takes ~2 ms less per frame, because the
file is read in one piece, the pixels stay in one buffer from decode to encode (the stamp is
drawn by Pillow on a view of that buffer) and the chroma is upsampled by replication
("fast upsampling"). That last one is also the more faithful choice here: a 4:2:0 frame
re-encoded at 4:2:0 gets its chroma back exactly where replicated samples are averaged again,
where Pillow's smoothing upsampler blurs it a little each pass (PSNR against the source
picture: ~46 dB mean, 44.6 dB worst, against Pillow's ~45 and 41.4 on the benchmark frames).

A 4:2:0 frame (what cameras and Pillow write) of even size goes further where the system's
libturbojpeg is installed: it is decoded to its planes (:mod:`pylapse.imaging.turbo`), stamped
on them (:mod:`pylapse.imaging.planes`) and encoded from them, so it never becomes RGB: ~1 ms
less a frame (~10 %), nearly all of it in the encoder, and the source's chroma is written back
exactly outside the stamp. Other frames, and every frame without that library, take the RGBX
way above.

Tried and measured, not used: re-encoding only the MCU rows under the stamp and copying the rest
of the entropy-coded data needs the bit position where those rows start, which only a Huffman
decode of everything above them gives; ``jpegtran -crop``/``-drop`` (libjpeg-turbo-progs) spend
~11 ms of CPU a call doing that plus a full re-encode, more than a decode and encode; ``jpeglib``
(PyPI) reads and writes DCT coefficients in ~26 and ~30 ms. There is no library here that hands
out the bit positions, so a whole-frame decode and encode it is. Nor does staying in the DCT
domain pay (measured 2026-12-07, quiet machine, the benchmark's 1080p q92 frames): libturbojpeg's
``tjTransform`` re-Huffman-codes a frame with its coefficients untouched in 7.7 ms (8.1 ms with
the per-block-row ``customFilter`` callback through which a stamp and a requantisation to the
export's q90 tables would be applied), and requantising the ~3.1 M coefficients in numpy takes
2.0-2.4 ms more: ~9.6-10.3 ms against 10.1-11.2 for decoding to planes and encoding (12.9 in
RGBX) in the same runs, 5-14 % for a stamp drawn through an inverse and forward DCT of its own.
The Huffman decoding and encoding both ways share is the floor.

:func:`open_frame` takes only the plain case, decided from the file's header before any pixel is
decoded: an 8-bit, three-component JPEG whose EXIF orientation is upright (or absent; nor turned
by XMP) and whose size is already the export's size. Anything else, and any error or warning
libjpeg reports (a truncated file, say), returns None and the caller goes the Pillow way, which
words its errors the same for every frame. Without simplejpeg everything goes through Pillow.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image

from pylapse.imaging import decode, process, turbo
from pylapse.imaging.planes import Planes

__all__ = ["SameSizeFrame", "available", "encode", "open_frame"]

_HEAD_BYTES = 1 << 17  # the markers before the frame header: an EXIF segment is at most 64 KiB
_EXIF_HEADER = b"Exif\x00\x00"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"

_lock = threading.Lock()
_state: list[Any] = []  # [the simplejpeg module, or None when it cannot be used], once tried


def _simplejpeg() -> Any:
    with _lock:
        if not _state:
            try:
                import simplejpeg  # type: ignore[import-untyped]  # no stubs
            except ImportError:  # not installed (no wheel for this platform)
                _state.append(None)
            else:
                _state.append(simplejpeg)
        return _state[0]


def available() -> bool:
    """Whether frames can go through libjpeg-turbo directly in this process."""
    return _simplejpeg() is not None


@dataclass(slots=True)
class SameSizeFrame:
    """A decoded frame: ``image`` is an RGBX Pillow view of ``pixels``, or the
    :class:`~pylapse.imaging.planes.Planes` of a 4:2:0 frame decoded to its planes (drawing
    on it draws on the pixels :func:`encode` writes), and ``exif`` the frame's EXIF, as Pillow
    reads it."""

    pixels: Any  # numpy uint8 array, height x width x 4; or the (Y, Cb, Cr) plane arrays
    image: Image.Image | Planes
    exif: Image.Exif


@dataclass(frozen=True, slots=True)
class _Header:
    size: tuple[int, int]
    components: int
    precision: int
    exif: bytes | None  # the first APP1 Exif payload, with its "Exif\0\0" header
    xmp_orientation: bool  # an XMP packet that names an orientation (Pillow would obey it)


def _header(data: bytes) -> _Header | None:
    """The JPEG's frame header and metadata segments, or None when they are not all within
    ``data`` or the file is not a Huffman-coded JPEG."""
    if not data.startswith(b"\xff\xd8"):
        return None
    exif: bytes | None = None
    xmp_orientation = False
    for marker, at, length in decode.jpeg_segments(data):
        if length < 0 or at + length > len(data):
            return None
        body = data[at : at + length]
        if marker == 0xE1:
            if body.startswith(_EXIF_HEADER) and exif is None:
                exif = body
            elif body.startswith(_XMP_HEADER) and b"Orientation" in body:
                xmp_orientation = True
        elif marker in decode.HUFFMAN_FRAMES:
            if len(body) < 6:
                return None
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            return _Header((width, height), body[5], body[0], exif, xmp_orientation)
        elif marker in (0xDA, 0xD9):
            return None  # a scan, or the end, before any frame header
        elif 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return None  # lossless or arithmetic-coded
    return None


def _read_head(path: str) -> tuple[bytes, int] | None:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return handle.read(_HEAD_BYTES), size
    except OSError:
        return None  # Pillow's open words it (not found, unreadable)


def open_frame(
    path: str | os.PathLike[str], resize: process.Resize | None, *, planes: bool = False
) -> SameSizeFrame | None:
    """The JPEG at ``path`` decoded for stamping when ``resize`` keeps it at its size and it
    needs no turning or colour conversion; None otherwise (and for any decode error). With
    ``planes`` (the caller draws only what :class:`Planes` can), a 4:2:0 frame is decoded to
    its planes where :mod:`pylapse.imaging.turbo` can."""
    simplejpeg = _simplejpeg()
    name = os.fspath(path)
    head = _read_head(name) if simplejpeg is not None else None
    if head is None:
        return None
    data, file_size = head
    header = _header(data)
    if (
        header is None
        or header.components != 3
        or header.precision != 8
        or header.xmp_orientation
        or not all(header.size)  # height 0: given later by a DNL marker
        # Pillow's decompression-bomb guard words what becomes of such a frame
        or header.size[0] * header.size[1] > (Image.MAX_IMAGE_PIXELS or float("inf"))
        or process.target_size(header.size, resize) != header.size
    ):
        return None
    exif = Image.Exif()
    if header.exif is not None:
        try:
            exif.load(header.exif)
        except (OSError, SyntaxError, ValueError, KeyError, IndexError, TypeError):
            return None  # Pillow's way decides what such a frame becomes
    if exif.get(ExifTags.Base.Orientation, 1) != 1:
        return None  # turned upright by Pillow's way
    try:
        if file_size > len(data):
            data = Path(name).read_bytes()
        decoded = turbo.decode_planes(data, header.size) if planes else None
        if decoded is not None:
            return SameSizeFrame(decoded, Planes(*decoded, header.size), exif)
        # strict: a warning (truncated, corrupt data) is an error, so such frames take Pillow's
        # way and are skipped or written as they were before
        pixels = simplejpeg.decode_jpeg(data, colorspace="RGBX", fastupsample=True, strict=True)
    except (OSError, ValueError):
        return None
    height, width = pixels.shape[:2]
    if (width, height) != header.size:
        return None
    image = Image.frombuffer("RGBX", (width, height), pixels, "raw", "RGBX", 0, 1)
    # frombuffer marks the view read-only, and Pillow would copy it on the first paste: the
    # stamp must land in ``pixels``, which is what gets encoded
    image.readonly = 0
    return SameSizeFrame(pixels, image, exif)


def encode(
    frame: SameSizeFrame, target: str | os.PathLike[str], *, quality: int, exif: bytes | None
) -> None:
    """Write ``frame`` as a baseline 4:2:0 JPEG at ``quality`` (the tables, DCT and sampling
    Pillow's JPEG save uses), with ``exif`` (from :func:`process.exif_bytes_for`) in APP1."""
    simplejpeg = _simplejpeg()
    if simplejpeg is None:
        raise RuntimeError("simplejpeg is not installed; frames must go through Pillow")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1-100, got {quality}")
    data: bytes
    if isinstance(frame.image, Planes):
        # the planes as decoded: no conversion to or from RGB, the source's chroma kept
        data = simplejpeg.encode_jpeg_yuv_planes(*frame.pixels, quality=quality)
    else:
        data = simplejpeg.encode_jpeg(
            frame.pixels, quality=quality, colorspace="RGBX", colorsubsampling="420"
        )
    with open(target, "wb") as handle:
        if exif:
            # after SOI and the JFIF APP0 segment, where Pillow's save puts it
            split = 2
            if data[2:4] == b"\xff\xe0":
                split = 4 + int.from_bytes(data[4:6], "big")
            handle.write(data[:split])
            handle.write(b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif)
            handle.write(data[split:])
        else:
            handle.write(data)
