"""When a frame comes from a dead camera: frozen runs and blank pictures (issue 17).

One rule, used twice: camera health (:mod:`pylapse.capture.health`) turns a camera ``frozen``
or ``blank`` by it as frames arrive, and selections leave such frames out by default
(:meth:`pylapse.collection.Collection.select`, ``keep_dead_frames=True`` keeps them).

* **Frozen:** a frame shows *the same picture* as the camera's previous one when its perceptual
  hash does not differ (``hash_distance == 0``) and its mean luma moved by less than
  :data:`SAME_LUMA` (a live sensor's noise moves it more, a cached picture re-encoded does not;
  identical bytes are the same picture too). A run of at least :data:`FROZEN_AFTER` frames,
  the first picture counted, is a frozen camera.
* **Blank:** the grey level's standard deviation (the ``contrast`` score) is under
  :data:`BLANK_CONTRAST`: a lens cap, a dead sensor, an all-black stream.
* **Far darker than yesterday** (health only, it needs the frame of a day earlier):
  :func:`far_darker`.

Frames with no scores are never called dead: a frame never measured shows nothing wrong.
Selection works on columns, as the rest of :mod:`pylapse.selection` does: the index reads
them, :func:`dead_flags` decides, :func:`leave_out` takes the dead frames out of a selection's
candidates and counts them by reason.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from enum import IntEnum
from itertools import compress

__all__ = [
    "BLANK_CONTRAST",
    "DARKER_MIN_REFERENCE",
    "DARKER_SHARE",
    "FROZEN_AFTER",
    "SAME_LUMA",
    "Dead",
    "dead_flags",
    "far_darker",
    "frozen_suspects",
    "is_blank",
    "leave_out",
    "left_out_text",
    "same_picture",
]

# frames in a row showing the same picture (the first counted) that make a camera frozen
FROZEN_AFTER = 5
# A live camera's sensor noise and exposure move a frame's mean luma by more than this between
# frames even when the scene stands still; a cached picture re-encoded does not.
SAME_LUMA = 0.05
# grey-level standard deviation under which a picture is blank (near-constant)
BLANK_CONTRAST = 2.0
# "far darker than the same time yesterday": below this share of yesterday's luma, when
# yesterday's frame was bright enough for the comparison to mean something
DARKER_SHARE = 0.35
DARKER_MIN_REFERENCE = 40.0


class Dead(IntEnum):
    """Why a frame is a dead camera's (0: it is not); values fit a ``bytearray``."""

    ALIVE = 0
    FROZEN = 1
    BLANK = 2


def same_picture(
    hash_distance: int | None, luma: float | None, previous_luma: float | None
) -> bool:
    """Whether a frame repeats the camera's previous picture (unmeasured: no)."""
    return (
        hash_distance == 0
        and luma is not None
        and previous_luma is not None
        and abs(luma - previous_luma) < SAME_LUMA
    )


def is_blank(contrast: float | None, limit: float = BLANK_CONTRAST) -> bool:
    """Whether a picture is near-constant (unmeasured: no)."""
    return contrast is not None and contrast < limit


def far_darker(luma: float | None, luma_yesterday: float | None) -> bool:
    """Whether a frame is far darker than the camera's frame at the same time a day earlier."""
    return (
        luma is not None
        and luma_yesterday is not None
        and luma_yesterday >= DARKER_MIN_REFERENCE
        and luma < DARKER_SHARE * luma_yesterday
    )


def dead_flags(
    luma: Sequence[float | None],
    contrast: Sequence[float | None],
    hash_distance: Sequence[int | None],
    *,
    frozen_after: int = FROZEN_AFTER,
    blank_contrast: float = BLANK_CONTRAST,
) -> bytearray:
    """Per frame, a :class:`Dead` value, for a camera's consecutive frames in time order.

    Blank wins over frozen (a camera stuck on a black picture is blank, as health says). The
    first frame has no previous one here: it starts a run, so a run cut by the start of the
    columns counts only its frames inside them (read a few frames before to see it whole).
    """
    n = len(luma)
    if len(contrast) != n or len(hash_distance) != n:
        raise ValueError(f"columns of {n}, {len(contrast)} and {len(hash_distance)} frames")
    flags = bytearray(n)
    start = 0  # first frame of the current run of one picture
    for i in range(1, n + 1):
        if i < n and same_picture(hash_distance[i], luma[i], luma[i - 1]):
            continue
        if i - start >= frozen_after:
            flags[start:i] = bytes([Dead.FROZEN]) * (i - start)
        start = i
    for i, value in enumerate(contrast):
        if is_blank(value, blank_contrast):
            flags[i] = Dead.BLANK
    return flags


def frozen_suspects(
    repeat_luma: Sequence[float | None], *, frozen_after: int = FROZEN_AFTER
) -> list[tuple[int, int]]:
    """Where frozen runs can be, from a camera's *repeats* alone (its frames whose hash did not
    change, ``hash_distance == 0``, in time order; the other frames left out): the spans
    ``[i, j)`` of at least ``frozen_after - 1`` repeats each showing the same picture as the one
    before it in the list.

    The repeats of a frozen run are neighbours in that list, so every run is inside a span; a
    span may still hold frames that were not neighbours in the camera's sequence, so it is only
    a suspect: :func:`dead_flags` on the frames themselves (the run's first picture included)
    decides. This lets a selection read every frame only where a camera may have frozen.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(repeat_luma)
    for i in range(1, n + 1):
        if i < n and same_picture(0, repeat_luma[i], repeat_luma[i - 1]):
            continue
        if i - start >= frozen_after - 1:
            spans.append((start, i))
        start = i
    return spans


def leave_out(
    ids: Sequence[int], utcs: Sequence[float], dead: Mapping[int, tuple[float, int]]
) -> tuple[Sequence[int], Sequence[float], dict[str, int]]:
    """Candidates ``ids``/``utcs`` (time order) without the ``dead`` ones (frame id -> its UTC
    seconds and :class:`Dead`), and how many of them each reason removed (``{"frozen": n,
    "blank": m}``, only those > 0).

    Dead frames are found by their time (a bisection each), so a year of candidates with a few
    dead frames costs no Python step per candidate; the kept ones are made in C by ``compress``.
    """
    keep = bytearray()
    counts = dict.fromkeys(("frozen", "blank"), 0)
    for fid, (utc, kind) in dead.items():
        pos = bisect_left(utcs, utc)
        while pos < len(utcs) and utcs[pos] == utc and ids[pos] != fid:
            pos += 1  # frames of the same instant: the one with this id
        if pos == len(utcs) or utcs[pos] != utc:
            continue  # not a candidate (outside the range, or a name mask left it out)
        if not keep:
            keep = bytearray(b"\x01") * len(ids)
        keep[pos] = 0
        counts[Dead(kind).name.lower()] += 1
    if not keep:
        return ids, utcs, {}
    kept = {k: n for k, n in counts.items() if n}
    return array("q", compress(ids, keep)), array("d", compress(utcs, keep)), kept


def left_out_text(left_out: Mapping[str, int]) -> str:
    """What :func:`leave_out` removed, in words for a preview: "12 frames from a frozen camera
    and 1 blank frame left out" ("" when nothing was)."""
    parts = []
    for reason, words in (("frozen", "from a frozen camera"), ("blank", "blank")):
        n = left_out.get(reason, 0)
        noun = "frame" if n == 1 else "frames"
        if n:
            parts.append(f"{n:,} {noun} {words}" if reason == "frozen" else f"{n:,} {words} {noun}")
    return " and ".join(parts) + " left out" if parts else ""
