"""pylapse.bmff: the Exif and XMP items of hand-built HEIF box trees."""

from __future__ import annotations

import io
import struct

import pytest

from pylapse.metadata import bmff


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _infe(item_id: int, kind: bytes, extra: bytes = b"") -> bytes:
    return _box(b"infe", bytes([2, 0, 0, 0]) + struct.pack(">HH", item_id, 0) + kind + extra)


def _heif(exif: bytes, xmp: bytes) -> bytes:
    """ftyp, meta (iinf: an image, Exif, XMP; iloc: version 0, 4-byte offsets and lengths),
    mdat with the two items' bytes; offsets are absolute, so the layout is fixed first."""
    ftyp = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    iinf = _box(
        b"iinf",
        b"\x00\x00\x00\x00"
        + struct.pack(">H", 3)
        + _infe(1, b"hvc1", b"\x00")
        + _infe(2, b"Exif", b"\x00")
        + _infe(3, b"mime", b"\x00application/rdf+xml\x00"),
    )

    def iloc(start: int) -> bytes:
        rows = [(1, start, 0), (2, start, len(exif)), (3, start + len(exif), len(xmp))]
        body = b"\x00\x00\x00\x00" + bytes([0x44, 0x00]) + struct.pack(">H", len(rows))
        for item_id, offset, length in rows:
            body += struct.pack(">HHHII", item_id, 0, 1, offset, length)
        return _box(b"iloc", body)

    meta_len = 8 + 4 + len(iinf) + len(iloc(0))
    start = len(ftyp) + meta_len + 8
    meta = _box(b"meta", b"\x00\x00\x00\x00" + iinf + iloc(start))
    return ftyp + meta + _box(b"mdat", exif + xmp)


def test_the_exif_and_xmp_items_are_found_by_type_and_read_from_their_extents() -> None:
    exif, xmp = b"\x00\x00\x00\x00II*\x00tiff", b"<x:xmpmeta/>"
    data = _heif(exif, xmp)
    assert bmff.exif_item(data) == exif
    meta = bmff.top_box(data, b"meta")
    assert meta is not None
    children = {k: (s, e) for k, s, e in bmff.boxes(data, meta[0] + 4, meta[1])}
    ids = bmff.item_ids(data, *children[b"iinf"])
    assert ids == {b"hvc1": 1, b"Exif": 2, b"mime": 3}
    spans = bmff.item_extents(data, *children[b"iloc"], {3: "XMP"})
    assert bmff.read_spans(io.BufferedReader(io.BytesIO(data)), spans[3]) == xmp


def test_a_file_without_meta_has_no_exif_item_and_an_overrunning_box_is_refused() -> None:
    assert bmff.exif_item(_box(b"ftyp", b"heic")) is None
    assert bmff.top_box(_box(b"ftyp", b"heic"), b"meta") is None
    with pytest.raises(ValueError, match="overruns"):
        list(bmff.boxes(struct.pack(">I4s", 100, b"meta"), 0, 8))
