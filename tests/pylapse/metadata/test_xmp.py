"""pylapse.xmp: capture dates read from XMP packets as cameras and editors write them."""

from __future__ import annotations

from datetime import datetime

from pylapse.metadata import xmp


def _packet(body: str) -> bytes:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description ' + body + "</rdf:RDF>"
        "</x:xmpmeta>"
    ).encode()


def test_attributes_and_elements_under_any_prefix_with_their_offsets_as_written() -> None:
    packet = _packet(
        'xap:CreateDate="2024-01-15T12:30:05.25+09:00">'
        "<photoshop:DateCreated>2024-01-15T03:30:05Z</photoshop:DateCreated>"
        "<exif:DateTimeOriginal>2024-01-15T12:30</exif:DateTimeOriginal></rdf:Description>"
    )
    assert xmp.dates(packet) == {
        "CreateDate": (datetime(2024, 1, 15, 12, 30, 5, 250000), "+09:00"),
        "DateCreated": (datetime(2024, 1, 15, 3, 30, 5), "Z"),
        "DateTimeOriginal": (datetime(2024, 1, 15, 12, 30), None),
    }


def test_dates_without_a_time_impossible_dates_and_empty_packets_give_nothing() -> None:
    packet = _packet(
        'xmp:CreateDate="2024-01-15" xmp:DateTimeOriginal="2024-02-30T10:00:00">'
        "</rdf:Description>"
    )
    assert xmp.dates(packet) == {}
    assert xmp.dates(b"") == {}
    assert xmp.dates(b"\xff\xfe not xml at all :CreateDate>2024-01-15T10:00:00+0100<") == {
        "CreateDate": (datetime(2024, 1, 15, 10), "+0100")
    }
