"""TIFF image file directories (IFDs), read straight from the bytes of a TIFF block.

The EXIF block of a JPEG, a TIFF/DNG file's head and the maker notes inside them are all TIFF
structures: a byte-order mark, then IFDs of 12-byte entries (tag, type, count, value or offset).
:mod:`pylapse.exif` decodes the few time tags it needs with :func:`tags` (Pillow's full decode of
a camera's hundred tags costs ten times more); :mod:`pylapse.makernote` walks vendor notes with
:func:`ifd_entries` and :func:`value_position`. Damaged structures raise ``ValueError`` or
``struct.error``; callers turn them into their own errors.
"""

from __future__ import annotations

import math
import struct

__all__ = ["TIFF_TYPE_SIZES", "ifd_entries", "tags", "tiff_order", "value_position"]

TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_NUMBERS = {3: "H", 4: "I", 8: "h", 9: "i", 13: "I"}


def tiff_order(tiff: bytes) -> str:
    """The struct byte order of a TIFF block from its ``II``/``MM`` mark."""
    if tiff[:2] == b"II":
        return "<"
    if tiff[:2] == b"MM":
        return ">"
    raise ValueError("not a TIFF block (no II/MM byte order mark)")


def ifd_entries(data: bytes, offset: int, order: str) -> dict[int, tuple[int, int, int]]:
    """The IFD at ``offset`` of ``data``: tag -> (type, count, position of its 4-byte field)."""
    (count,) = struct.unpack_from(order + "H", data, offset)
    if count > 1000:  # real IFDs hold tens of entries: this offset points elsewhere
        raise ValueError(f"implausible IFD entry count {count} at {offset}")
    out = {}
    for index in range(count):
        entry = offset + 2 + 12 * index
        tag, kind, items = struct.unpack_from(order + "HHI", data, entry)
        out[tag] = (kind, items, entry + 8)
    return out


def value_position(data: bytes, entry: tuple[int, int, int], order: str, base: int = 0) -> int:
    """Where an IFD entry's value starts: in its field when it fits in 4 bytes, else by offset."""
    kind, items, field = entry
    if TIFF_TYPE_SIZES.get(kind, 1) * items <= 4:
        return field
    pointer: int = struct.unpack_from(order + "I", data, field)[0]
    return base + pointer


def tags(tiff: bytes, offset: int, order: str, wanted: frozenset[int]) -> dict[int, object]:
    """The ``wanted`` tags of one IFD, decoded as Pillow would (scalars for single values)."""
    out: dict[int, object] = {}
    for tag, entry in ifd_entries(tiff, offset, order).items():
        if tag not in wanted:
            continue
        kind, items, _field = entry
        start = value_position(tiff, entry, order)
        size = TIFF_TYPE_SIZES.get(kind, 1) * items
        raw = tiff[start : start + size]
        if len(raw) < size:
            continue  # the value lies outside the block: a damaged entry is simply absent
        value: object
        if kind == 2:
            value = (
                raw.split(b"\x00", 1)[0].decode("latin-1")
                if raw.endswith(b"\x00")
                else (raw.decode("latin-1"))
            )
        elif kind in _NUMBERS:
            numbers = struct.unpack_from(f"{order}{items}{_NUMBERS[kind]}", raw)
            value = numbers[0] if items == 1 else numbers
        elif kind in (5, 10):
            pairs = struct.unpack_from(f"{order}{2 * items}{'I' if kind == 5 else 'i'}", raw)
            ratios = tuple(
                n / d if d else math.nan for n, d in zip(pairs[::2], pairs[1::2], strict=True)
            )
            value = ratios[0] if items == 1 else ratios
        else:
            value = raw  # BYTE/UNDEFINED: the bytes themselves (MakerNote, XMP)
        out[tag] = value
    return out
