"""Opening frames of every kind the index takes: what Pillow reads, HEIC/HEIF and DNG.

* HEIC/HEIF (phones) is decoded by pillow-heif, whose opener is registered with Pillow on the
  first open, so ``import pylapse`` does not load libheif.
* A DNG opened by Pillow is its first IFD: a thumbnail of about 256 px. Cameras also embed
  larger JPEG previews, in SubIFDs, in ``JPEGInterchangeFormat`` or in the maker note (a
  Nikon's ``PreviewIFD``, with offsets relative to the maker note), so rather than follow every
  vendor's layout, :func:`open_image` takes the largest baseline JPEG stored anywhere in the
  file (raw tiles are lossless JPEGs of 12-16 bits and are passed over). Only a DNG with no
  JPEG at all is decoded from its raw data, by rawpy when it is installed (``pip install
  pylapse[raw]``). The DNG's own EXIF (time, orientation) stays with the picture.
"""

from __future__ import annotations

import io
import mmap
import os
import threading
from collections.abc import Iterator
from typing import BinaryIO

from PIL import ExifTags, Image

__all__ = [
    "DNG_VERSION_TAG",
    "HEIF_FORMATS",
    "HUFFMAN_FRAMES",
    "jpeg_segments",
    "open_image",
    "register_heif",
]

DNG_VERSION_TAG = 50706  # DNGVersion, in IFD0 of every DNG
HEIF_FORMATS = ("HEIF", "AVIF")
_SOI = b"\xff\xd8\xff"
#: SOF markers of the Huffman-coded 8-bit JPEGs Pillow and libjpeg decode (baseline, extended,
#: progressive)
HUFFMAN_FRAMES = (0xC0, 0xC1, 0xC2)
_MAX_CANDIDATES = 4096  # JPEG starts looked at in one file (a tiled raw has hundreds)

# IFD0 tags worth keeping from a DNG (the rest describe its raw data and colour tables)
_KEPT_BASE = (
    ExifTags.Base.Make,
    ExifTags.Base.Model,
    ExifTags.Base.Orientation,
    ExifTags.Base.DateTime,
    ExifTags.Base.Software,
    ExifTags.Base.Artist,
    ExifTags.Base.Copyright,
    ExifTags.Base.ImageDescription,
)

_heif_lock = threading.Lock()
_heif_state: list[bool] = []  # [registered?] once tried


def register_heif() -> bool:
    """Let Pillow open HEIC/HEIF files (once per process); False when pillow-heif is missing."""
    with _heif_lock:
        if not _heif_state:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:
                _heif_state.append(False)
            else:
                register_heif_opener()
                _heif_state.append(True)
        return _heif_state[0]


def open_image(source: str | os.PathLike[str] | bytes | BinaryIO) -> Image.Image:
    """``Image.open`` for frames: HEIC through pillow-heif, a DNG as its largest embedded
    preview (or its raw data when it has none). Raises what ``Image.open`` raises."""
    register_heif()
    stream: BinaryIO | str | os.PathLike[str] = (
        io.BytesIO(source) if isinstance(source, bytes) else source
    )
    image = Image.open(stream)
    if image.format != "TIFF" or DNG_VERSION_TAG not in getattr(image, "tag_v2", {}):
        return image
    exif = image.getexif()
    subs = {ifd: dict(exif.get_ifd(ifd)) for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)}
    data = _read_all(stream)
    better = _largest_preview(data, image.size) or _raw_decode(data)
    if better is None:
        return image  # the first IFD's thumbnail: small, but a picture
    image.close()
    # The DNG's camera, time and orientation go with the preview (its own APP1, if any, is the
    # camera's guess for a JPEG that nobody sees). Rebuilt from bytes so get_ifd() works on it.
    kept = Image.Exif()
    for tag in _KEPT_BASE:
        if tag in exif:
            kept[tag] = exif[tag]
    for ifd, sub in subs.items():
        if sub:
            kept[ifd] = sub
    better.getexif().load(kept.tobytes())
    return better


def _read_all(stream: BinaryIO | str | os.PathLike[str]) -> bytes | mmap.mmap:
    if isinstance(stream, str | os.PathLike):
        with open(stream, "rb") as handle:
            return _map(handle)
    stream.seek(0)
    if isinstance(stream, io.BytesIO):
        return stream.getvalue()
    try:
        return _map(stream)
    except (OSError, ValueError, io.UnsupportedOperation):
        stream.seek(0)
        return stream.read()


def _map(handle: BinaryIO) -> mmap.mmap:
    """The file's bytes without reading a 50 MB raw into memory."""
    return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def _largest_preview(data: bytes | mmap.mmap, smaller_than: tuple[int, int]) -> Image.Image | None:
    """The largest 8-bit colour JPEG in ``data`` bigger than ``smaller_than`` (the thumbnail)."""
    best: tuple[int, int] | None = None  # (area, offset)
    start = data.find(_SOI)
    for _ in range(_MAX_CANDIDATES):
        if start < 0:
            break
        size = _jpeg_size(data, start)
        if size is not None:
            area = size[0] * size[1]
            if area > smaller_than[0] * smaller_than[1] and (best is None or area > best[0]):
                best = (area, start)
        start = data.find(_SOI, start + len(_SOI))
    if best is None:
        return None
    try:
        # not loaded here: the caller may draft() it down to the size it needs first
        return Image.open(io.BytesIO(data[best[1] :]))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def jpeg_segments(data: bytes | mmap.mmap, start: int = 0) -> Iterator[tuple[int, int, int]]:
    """(marker, offset of its payload, payload length) of each marker segment of the JPEG whose
    SOI is at ``start``, in order; ends at the first byte that is not a marker (scan data, or
    garbage) and after a segment whose length field is impossible (its length is then < 0)."""
    pos = start + 2
    end = len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos + 4, length - 2
        if length < 2:
            return
        pos += 2 + length


def _jpeg_size(data: bytes | mmap.mmap, start: int) -> tuple[int, int] | None:
    """(width, height) of a baseline or progressive 8-bit, 1- or 3-component JPEG starting at
    ``start``, read from its frame header; None for anything else (raw tiles, stray bytes)."""
    for marker, body, length in jpeg_segments(data, start):
        if marker in HUFFMAN_FRAMES:  # what Pillow decodes
            if body + 6 > len(data):
                return None
            precision = data[body]
            height = int.from_bytes(data[body + 1 : body + 3], "big")
            width = int.from_bytes(data[body + 3 : body + 5], "big")
            components = data[body + 5]
            ok = precision == 8 and components in (1, 3) and width and height
            return (width, height) if ok else None
        if 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return None  # lossless / arithmetic-coded: raw data, not a preview
        if marker == 0xDA or length < 0:  # scan data before any frame header
            return None
    return None


def _raw_decode(data: bytes | mmap.mmap) -> Image.Image | None:
    """The raw data demosaiced by rawpy (LibRaw), when installed and able to; else None."""
    try:
        import rawpy
    except ImportError:
        return None
    try:
        with rawpy.imread(io.BytesIO(bytes(data))) as raw:
            rgb = raw.postprocess(use_camera_wb=True, output_bps=8)
    except (rawpy.LibRawError, OSError, ValueError):
        return None
    return Image.fromarray(rgb)
