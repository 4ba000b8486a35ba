"""The slot grid: frames normalised onto a fixed time grid (default every 10 s).

How a sky archive with millions of frames at a nominal 10-second cadence keeps a regular time
grid even though real capture times jitter (9-11 s apart) and sometimes stop. Slots are the
instants ``origin + k * width`` (``origin`` defaults to the Unix epoch, so 10-second slots fall on
:00, :10, ... of every wall-clock minute in any zone with a whole-minute offset).

The locked-cadence rule, applied to the frames in time order:

1. **Lock on**: a frame with no cadence to follow (the first one, or after a resync) takes the
   slot it rounds to, half up (``floor(x + 0.5)`` with ``x = (t - origin) / width``), and the
   cadence locks on that slot.
2. **Follow**: while locked on slot ``s``, a frame within ±1 slot width of the next slot
   (``|x - (s + 1)| < 1``) takes slot ``s + 1``, even if it would round to a neighbour. This is
   what keeps a camera whose frames sit near the half-slot point from alternately skipping and
   doubling slots.
3. **Resynchronise** only beyond that: a frame a full slot width or more past the next slot
   rounds again (rule 1); the slots it jumped over stay empty (gaps). A frame a full slot or more
   before the next slot is at or before the slot already filled and is surplus.

Two guards complete the rule: a slot holds at most one frame, and a frame less than half a slot
width after the frame placed just before it (a double capture, several frames in one second) is
surplus rather than pushing the cadence forward. One consequence of rule 2, inherent to it: a
single missing frame while the frames run early of their slots is absorbed, and the gap appears
a few slots later, where the cadence resynchronises.

One pass over the frames, O(frames + slots).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from pylapse.selection.matching import Matched
from pylapse.selection.selection import EVERYTHING, FrameLoader, Selection, seconds_of, trim_to_span
from pylapse.selection.targets import MAX_TARGETS, DaySpan, SelectionError

__all__ = ["DEFAULT_SLOT_WIDTH", "assign_slots", "select_slot_grid"]

DEFAULT_SLOT_WIDTH = timedelta(seconds=10)


def assign_slots(
    utcs: Sequence[float], width: float, origin: float = 0.0
) -> tuple[list[int], list[int]]:
    """``(slots, positions)``: parallel lists, slot numbers increasing, by the locked-cadence
    rule; frame ``positions[i]`` (an index into ``utcs``) holds slot ``slots[i]``."""
    if not width > 0:
        raise SelectionError(f"slot width: {width!r} must be more than 0 seconds")
    floor = math.floor
    half = 0.5 * width
    slots: list[int] = []
    positions: list[int] = []
    last = None  # slot the cadence is locked on
    placed = -math.inf  # time of the frame placed last
    for i, t in enumerate(utcs):
        if t - placed < half:
            continue  # a double capture: the slot already has its frame
        x = (t - origin) / width
        if last is None:
            slot = floor(x + 0.5)
        else:
            d = x - last - 1
            if -1 < d < 1:
                slot = last + 1
            elif d >= 1:
                slot = floor(x + 0.5)
            else:
                continue  # at or before the slot already filled
        slots.append(slot)
        positions.append(i)
        last = slot
        placed = t
    return slots, positions


def select_slot_grid(
    ids: Sequence[int],
    utcs: Sequence[float],
    zone: tzinfo,
    *,
    width: timedelta | float = DEFAULT_SLOT_WIDTH,
    origin: datetime | float = 0.0,
    span: DaySpan = EVERYTHING,
    loader: FrameLoader | None = None,
) -> Selection:
    """Every slot of the grid from the first to the last filled slot (or over the range), each
    holding the frame the locked-cadence rule put there, or nothing (a gap)."""
    w = seconds_of(width, "slot width")
    if w <= 0:
        raise SelectionError(f"slot width: {width!r} must be more than 0 seconds")
    o = origin.timestamp() if isinstance(origin, datetime) else float(origin)
    ids, utcs = trim_to_span(ids, utcs, span)
    k_first, filled = _fill_slots(utcs, w, o)
    k_lo, k_hi = k_first, k_first + len(filled) - 1
    if span.start is not None:
        k_lo = math.ceil((span.start - o) / w)
    if span.stop is not None:
        k_hi = math.ceil((span.stop - o) / w) - 1  # the last slot instant before the stop
    count = max(0, k_hi - k_lo + 1)
    _check_count(count, w)
    # The slots k_lo..k_hi: leading gaps, the filled stretch (cut to the range), trailing gaps.
    lead = max(0, min(count, k_first - k_lo))
    inner = filled[max(0, k_lo - k_first) : max(0, k_hi - k_first + 1)]
    positions = array("q", (-1,)) * lead
    positions += inner
    positions += array("q", (-1,)) * (count - len(positions))
    found = Matched(positions=positions, chosen_count=count - positions.count(-1))
    targets = _Grid(o, w, k_lo, count)
    return Selection("slot_grid", ids, utcs, targets, found, zone, loader=loader, tolerance=w)


def _check_count(count: int, w: float) -> None:
    if count > MAX_TARGETS:
        raise SelectionError(
            f"{count:,} slots of {w:g} s is more than {MAX_TARGETS:,}; narrow the date range or "
            "widen the slots"
        )


def _fill_slots(utcs: Sequence[float], width: float, origin: float) -> tuple[int, array[int]]:
    """:func:`assign_slots` written straight into a slot-indexed array: ``(first slot,
    positions)`` where ``positions[k]`` is the frame in slot ``first + k`` or -1."""
    floor = math.floor
    half = 0.5 * width
    filled = array("q")
    put = filled.append
    first = last = 0  # slot the cadence is locked on (valid once ``placed`` is finite)
    placed = -math.inf  # time of the frame placed last
    for i, t in enumerate(utcs):
        if t - placed < half:
            continue  # a double capture: the slot already has its frame
        x = (t - origin) / width
        if placed == -math.inf:
            first = last = floor(x + 0.5)
            put(i)
            placed = t
            continue
        d = x - last - 1
        if -1 < d < 1:
            last += 1
        elif d >= 1:
            slot = floor(x + 0.5)
            _check_count(slot - first + 1, width)  # before allocating a long outage's gaps
            filled += array("q", (-1,)) * (slot - last - 1)
            last = slot
        else:
            continue  # at or before the slot already filled
        put(i)
        placed = t
    return first, filled


class _Grid(Sequence[float]):
    """The slot instants ``origin + k * width`` for ``count`` slots from ``k_lo``, made on
    access (a year of 10-second slots is 3 million floats nobody may ask for)."""

    def __init__(self, origin: float, width: float, k_lo: int, count: int) -> None:
        self._o, self._w, self._k, self._n = origin, width, k_lo, count

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._o + self._w * k for k in range(self._k, self._k + self._n)[i]]
        if not -self._n <= i < self._n:
            raise IndexError("slot index out of range")
        return self._o + self._w * (self._k + (i % self._n))

    def __iter__(self) -> Iterator[float]:
        # o + k * w for each slot k, at C speed
        return map(self._o.__add__, map(self._w.__mul__, range(self._k, self._k + self._n)))

    def __repr__(self) -> str:
        return f"<{self._n} slots of {self._w:g} s from {self._o + self._w * self._k}>"
