"""Which frames make a timelapse: cron slots with nearest match, day slices, time ranges.

Everything here works on the index's two sorted columns (frame ids and UTC seconds, from
``FrameIndex.utc_times``), never on a folder. A selection matches the sorted frame times with sorted
target instants (:mod:`pylapse.selection.targets`) in O(frames + targets), regular stretches a block
at a time at C speed (:mod:`pylapse.selection.matching`): a year at a 10-second cadence (3.15 M
frames) selects in well under a second once read, where the original pyLapse's scan of every frame
for every target took 5.6 s for a single day. The slot grid is in :mod:`pylapse.selection.slots`.

Matching
    Each target takes the nearest frame within the tolerance (inclusive); on a tie the earlier
    frame wins, and of several frames with the same time the first in index order. Matching is by
    instant, so a 00:00 target may take 23:58 of the previous day. Several targets may land on the
    same frame: it is chosen once (a union of rules has no duplicates), but
    :meth:`Selection.with_gaps_filled` repeats it per target so a video keeps its regular time
    grid. A target with no frame within the tolerance is a gap.

Ranges
    ``date_from``/``date_to`` are inclusive and may be dates or datetimes (naive ones are wall
    clock in the collection's zone); a date ``date_to`` includes that whole day. Targets *and*
    candidate frames are limited to the range, so a selection never reaches outside it. Without a
    range every frame is a candidate and targets run from the first frame minus the tolerance to
    the last frame plus the tolerance (no invented gaps before the first frame).

A :class:`Selection` holds positions into compact arrays, not frame objects: frames are loaded
from the index only when asked for (:attr:`Selection.frames`, :meth:`Selection.iter_frames`), so
the preview of a 3-million-frame selection never builds 3 million objects.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from pylapse.selection.matching import Matched, match
from pylapse.selection.sun import SunGap, SunPoint, keep_in_windows, sun_targets
from pylapse.selection.targets import (
    CronRule,
    DaySpan,
    SelectionError,
    clock_seconds,
    day_targets,
    local_days,
    target_grid,
)

__all__ = [
    "DEFAULT_SLICE_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "EVERYTHING",
    "FrameLoader",
    "Selection",
    "SelectionCounts",
    "seconds_of",
    "select_all",
    "select_cron",
    "select_day_slice",
    "select_sun",
    "trim_to_span",
]

DEFAULT_TOLERANCE = timedelta(minutes=5)
DEFAULT_SLICE_TOLERANCE = timedelta(hours=1)
EVERYTHING = DaySpan(None, None)  # no date range

#: ``loader(ids, utcs) -> frames``: the index's Frame objects for these ids, in the same order.
FrameLoader = Callable[[Sequence[int], Sequence[float]], list[Any]]


@dataclass(frozen=True, slots=True)
class SelectionCounts:
    targets: int  # target instants (slots) asked for
    chosen: int  # distinct frames chosen
    gaps: int  # targets with no frame within the tolerance
    considered: int  # frames in the range that were candidates


class Selection:
    """The outcome of a selection, before anything is written: the preview the dashboard shows.

    ``frame_ids``/``frame_utcs`` are the candidate frames (time order); ``targets`` the target
    instants; ``positions[i]`` the candidate index chosen for ``targets[i]`` or -1 for a gap.
    Positions never decrease, which is what makes de-duplication and gap filling one pass.
    """

    def __init__(
        self,
        kind: str,
        frame_ids: Sequence[int],
        frame_utcs: Sequence[float],
        targets: Sequence[float],
        positions: Sequence[int] | Matched,
        zone: tzinfo,
        *,
        loader: FrameLoader | None = None,
        tolerance: float = 0.0,
    ) -> None:
        self.kind = kind
        self.zone = zone
        self.tolerance = tolerance
        self.targets = targets
        # The matcher's result keeps positions compact and makes them (and the distinct chosen
        # ones) only when asked: a year's preview needs the counts, not 3 million integers.
        self._matched = (
            positions if isinstance(positions, Matched) else Matched(positions=positions)
        )
        self._frame_ids = frame_ids
        self._frame_utcs = frame_utcs
        self._loader = loader
        self._frames: list[Any] | None = None
        m = self._matched
        self.counts = SelectionCounts(len(targets), m.chosen_count, m.gaps, len(frame_utcs))
        # A dead camera's frames left out before matching, by reason ("frozen", "blank", "dark"; see
        # pylapse.selection.dead_camera); empty when none were or keep_dead_frames was asked.
        self.left_out: dict[str, int] = {}
        # Set by the quality filters (pylapse.selection.quality_filter): frames each active
        # filter removed before matching; empty when no filter was asked for.
        self.dropped: dict[str, int] = {}
        # Days without the asked-for sun event or sun window (polar day or night), each with
        # its reason (pylapse.selection.sun.SunGap); they have no target, so are no gap above.
        self.sun_gaps: list[SunGap] = []

    @property
    def positions(self) -> Sequence[int]:
        """``positions[i]``: the candidate index chosen for ``targets[i]``, or -1 (a gap)."""
        return self._matched.positions

    @property
    def _chosen(self) -> Sequence[int]:
        return self._matched.chosen

    # --- what was chosen, without loading frames ----------------------------------------------

    def __len__(self) -> int:
        return self.counts.chosen

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<Selection {self.kind}: {c.chosen} frames, {c.gaps} gaps of {c.targets} "
            f"targets, {c.considered} considered>"
        )

    @property
    def ids(self) -> list[int]:
        """Chosen frame ids in time order."""
        return list(map(self._frame_ids.__getitem__, self._chosen))

    @property
    def utcs(self) -> list[float]:
        """Chosen frames' UTC seconds in time order."""
        return list(map(self._frame_utcs.__getitem__, self._chosen))

    @property
    def gap_utcs(self) -> list[float]:
        """UTC seconds of the targets with no frame (computed on access, at C speed)."""
        if not self.counts.gaps:
            return []
        return list(map(self.targets.__getitem__, self._matched.gap_indices()))

    @property
    def gaps(self) -> Sequence[datetime]:
        """Targets with no frame, as aware datetimes in the collection's zone (made on access,
        so ``selection.gaps[:10]`` of a dead camera's million gaps costs ten)."""
        return _Times(self.gap_utcs, self.zone)

    @property
    def first_time(self) -> datetime | None:
        return self._time_at(0)

    @property
    def last_time(self) -> datetime | None:
        return self._time_at(-1)

    def _time_at(self, k: int) -> datetime | None:
        m = self._matched
        p = m.first_chosen() if k == 0 else m.last_chosen()
        return None if p is None else datetime.fromtimestamp(self._frame_utcs[p], self.zone)

    def video_seconds(self, fps: float = 24, *, fill_gaps: bool = False) -> float:
        """Length of the video these frames make at ``fps`` (gaps filled or not)."""
        if fps <= 0:
            raise SelectionError(f"fps: {fps!r} must be more than 0")
        if not fill_gaps:
            return self.counts.chosen / fps
        # One video frame per target from the first chosen one on (leading gaps have nothing
        # to repeat): no need to build the runs.
        return (self.counts.targets - self._matched.leading_gaps()) / fps

    def filled_ids(self) -> list[tuple[int, int]]:
        """``(frame id, repeat count)`` runs: one video frame per target, a gap repeating the
        previous frame. Gaps before the first frame have nothing to repeat and are dropped."""
        fid = self._frame_ids
        runs: list[list[int]] = []
        current = -1
        for p in self.positions:
            if p >= 0 and p != current:
                runs.append([fid[p], 1])
                current = p
            elif runs:
                runs[-1][1] += 1
        return [(i, n) for i, n in runs]

    # --- frames, loaded from the index on demand ----------------------------------------------

    def _load(self, chosen: Sequence[int]) -> list[Any]:
        if self._loader is None:
            raise SelectionError("this selection has no index to load frames from")
        fid, fu = self._frame_ids, self._frame_utcs
        return self._loader([fid[p] for p in chosen], [fu[p] for p in chosen])

    @property
    def frames(self) -> list[Any]:
        """The chosen index ``Frame`` objects in time order (loaded once, then kept)."""
        if self._frames is None:
            self._frames = self._load(self._chosen)
        return self._frames

    def __iter__(self) -> Iterator[Any]:
        return self.iter_frames()

    def iter_frames(self, batch: int = 2000) -> Iterator[Any]:
        """The chosen frames in time order, loading ``batch`` at a time (bounded memory)."""
        if self._frames is not None:
            yield from self._frames
            return
        for start in range(0, len(self._chosen), batch):
            yield from self._load(self._chosen[start : start + batch])

    @property
    def first(self) -> Any | None:
        p = self._matched.first_chosen()
        return None if p is None else self._load([p])[0]

    @property
    def last(self) -> Any | None:
        p = self._matched.last_chosen()
        return None if p is None else self._load([p])[0]

    def with_gaps_filled(self) -> list[tuple[Any, int]]:
        """``(frame, repeat count)`` runs for the renderer: see :meth:`filled_ids`."""
        runs = self.filled_ids()
        frames = self.frames
        by_id = {f.id: f for f in frames}
        return [(by_id[i], n) for i, n in runs]

    def filled_frames(self) -> Iterator[Any]:
        """One frame per target, gaps repeating the previous frame (for a renderer's list)."""
        for frame, n in self.with_gaps_filled():
            for _ in range(n):
                yield frame

    def summary(self, fps: float = 24) -> dict[str, Any]:
        """The preview as plain data (dashboard, ``--dry-run``, job parameters)."""
        c = self.counts
        first, last = self.first_time, self.last_time
        return {
            "kind": self.kind,
            "targets": c.targets,
            "chosen": c.chosen,
            "gaps": c.gaps,
            "considered": c.considered,
            "first": first.isoformat() if first else None,
            "last": last.isoformat() if last else None,
            "fps": fps,
            "video_seconds": round(self.video_seconds(fps), 3),
            "video_seconds_filled": round(self.video_seconds(fps, fill_gaps=True), 3),
            **({"left_out": dict(self.left_out)} if self.left_out else {}),
            **({"dropped": dict(self.dropped)} if self.dropped else {}),
            **({"sun_gaps": [str(g) for g in self.sun_gaps]} if self.sun_gaps else {}),
        }


