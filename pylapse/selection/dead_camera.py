"""When a frame comes from a dead camera: frozen runs, blank pictures and frames far darker
than the day before (issue 17).

One rule, used twice: camera health (:mod:`pylapse.capture.health`) turns a camera ``frozen``,
``blank`` or ``dark`` by it as frames arrive, and selections leave such frames out by default
(:meth:`pylapse.collection.Collection.select`, ``keep_dead_frames=True`` keeps them).

* **Frozen:** a frame shows *the same picture* as the camera's previous one when its perceptual
  hash does not differ (``hash_distance == 0``), its mean luma moved by less than
  :data:`SAME_LUMA` and its ``grain`` (:mod:`pylapse.imaging.quality`: the parity of 64 cells'
  sums of grey levels) differs in at most :data:`SAME_GRAIN` bits. The grain is what tells a
  still scene from a picture served again: a live sensor's noise flips about half of its bits
  even when nothing moves, while the hash and the luma stay put (measured: sensor noise moves
  the mean of the scores' copy by 0.00-0.05); a picture served again flips none but those
  under a clock drawn on it. Frames scored before the grain existed are judged by the hash and
  the luma alone, so a still scene under steady light could read as frozen there until
  ``pylapse metrics --rescore-old`` gives them their grain (they count as scored by an older
  method, version 1). Identical bytes are the same picture too (camera health compares
  them). A run of at least :data:`FROZEN_AFTER` frames, the first picture counted, is a frozen
  camera.
* **Blank:** the grey level's standard deviation (the ``contrast`` score) is under
  :data:`BLANK_CONTRAST`: a lens cap, a dead sensor, an all-black stream.
* **Dark:** a frame :func:`far_darker` than the camera's frame nearest the same local time
  the day before (:class:`DayBefore` finds that frame, for capture and the index alike): a
  covered lens, a dead infrared light. A night frame after a night is not (the reference must
  be lit). Blank and frozen win over dark: they say more.

Frames with no scores are never called dead: a frame never measured shows nothing wrong.
The verdict is decided when scores are written and stored per frame by the index
(:mod:`pylapse.index.deadflags`, on windows of a camera's frames: :func:`settled_flags` says
which of a window's verdicts hold whatever lies beyond it), so a selection reads only the few
dead frames and :func:`leave_out` takes them out of its candidates, counted by reason.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from itertools import chain
from typing import Any

__all__ = [
    "BLANK_CONTRAST",
    "DARKER_MIN_REFERENCE",
    "DARKER_SHARE",
    "DARK_CANDIDATE_LUMA",
    "DAY_BEFORE_WINDOW",
    "FROZEN_AFTER",
    "SAME_GRAIN",
    "SAME_LUMA",
    "DayBefore",
    "Dead",
    "DeadFrames",
    "dead_flags",
    "far_darker",
    "is_blank",
    "leave_out",
    "left_out_text",
    "same_picture",
    "settled_flags",
]

# frames in a row showing the same picture (the first counted) that make a camera frozen
FROZEN_AFTER = 5
# grain bits (of 64) that may differ between two frames of one picture: a clock drawn on a
# picture served again flips 0-2 of them, a live sensor's noise 23-41 on a still scene (real
# frames with noise of sigma 0.3-3, bright and at 8 % of their light)
SAME_GRAIN = 8
# The luma of one picture served again moves by less than this. So does a still scene's under
# steady light (sensor noise averages out over a frame), hence the grain as well.
SAME_LUMA = 0.05
# grey-level standard deviation under which a picture is blank (near-constant)
BLANK_CONTRAST = 2.0
# "far darker than the same time yesterday": below this share of yesterday's luma, when
# yesterday's frame was bright enough for the comparison to mean something
DARKER_SHARE = 0.35
DARKER_MIN_REFERENCE = 40.0
# no frame at least this bright is far darker than any (luma is at most 255): the index asks
# for the day before only for frames under it
DARK_CANDIDATE_LUMA = DARKER_SHARE * 255
# seconds either side of the same local time the day before that a reference frame may be
DAY_BEFORE_WINDOW = 1800.0
_DAY = 86400.0
_MASK = (1 << 64) - 1


class Dead(IntEnum):
    """Why a frame is a dead camera's (0: it is not); values fit a ``bytearray``."""

    ALIVE = 0
    FROZEN = 1
    BLANK = 2
    DARK = 3


def same_picture(
    hash_distance: int | None,
    luma: float | None,
    previous_luma: float | None,
    grain: int | None = None,
    previous_grain: int | None = None,
) -> bool:
    """Whether a frame repeats the camera's previous picture (unmeasured: no); without both
    frames' ``grain`` the hash and the luma decide alone (see the module's note)."""
    if (
        hash_distance != 0
        or luma is None
        or previous_luma is None
        or abs(luma - previous_luma) >= SAME_LUMA
    ):
        return False
    if grain is None or previous_grain is None:
        return True
    return ((grain ^ previous_grain) & _MASK).bit_count() <= SAME_GRAIN


