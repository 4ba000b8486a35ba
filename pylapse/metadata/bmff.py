"""ISO base media file format (ISO-BMFF) boxes: the Exif and XMP items of a HEIC/HEIF/AVIF file.

A HEIF file is a tree of boxes (size, four-letter type, payload). Its metadata are items: the
``meta`` box lists them in ``iinf`` (id and type; XMP is a ``mime`` item of type
``application/rdf+xml``) and says where their bytes lie in ``iloc`` (extents by file offset).
This small reader finds those items so that :mod:`pylapse.exif` needs no extra library for
HEIC. Damaged structures raise ``ValueError``, ``IndexError`` or ``struct.error``; callers turn
them into their own errors.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator

__all__ = ["boxes", "exif_item", "item_extents", "item_ids", "read_spans", "top_box"]


def boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes in ``data[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"box {kind!r} at {pos} overruns its container")
        yield kind, pos + header, pos + size
        pos += size


def _uint(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos : pos + size], "big") if size else 0


def exif_item(data: bytes) -> bytes | None:
    """The bytes of the item of type ``Exif`` in a HEIF file's ``meta`` box, if any."""
    meta = next(((s, e) for k, s, e in boxes(data, 0, len(data)) if k == b"meta"), None)
    if meta is None:
        return None
    children = {k: (s, e) for k, s, e in boxes(data, meta[0] + 4, meta[1])}  # meta is a FullBox
    if b"iinf" not in children or b"iloc" not in children:
        return None
    exif_id = item_ids(data, *children[b"iinf"]).get(b"Exif")
    if exif_id is None:
        return None
    extents = item_extents(data, *children[b"iloc"], {exif_id: "Exif"}).get(exif_id)
    if extents is None:
        return None
    return b"".join(data[offset : offset + length] for offset, length in extents)


def item_ids(data: bytes, start: int, end: int) -> dict[bytes, int]:
    """Item type -> the first item of that type in an ``iinf`` box; ``mime`` only for XMP."""
    version = data[start]
    first = start + 4 + (2 if version == 0 else 4)
    found: dict[bytes, int] = {}
    for kind, s, e in boxes(data, first, end):
        if kind != b"infe" or data[s] < 2:
            continue
        id_size = 2 if data[s] == 2 else 4
        item_id = _uint(data, s + 4, id_size)
        at = s + 4 + id_size + 2
        item_type = data[at : at + 4]
        if item_type == b"mime":
            name_end = data.index(b"\x00", at + 4, e)
            content = data[name_end + 1 : e].split(b"\x00", 1)[0]
            if content != b"application/rdf+xml":
                continue
        found.setdefault(item_type, item_id)
    return found


def item_extents(
    data: bytes, start: int, end: int, wanted: dict[int, str]
) -> dict[int, list[tuple[int, int]]]:
    """(file offset, length) of each extent of the ``wanted`` items (id -> label for errors)
    in an ``iloc`` box, in one pass that stops once all are found."""
    version = data[start]
    pos = start + 4
    offset_size, length_size = data[pos] >> 4, data[pos] & 15
    base_size, index_size = data[pos + 1] >> 4, (data[pos + 1] & 15 if version in (1, 2) else 0)
    pos += 2
    count_size = 2 if version < 2 else 4
    count = _uint(data, pos, count_size)
    pos += count_size
    extent_size = index_size + offset_size + length_size
    found: dict[int, list[tuple[int, int]]] = {}
    for _ in range(count):
        item_id = _uint(data, pos, count_size)
        pos += count_size
        method = 0
        if version in (1, 2):
            method = _uint(data, pos, 2) & 15
            pos += 2
        pos += 2  # data_reference_index
        base = _uint(data, pos, base_size)
        pos += base_size
        extents = _uint(data, pos, 2)
        pos += 2
        if item_id not in wanted:
            pos += extents * extent_size  # skip the image tiles' extents unread
            continue
        if method != 0:
            raise ValueError(f"{wanted[item_id]} item stored by construction method {method}")
        spans = []
        for _ in range(extents):
            pos += index_size
            offset = _uint(data, pos, offset_size)
            pos += offset_size
            length = _uint(data, pos, length_size)
            pos += length_size
            spans.append((base + offset, length))
        found[item_id] = spans
        if len(found) == len(wanted):
            break
    return found


def top_box(head: bytes, wanted: bytes) -> tuple[int, int] | None:
    """(payload start, end) of the first top-level box ``wanted``; the end may lie past ``head``."""
    pos = 0
    while pos + 8 <= len(head):
        size, kind = struct.unpack_from(">I4s", head, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", head, pos + 8)
            header = 16
        if size < header and size != 0:
            raise ValueError(f"box {kind!r} at {pos} has size {size}")
        if kind == wanted:
            return pos + header, (pos + size if size else len(head))
        if size == 0:
            return None
        pos += size
    return None


def read_spans(handle: io.BufferedReader, spans: list[tuple[int, int]]) -> bytes:
    """The bytes of an item's extents, read from the open file in turn."""
    chunks = []
    for offset, length in spans:
        if length > 1 << 24:  # metadata items are kilobytes; this is not one
            raise ValueError(f"item extent of {length} bytes")
        handle.seek(offset)
        chunk = handle.read(length)
        if len(chunk) != length:
            raise ValueError(f"item extent at {offset} runs past the end of the file")
        chunks.append(chunk)
    return b"".join(chunks)