class _Times(Sequence[datetime]):
    """A read-only sequence of UTC seconds seen as aware datetimes in ``zone``."""

    def __init__(self, utcs: Sequence[float], zone: tzinfo) -> None:
        self._utcs, self._zone = utcs, zone

    def __len__(self) -> int:
        return len(self._utcs)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [datetime.fromtimestamp(u, self._zone) for u in self._utcs[i]]
        return datetime.fromtimestamp(self._utcs[i], self._zone)

    def __repr__(self) -> str:
        return f"<{len(self)} times in {self._zone}>"


# --- selecting ----------------------------------------------------------------------------


def trim_to_span(ids: Sequence[int], utcs: Sequence[float], span: DaySpan) -> tuple[Any, Any]:
    lo = 0 if span.start is None else bisect_left(utcs, span.start)
    hi = len(utcs) if span.stop is None else bisect_left(utcs, span.stop)
    if lo == 0 and hi == len(utcs):
        return ids, utcs
    return ids[lo:hi], utcs[lo:hi]


def _bounds(utcs: Sequence[float], span: DaySpan, pad: float) -> tuple[float, float] | None:
    """Inclusive target bounds: the range where given, else the frames' extent plus ``pad``."""
    if not utcs and (span.start is None or span.stop is None):
        return None
    first = span.start if span.start is not None else utcs[0] - pad
    last = math.nextafter(span.stop, -math.inf) if span.stop is not None else utcs[-1] + pad
    return (first, last) if last >= first else None