def _linked(
    hash_distance: Sequence[int | None],
    luma: Sequence[float | None],
    grain: Sequence[int | None] | None,
    i: int,
) -> bool:
    """Whether frame ``i`` of the columns repeats frame ``i - 1``'s picture."""
    if grain is None:
        return same_picture(hash_distance[i], luma[i], luma[i - 1])
    return same_picture(hash_distance[i], luma[i], luma[i - 1], grain[i], grain[i - 1])


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


class DayBefore:
    """A camera's lit frames (luma measured) by local time, to find the reference of a frame
    of the next day: the frame nearest the same local time a day earlier, within
    :data:`DAY_BEFORE_WINDOW` (the earlier of two as near). Local time (UTC seconds plus the
    offset that applied) keeps a frame's reference at the same wall-clock time across a DST
    change, where the schedule put it.

    References are found for many frames at once (NumPy's sorted search): an index decides a
    chunk of 20,000 frames against the day before in one go, where a bisection each in Python
    doubled the time of deciding an archive's verdicts."""

    __slots__ = ("_local", "_luma")

    def __init__(self, frames: Iterable[tuple[float, float | None]]) -> None:
        """``frames``: (local seconds, luma) of the frames around the day before, in any order;
        unlit ones (luma None) are skipped."""
        import numpy as np

        # flat, then paired: NumPy reads a list of floats ~20x faster than a list of tuples
        pairs = np.array(list(chain.from_iterable(frames)), np.float64).reshape(-1, 2)
        pairs = pairs[~np.isnan(pairs[:, 1])]  # luma None: NaN
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))  # by time, then luma: any read order
        self._local = pairs[order, 0]
        self._luma = pairs[order, 1]

    def lumas(self, local: Sequence[float]) -> list[float | None]:
        """Per frame taken at ``local``, the luma of its reference (None: none in the window)."""
        import numpy as np

        n = len(self._local)
        if not n:
            return [None] * len(local)
        target = np.asarray(local, dtype=np.float64) - _DAY
        i = np.searchsorted(self._local, target)
        before, after = np.maximum(i - 1, 0), np.minimum(i, n - 1)
        to_before = np.where(i > 0, target - self._local[before], np.inf)
        to_after = np.where(i < n, self._local[after] - target, np.inf)
        best = np.where(to_before <= to_after, before, after)
        near = np.minimum(to_before, to_after) <= DAY_BEFORE_WINDOW
        refs = self._luma[best].tolist()
        return [v if ok else None for v, ok in zip(refs, near.tolist(), strict=True)]

    def luma(self, local: float) -> float | None:
        """Luma of the reference of a frame taken at ``local`` (None: none in the window)."""
        return self.lumas([local])[0]

    def dark(self, local: Sequence[float], luma: Sequence[float | None]) -> list[bool]:
        """Per frame taken at ``local`` with ``luma``: :func:`far_darker` than its reference."""
        return [far_darker(v, ref) for v, ref in zip(luma, self.lumas(local), strict=True)]


def dead_flags(
    luma: Sequence[float | None],
    contrast: Sequence[float | None],
    hash_distance: Sequence[int | None],
    *,
    grain: Sequence[int | None] | None = None,
    frozen_after: int = FROZEN_AFTER,
    blank_contrast: float = BLANK_CONTRAST,
) -> bytearray:
    """Per frame, a :class:`Dead` value, for a camera's consecutive frames in time order.

    Blank wins over frozen (a camera stuck on a black picture is blank, as health says). The
    first frame has no previous one here: it starts a run, so a run cut by the start of the
    columns counts only its frames inside them (read a few frames before to see it whole).
    """
    n = len(luma)
    if len(contrast) != n or len(hash_distance) != n or (grain is not None and len(grain) != n):
        sizes = [len(contrast), len(hash_distance), *([] if grain is None else [len(grain)])]
        raise ValueError(f"columns of {n}, " + " and ".join(map(str, sizes)) + " frames")
    flags = bytearray(n)
    start = 0  # first frame of the current run of one picture
    for i in range(1, n + 1):
        if i < n and _linked(hash_distance, luma, grain, i):
            continue
        if i - start >= frozen_after:
            flags[start:i] = bytes([Dead.FROZEN]) * (i - start)
        start = i
    for i, value in enumerate(contrast):
        if is_blank(value, blank_contrast):
            flags[i] = Dead.BLANK
    return flags


