"""Quality filters at selection time: drop dark, blank, overexposed, blurry and repeated frames,
and pick the sharpest acceptable frame near each target instead of the nearest.

Everything works on parallel columns (frame ids, UTC seconds and the score columns read from
the index in one query), never on frame objects: the drop decisions are one ``bytearray`` of
flags, and the kept candidates are made by ``itertools.compress`` at C speed.

Rules
    A frame with no score for a filter's column is kept by that filter: a frame that was never
    measured (an archive whose metrics job has not run yet) is never dropped for it. Filters run
    in a fixed order (:data:`FILTER_ORDER`) and each one's count is the frames *it* removed among
    those the earlier ones kept, so the counts add up to the total dropped.

    ``drop_duplicates`` drops a frame whose hash is identical to the previous frame's
    (``hash_distance == 0``), keeping the first of each run; ``drop_frozen`` drops whole runs of
    at least ``frozen_run`` identical frames, the first included, since a camera stuck on one
    picture makes that picture suspect too.

A dead camera's frames
    Left out by default, before any filter: frames of frozen runs, blank frames and frames far
    darker than the same local time the day before, by the rule camera health uses
    (:mod:`pylapse.selection.dead_camera`); ``keep_dead_frames=True`` keeps them. What it
    removed is :attr:`FilterResult.left_out` (``{"frozen": n, "blank": m, "dark": d}``), apart
    from the filters' counts: it is no filter the user asked for.

Best in window
    :func:`best_positions` re-matches each target to the sharpest remaining frame within the
    tolerance (the earliest of equally sharp ones); a window with no measured frame falls back
    to the nearest frame. Choosing the earliest maximum keeps positions non-decreasing (two
    overlapping windows that chose out of order would each contain the other's frame).

Scores of two scoring methods
    The index records which method scored each frame (``score_version``,
    :data:`pylapse.imaging.quality.VERSION`); version 1 reads sharpness ~4.8x and noise ~2.3x
    higher than the method before on 768x576 frames (x0.6-15 on other sizes), contrast within
    ~1 %, luma alike. The filters still compare the stored values as they are, thresholds and
    best in window alike, on purpose: treating older values as "not measured" would silently
    switch a ``min_sharpness`` off for the years an archive holds (and thresholds set before an
    upgrade were set on the older scale), and a window holds minutes of one camera, so it
    mixes versions only where the method changed (the upgrade, or where a metrics run was
    stopped), a window or two per camera, where comparing within one version would need the
    version read with every selection. What makes them comparable is a rescore: the index
    counts the older frames and ``pylapse metrics`` and the collection page say so and offer
    ``--rescore-old``. The dead-frame verdicts need no more: blank and dark ones read contrast
    and luma, which barely moved, and a hash matches only a hash of the same method, so a
    frozen run is split in two where the method changed, each half judged as a run.
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from itertools import compress
from typing import Any

from pylapse.selection.dead_camera import DeadFrames, leave_out
from pylapse.selection.selection import Selection
from pylapse.selection.targets import SelectionError

__all__ = [
    "FILTER_ORDER",
    "SUGGESTED",
    "FilterResult",
    "QualityFilter",
    "apply_filter",
    "best_positions",
    "filter_candidates",
    "finish_selection",
]

#: (filter name, score column it reads), in the order the filters run.
FILTER_ORDER = (
    ("min_luma", "luma"),
    ("max_luma", "luma"),
    ("min_contrast", "contrast"),
    ("max_clip_high", "clip_high"),
    ("min_sharpness", "sharpness"),
    ("drop_frozen", "hash_distance"),
    ("drop_duplicates", "hash_distance"),
)


@dataclass(frozen=True, slots=True)
class QualityFilter:
    """Thresholds and switches; ``None``/``False`` leaves a filter off (the default: all off)."""

    min_luma: float | None = None  # mean luma 0-255 below this: dark
    max_luma: float | None = None  # mean luma above this: washed out
    min_contrast: float | None = None  # contrast below this: blank (uniform) frame
    max_clip_high: float | None = None  # share 0-1 of clipped highlights above this: overexposed
    min_sharpness: float | None = None  # variance of the Laplacian below this: blurry
    drop_duplicates: bool = False  # a repeat of the previous frame (hash distance 0)
    drop_frozen: bool = False  # runs of >= frozen_run identical frames
    frozen_run: int = 3
    best_in_window: bool = False  # the sharpest acceptable frame within the tolerance
    keep_dead_frames: bool = False  # keep frozen, blank and dark frames (left out: default)

    def __post_init__(self) -> None:
        if self.frozen_run < 2:
            raise SelectionError(f"frozen_run: {self.frozen_run!r} must be 2 or more")
        for name in ("min_luma", "max_luma", "min_contrast", "max_clip_high", "min_sharpness"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise SelectionError(f"{name}: {value!r} must be a finite number")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> QualityFilter:
        """The filter from a mapping of these field names (others ignored, ``None`` unset)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names and v is not None})

    @property
    def active(self) -> tuple[str, ...]:
        """Names of the dropping filters that are on, in the order they run."""
        return tuple(name for name, _ in FILTER_ORDER if getattr(self, name) not in (None, False))

    @property
    def columns(self) -> tuple[str, ...]:
        """Score columns these settings need (``sharpness`` too for best in window)."""
        cols = dict.fromkeys(col for name, col in FILTER_ORDER if name in self.active)
        if self.best_in_window:
            cols["sharpness"] = None
        return tuple(cols)

    def __bool__(self) -> bool:
        return bool(self.active) or self.best_in_window