def seconds_of(value: timedelta | float | int, name: str = "tolerance") -> float:
    """A non-negative duration in seconds from a timedelta or a number of seconds."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not seconds >= 0 or math.isinf(seconds):
        raise SelectionError(f"{name}: {value!r} must be a finite number of seconds >= 0")
    return seconds


def select_cron(
    ids: Sequence[int],
    utcs: Sequence[float],
    rules: Sequence[CronRule | Mapping[str, Any]],
    zone: tzinfo,
    *,
    tolerance: timedelta | float = DEFAULT_TOLERANCE,
    span: DaySpan = EVERYTHING,
    loader: FrameLoader | None = None,
    windows: Sequence[tuple[float, float]] | None = None,
) -> Selection:
    """Targets of the union of ``rules``, each taking its nearest frame within ``tolerance``;
    with ``windows`` (sun windows as UTC spans) only the targets inside them."""
    compiled = [r if isinstance(r, CronRule) else CronRule(r) for r in rules]
    if not compiled:
        raise SelectionError("give at least one cron rule")
    tol = seconds_of(tolerance)
    ids, utcs = trim_to_span(ids, utcs, span)
    bounds = _bounds(utcs, span, tol)
    targets, spacing = target_grid(compiled, zone, *bounds) if bounds else (array("d"), None)
    if windows is not None:
        targets = keep_in_windows(targets, windows)  # fewer targets: spacing still a bound
    found = match(utcs, targets, tol, spacing=spacing)
    return Selection("cron", ids, utcs, targets, found, zone, loader=loader, tolerance=tol)


def select_day_slice(
    ids: Sequence[int],
    utcs: Sequence[float],
    times: time | str | Iterable[time | str],
    zone: tzinfo,
    *,
    tolerance: timedelta | float = DEFAULT_SLICE_TOLERANCE,
    span: DaySpan = EVERYTHING,
    loader: FrameLoader | None = None,
) -> Selection:
    """One frame per day nearest each clock time in ``times`` ("noon every day").

    Days run from the first to the last frame's day (or over the range); a day without a frame
    within the tolerance of a clock time is a gap for that time. On a 25-hour day a repeated
    clock time counts once (its first occurrence); a skipped one has no target.
    """
    seconds = clock_seconds(times)
    tol = seconds_of(tolerance)
    ids, utcs = trim_to_span(ids, utcs, span)
    bounds = _bounds(utcs, span, tol)
    targets = array("d")
    if bounds:
        first, last = bounds
        for day in local_days(zone, first, last):
            targets.extend(
                t for t in day_targets(day, seconds, zone, both_folds=False) if first <= t <= last
            )
    found = match(utcs, targets, tol)
    return Selection("day_slice", ids, utcs, targets, found, zone, loader=loader, tolerance=tol)


def select_all(
    ids: Sequence[int],
    utcs: Sequence[float],
    zone: tzinfo,
    *,
    span: DaySpan = EVERYTHING,
    loader: FrameLoader | None = None,
) -> Selection:
    """Every frame in the range ("every frame of last week"): each frame its own target."""
    ids, utcs = trim_to_span(ids, utcs, span)
    # Each frame is its own target: nothing to match, and every position is its target's index.
    n = len(utcs)
    found = Matched(rel=array("q", (0,)) * n, chosen_count=n, gap_at=array("q"))
    return Selection("all", ids, utcs, array("d", utcs), found, zone, loader=loader)


def select_sun(
    ids: Sequence[int],
    utcs: Sequence[float],
    points: Iterable[SunPoint | str],
    zone: tzinfo,
    latitude: float,
    longitude: float,
    *,
    tolerance: timedelta | float = DEFAULT_TOLERANCE,
    span: DaySpan = EVERYTHING,
    loader: FrameLoader | None = None,
    windows: Sequence[tuple[float, float]] | None = None,
) -> Selection:
    """One frame per day nearest each sun point ("sunset-30m", "noon"; see
    :mod:`pylapse.selection.sun`) within ``tolerance``. Days where a point's event does not
    happen have no target for it and are listed, with the reason, in ``Selection.sun_gaps``."""
    tol = seconds_of(tolerance)
    ids, utcs = trim_to_span(ids, utcs, span)
    bounds = _bounds(utcs, span, tol)
    targets: array[float] = array("d")
    gaps: list[SunGap] = []
    if bounds:
        targets, gaps = sun_targets(latitude, longitude, zone, list(points), *bounds)
    if windows is not None:
        targets = keep_in_windows(targets, windows)
    found = match(utcs, targets, tol)
    selection = Selection("sun", ids, utcs, targets, found, zone, loader=loader, tolerance=tol)
    selection.sun_gaps = gaps
    return selection