def settled_flags(
    luma: Sequence[float | None],
    contrast: Sequence[float | None],
    hash_distance: Sequence[int | None],
    *,
    first: bool,
    last: bool,
    grain: Sequence[int | None] | None = None,
    frozen_after: int = FROZEN_AFTER,
) -> tuple[bytearray, int, int]:
    """:func:`dead_flags` of a window cut out of a camera's frames (time order), and the part
    ``[lo, hi)`` of it whose flags hold for the whole sequence.

    A run of one picture at an edge of the window may go on beyond it: its frames are left
    out of ``[lo, hi)`` unless the run already has ``frozen_after`` frames in the window
    (frozen whatever lies beyond) or that edge is the sequence's own (``first``: nothing
    before the window; ``last``: nothing after it). Runs inside the window are whole.
    """
    flags = dead_flags(luma, contrast, hash_distance, grain=grain, frozen_after=frozen_after)
    n = len(flags)
    lo, hi = 0, n
    if not first:
        # where the first run ends (n: it fills the window)
        end = next(
            (i for i in range(1, n) if not _linked(hash_distance, luma, grain, i)),
            n,
        )
        if end < frozen_after:
            lo = end
    if not last:
        # where the last run starts (0: it fills the window)
        begin = next(
            (i for i in range(n - 1, 0, -1) if not _linked(hash_distance, luma, grain, i)),
            0,
        )
        if n - begin < frozen_after:
            hi = begin
    return flags, lo, max(lo, hi)


@dataclass(frozen=True, slots=True)
class DeadFrames:
    """A camera's dead frames in time order, as parallel columns: frame ids, their UTC seconds
    and their :class:`Dead` values (one byte each)."""

    ids: array[int]
    utcs: array[float]
    kinds: bytes

    @classmethod
    def from_mapping(cls, dead: Mapping[int, tuple[float, int]]) -> DeadFrames:
        """From frame id -> (UTC seconds, :class:`Dead`)."""
        rows = sorted((utc, fid, int(kind)) for fid, (utc, kind) in dead.items())
        return cls(
            array("q", (r[1] for r in rows)),
            array("d", (r[0] for r in rows)),
            bytes(r[2] for r in rows),
        )

    def __len__(self) -> int:
        return len(self.ids)


def leave_out(
    ids: Sequence[int],
    utcs: Sequence[float],
    dead: DeadFrames | Mapping[int, tuple[float, int]],
) -> tuple[Sequence[int], Sequence[float], dict[str, int]]:
    """Candidates ``ids``/``utcs`` (time order) without the ``dead`` ones (a
    :class:`DeadFrames`, or frame id -> its UTC seconds and :class:`Dead`), and how many of
    them each reason removed (``{"frozen": n, "blank": m}``, only those > 0).

    Dead frames are found among the candidates by their time, all at once (NumPy's sorted
    search): a frozen week is ~60,000 frames, which one bisection each in Python made 0.1-0.4 s
    of a preview. The kept candidates come back as ``array`` columns.
    """
    import numpy as np

    if not isinstance(dead, DeadFrames):
        dead = DeadFrames.from_mapping(dead)
    if not len(dead) or not len(ids):
        return ids, utcs, {}
    cand_ids = _column(ids, "q")
    cand_utcs = _column(utcs, "d")
    dead_ids = np.frombuffer(dead.ids, np.int64)
    dead_utcs = np.frombuffer(dead.utcs, np.float64)
    kinds = np.frombuffer(dead.kinds, np.uint8)
    pos = np.searchsorted(cand_utcs, dead_utcs)
    inside = pos < len(cand_utcs)
    pos_in = np.where(inside, pos, 0)
    hit = inside & (cand_utcs[pos_in] == dead_utcs) & (kinds != Dead.ALIVE)
    exact = hit & (cand_ids[pos_in] == dead_ids)
    drop = np.zeros(len(cand_ids), bool)
    drop[pos_in[exact]] = True
    counted = kinds[exact]
    for k in np.flatnonzero(hit & ~exact):  # frames of one instant: the one with this id
        p = int(pos_in[k])
        while p < len(cand_utcs) and cand_utcs[p] == dead_utcs[k] and cand_ids[p] != dead_ids[k]:
            p += 1
        if p < len(cand_utcs) and cand_utcs[p] == dead_utcs[k]:
            drop[p] = True
            counted = np.append(counted, kinds[k])
    if not drop.any():
        return ids, utcs, {}
    counts = np.bincount(counted, minlength=len(Dead))
    kept = {d.name.lower(): int(counts[d]) for d in Dead if d and counts[d]}
    keep = ~drop
    return (
        array("q", cand_ids[keep].tobytes()),
        array("d", cand_utcs[keep].tobytes()),
        kept,
    )


def _column(values: Sequence[float] | Sequence[int], typecode: str) -> Any:
    """A NumPy view of an ``array`` column of ``typecode`` (no copy), or a copy of another
    sequence."""
    import numpy as np

    dtype = np.int64 if typecode == "q" else np.float64
    if isinstance(values, array) and values.typecode == typecode:
        return np.frombuffer(values, dtype)
    return np.asarray(values, dtype)


def left_out_text(left_out: Mapping[str, int]) -> str:
    """What :func:`leave_out` removed, in words for a preview: "12 frames from a frozen camera
    and 1 blank frame left out" ("" when nothing was)."""
    parts = []
    for reason, words in (
        ("frozen", "{n} {noun} from a frozen camera"),
        ("blank", "{n} blank {noun}"),
        ("dark", "{n} {noun} far darker than the day before"),
    ):
        n = left_out.get(reason, 0)
        if n:
            parts.append(words.format(n=f"{n:,}", noun="frame" if n == 1 else "frames"))
    return " and ".join(parts) + " left out" if parts else ""
