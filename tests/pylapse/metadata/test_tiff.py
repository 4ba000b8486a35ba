"""pylapse.tiff: IFD entries and tag values read from hand-built TIFF blocks."""

from __future__ import annotations

import struct

import pytest

from pylapse.metadata.tiff import ifd_entries, tags, tiff_order, value_position


def _block(order: str) -> bytes:
    """A TIFF block with one IFD at 8: Make (ASCII, by offset), a SHORT, a RATIONAL."""
    mark = b"II" if order == "<" else b"MM"
    head = mark + struct.pack(order + "HI", 42, 8)
    entries = 3
    data_at = 8 + 2 + 12 * entries + 4
    make = b"Canon\x00"
    ifd = struct.pack(order + "H", entries)
    ifd += struct.pack(order + "HHII", 0x010F, 2, len(make), data_at)
    ifd += struct.pack(order + "HHIHH", 0x0112, 3, 1, 6, 0)
    ifd += struct.pack(order + "HHII", 0x829A, 5, 1, data_at + len(make))
    ifd += struct.pack(order + "I", 0)
    return head + ifd + make + struct.pack(order + "II", 1, 250)


@pytest.mark.parametrize("order", ["<", ">"])
def test_tags_decodes_text_numbers_and_ratios_in_both_byte_orders(order: str) -> None:
    block = _block(order)
    assert tiff_order(block) == order
    found = tags(block, 8, order, frozenset({0x010F, 0x0112, 0x829A}))
    assert found == {0x010F: "Canon", 0x0112: 6, 0x829A: 1 / 250}
    assert tags(block, 8, order, frozenset({0x0112})) == {0x0112: 6}


def test_a_value_that_fits_sits_in_its_field_and_a_longer_one_is_found_by_offset() -> None:
    block = _block("<")
    entries = ifd_entries(block, 8, "<")
    assert set(entries) == {0x010F, 0x0112, 0x829A}
    assert value_position(block, entries[0x0112], "<") == entries[0x0112][2]
    assert block[value_position(block, entries[0x010F], "<") :].startswith(b"Canon\x00")


def test_damaged_blocks_are_refused_or_their_entries_left_out() -> None:
    with pytest.raises(ValueError, match="II/MM"):
        tiff_order(b"XX\x00*")
    with pytest.raises(ValueError, match="implausible IFD entry count"):
        ifd_entries(struct.pack("<H", 5000), 0, "<")
    cut = _block("<")[:-8]  # the rational's value lies past the end of the block
    assert 0x829A not in tags(cut, 8, "<", frozenset({0x829A}))
