"""Capture dates in an XMP packet: ``CreateDate``, ``DateCreated`` and ``DateTimeOriginal``.

XMP is RDF/XML kept in a JPEG's APP1 segment, a TIFF/DNG's tag 700 or a HEIF ``mime`` item
(:func:`pylapse.exif.read_meta` extracts the packet). A date is read by its local name only, as
an attribute (``xmp:CreateDate="..."``) or an element (``<xmp:CreateDate>...<``): the namespace
prefix is the writer's choice (old Adobe tools write ``xap:``). Only dates with a time of day
count: a date alone says nothing about a frame's clock or offset. No XML parser: packets are
written by cameras and editors of every quality, and a damaged one should still give its dates.
"""

from __future__ import annotations

import re
from datetime import datetime

__all__ = ["DATE_TAGS", "dates"]

#: the tags read, strongest first (the order :func:`dates` returns them in)
DATE_TAGS = ("CreateDate", "DateCreated", "DateTimeOriginal")

_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
# Anchored on ":Name" (no leading prefix pattern) so a 20 kB packet is scanned once, not per byte.
_TAGS = {name: re.compile(rf':{name}\s*=\s*"([^"]*)"|:{name}>([^<]*)<') for name in DATE_TAGS}


def dates(packet: bytes) -> dict[str, tuple[datetime, str | None]]:
    """The packet's dates with a time of day: tag -> (wall clock, naive; the offset as written,
    ``"Z"`` or ``"+09:00"``/``"+0900"``, or None). The first of each tag counts; a tag whose
    value is not a date with a time (or not a real date) is left out."""
    if not packet:
        return {}
    text = packet.decode("utf-8", "replace")
    found = {}
    for name, pattern in _TAGS.items():
        match = pattern.search(text)
        if match is None:
            continue
        value = (match.group(1) or match.group(2) or "").strip()
        parsed = _DATE.match(value)
        if parsed is None:
            continue  # a date without a time of day says nothing about the offset
        y, mo, d, h, mi, s, frac, off = parsed.groups()
        try:
            local = datetime(  # noqa: DTZ001 - a wall clock
                int(y),
                int(mo),
                int(d),
                int(h),
                int(mi),
                int(s or 0),
                int((frac or "")[:6].ljust(6, "0")),
            )
        except ValueError:
            continue
        found[name] = (local, off)
    return found
