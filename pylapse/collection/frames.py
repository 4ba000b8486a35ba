"""A collection's frames out of the index, as its selections read them: a span's candidate
times (0.2's ``mask`` applied), the dead frames and scores the quality filter asks for, and the
frames of chosen ids, loaded in chunks (dense runs by time range, sparse ones by id)."""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pylapse.selection.quality_filter import FilterResult, QualityFilter, filter_candidates
from pylapse.selection.targets import DaySpan, SelectionError

if TYPE_CHECKING:
    from pylapse.index.frame import Frame
    from pylapse.index.store import FrameIndex

__all__ = ["candidate_times", "filtered_candidates", "load_frames"]

_DENSE = 8  # load a chunk of frames by time range when it spans <= 8x its size, else by id
_CHUNK = 500


def candidate_times(
    index: FrameIndex, key: str, span: DaySpan, mask: str = "*"
) -> tuple[Sequence[int], Sequence[float]]:
    """Candidate (ids, utcs) of the span, straight from the index's hot path; with 0.2's
    ``mask`` only frames whose name (without extension) matches it."""
    if mask != "*":
        kept = [
            f
            for f in index.frames(key, span.start, span.stop)
            if fnmatch.fnmatchcase(os.path.splitext(f.path.name)[0], mask)
        ]
        return [f.id for f in kept], [f.utc for f in kept]
    return index.utc_times(key, span.start, span.stop)


def filtered_candidates(
    index: FrameIndex,
    key: str,
    span: DaySpan,
    ids: Sequence[int],
    utcs: Sequence[float],
    qf: QualityFilter,
) -> FilterResult | None:
    """:func:`~pylapse.selection.quality_filter.filter_candidates` of the span, with what it
    asks for read from the index: the span's frames from a dead camera (blank ones and frozen
    runs, by the rule camera health uses, :mod:`pylapse.selection.dead_camera`, decided as
    their scores were written and read from the index's few dead rows; a run cut by the span
    counts whole), and score columns aligned with the ids, in one query over the span's rows."""
    return filter_candidates(
        qf,
        ids,
        utcs,
        lambda: index.dead_frames(key, span.start, span.stop),
        lambda wanted, columns: index.score_columns(key, span.start, span.stop, wanted, columns),
    )


def load_frames(
    index: FrameIndex, key: str, ids: Sequence[int], utcs: Sequence[float]
) -> list[Frame]:
    """Frames for ``ids`` (time order): dense runs by one time-range query, sparse by id."""
    out: list[Frame] = []
    for lo in range(0, len(ids), _CHUNK):
        chunk_ids, chunk_utcs = ids[lo : lo + _CHUNK], utcs[lo : lo + _CHUNK]
        first, stop = chunk_utcs[0], math.nextafter(chunk_utcs[-1], math.inf)
        found: dict[int, Frame] = {}
        if len(chunk_ids) > 1 and index.count(key, first, stop) <= _DENSE * len(chunk_ids):
            wanted = set(chunk_ids)
            found = {f.id: f for f in index.frames(key, first, stop) if f.id in wanted}
        for fid in chunk_ids:
            frame = found.get(fid) or index.get(fid)
            if frame is None:
                raise SelectionError(
                    f"frame {fid} left the index since the selection was made; select again"
                )
            out.append(frame)
    return out