#: Thresholds offered as a preview when no filter is on (the export form shows what they would
#: drop): near-black frames, blank ones (grey level's standard deviation under 3), a quarter of
#: the picture clipped white, and a camera frozen for 3 frames or more. Sharpness has no
#: suggestion: its scale depends on the scene (a foggy landscape is never sharp).
SUGGESTED = {"min_luma": 20.0, "min_contrast": 3.0, "max_clip_high": 0.25, "drop_frozen": True}


@dataclass(frozen=True, slots=True)
class FilterResult:
    """Candidates left after the filters, and what each filter removed."""

    ids: Sequence[int]
    utcs: Sequence[float]
    sharpness: Sequence[float] | None  # aligned with the kept frames; -inf where not measured
    dropped: dict[str, int]  # filter name -> frames it removed (in FILTER_ORDER)
    considered: int  # frames before filtering
    # a dead camera's frames left out before the filters: "frozen"/"blank"/"dark" -> count
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


def _threshold(drop: bytearray, values: Sequence[float | None], limit: float, below: bool) -> int:
    removed = 0
    for i, v in enumerate(values):
        if v is None or drop[i]:
            continue  # never drop what was not measured
        if (v < limit) if below else (v > limit):
            drop[i] = 1
            removed += 1
    return removed


def _repeats(drop: bytearray, distances: Sequence[int | None], frozen_run: int | None) -> int:
    """Drop repeats (``frozen_run`` None: every frame at distance 0 from the previous) or whole
    runs of at least ``frozen_run`` identical frames, first included."""
    removed = 0
    n = len(distances)
    i = 0
    while i < n:
        if distances[i] != 0:
            i += 1
            continue
        start = i  # distances[start] == 0: frame start repeats frame start - 1
        while i < n and distances[i] == 0:
            i += 1
        first = start - 1 if start > 0 else start  # the run's first picture
        if frozen_run is None:
            span = range(start, i)
        elif i - first >= frozen_run:
            span = range(first, i)
        else:
            continue
        for k in span:
            if not drop[k]:
                drop[k] = 1
                removed += 1
    return removed


def apply_filter(
    qf: QualityFilter,
    ids: Sequence[int],
    utcs: Sequence[float],
    scores: Mapping[str, Sequence[Any]],
) -> FilterResult:
    """Apply ``qf`` to candidates ``ids``/``utcs`` with ``scores[column]`` aligned to them.

    Hash distances are to the previous frame of the whole index, so the repeat filters look at
    the frames in order before any threshold filter removed some.
    """
    n = len(ids)
    for col in qf.columns:
        if len(scores[col]) != n:
            raise SelectionError(f"score column {col!r} has {len(scores[col])} values for {n}")
    drop = bytearray(n)
    dropped: dict[str, int] = {}
    for name, col in FILTER_ORDER:
        setting = getattr(qf, name)
        if setting is None or setting is False:
            continue
        if name == "drop_frozen":
            dropped[name] = _repeats(drop, scores[col], qf.frozen_run)
        elif name == "drop_duplicates":
            dropped[name] = _repeats(drop, scores[col], None)
        else:
            dropped[name] = _threshold(drop, scores[col], float(setting), name.startswith("min"))
    keep = bytes(1 - d for d in drop) if any(dropped.values()) else None
    kept_ids: Sequence[int] = ids if keep is None else array("q", compress(ids, keep))
    kept_utcs: Sequence[float] = utcs if keep is None else array("d", compress(utcs, keep))
    sharp: array[float] | None = None
    if qf.best_in_window:
        raw = scores["sharpness"] if keep is None else list(compress(scores["sharpness"], keep))
        sharp = array("d", (-math.inf if v is None else float(v) for v in raw))
    return FilterResult(kept_ids, kept_utcs, sharp, dropped, n)


def best_positions(
    utcs: Sequence[float],
    sharpness: Sequence[float],
    targets: Sequence[float],
    nearest: Sequence[int],
    tolerance: float,
) -> list[int]:
    """Per target, the sharpest frame within ``tolerance`` (earliest of equals), or the
    ``nearest`` position when no frame in the window was measured (-1 stays a gap)."""
    out: list[int] = []
    for t, near in zip(targets, nearest, strict=True):
        if near < 0:
            out.append(-1)  # no frame within the tolerance at all
            continue
        lo = bisect_left(utcs, t - tolerance)
        hi = bisect_right(utcs, t + tolerance)
        window = sharpness[lo:hi]
        best = max(window)
        out.append(near if best == -math.inf else lo + window.index(best))
    return out


def filter_candidates(
    qf: QualityFilter,
    ids: Sequence[int],
    utcs: Sequence[float],
    dead: Callable[[], DeadFrames],
    scores: Callable[[Sequence[int], Sequence[str]], Mapping[str, Sequence[Any]]],
) -> FilterResult | None:
    """The candidates left by the quality filters, after a dead camera's frames were left
    out (unless ``keep_dead_frames``); None when neither removed or asked for anything.

    ``dead()`` gives the dead frames of the candidates' range and ``scores(ids, columns)`` the
    score columns aligned with ``ids``; each is called only when needed (both read the index).
    """
    left_out: dict[str, int] = {}
    if not qf.keep_dead_frames:
        ids, utcs, left_out = leave_out(ids, utcs, dead())
    if not qf:
        return FilterResult(ids, utcs, None, {}, len(ids), left_out) if left_out else None
    found = apply_filter(qf, ids, utcs, scores(ids, qf.columns))
    return dataclasses.replace(found, left_out=left_out) if left_out else found


def finish_selection(
    selection: Selection, found: FilterResult | None, qf: QualityFilter
) -> Selection:
    """``selection`` (made from ``found``'s candidates) with the filters' counts, re-matched
    to the sharpest frame of each window when ``best_in_window`` asked for it."""
    if found is None:
        return selection
    if qf.best_in_window and found.sharpness is not None and selection.tolerance > 0:
        positions = best_positions(
            found.utcs,
            found.sharpness,
            selection.targets,
            selection.positions,
            selection.tolerance,
        )
        dropped = found.dropped
        selection = Selection(
            selection.kind,
            found.ids,
            found.utcs,
            selection.targets,
            positions,
            selection.zone,
            loader=selection._loader,
            tolerance=selection.tolerance,
        )
        selection.dropped = dict(dropped)
    else:
        selection.dropped = dict(found.dropped)
    selection.left_out = dict(found.left_out)
    return selection
