"""Frames far darker than the day before: the ``'dark'`` verdict of ``frames.dead`` (issue 17).

:mod:`pylapse.index.deadflags` decides frozen runs and blank pictures from a frame and its
neighbours. A dark frame is decided from the frame and the camera's frame nearest the same local
time the day before (:class:`~pylapse.selection.dead_camera.DayBefore`), the rule camera health
applies at capture (:meth:`pylapse.index.FrameIndex.luma_day_before` gives it that frame's
luma). Blank and frozen win: a frame is ``'dark'`` only when neither applies.

Two moments decide it:

* with the frozen and blank verdicts of a window of frames (:func:`dark`, called by deadflags
  for the frames it finds alive): one read of the references of the window's candidates;
* when a frame's luma is written or cleared, it may become (or stop being) the reference of
  frames a day later: :func:`refresh_next_day` decides those again. At capture the next day has
  no frames yet, so that costs one indexed read that finds nothing.

Only frames darker than :data:`~pylapse.selection.dead_camera.DARK_CANDIDATE_LUMA` can be dark,
so a day's frames never ask for the day before. SQL here is plain (``?`` parameters, standard
functions) for either index backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pylapse import db
from pylapse.selection.dead_camera import (
    DARK_CANDIDATE_LUMA,
    DAY_BEFORE_WINDOW,
    DayBefore,
    Dead,
)

__all__ = ["DARK", "dark", "luma_day_before", "refresh_next_day"]

DARK = Dead.DARK.name.lower()  # the stored word
_DAY = 86400.0
# A DST change moves a camera's local time against UTC by up to an hour: the reference of a
# frame is read that much further either side in UTC, then matched on local time.
_SLACK = 3600.0
_REACH = DAY_BEFORE_WINDOW + _SLACK

Place = tuple[float, int, float | None]  # a frame's UTC seconds, UTC offset (s) and luma


def _day_before(conn: db.Connection, cid: int, lo: float, hi: float) -> DayBefore:
    """The references for frames taken between UTC seconds ``lo`` and ``hi``."""
    rows = conn.execute(
        "SELECT utc + utc_offset, luma FROM frames WHERE collection_id = ? "
        "AND utc >= ? AND utc <= ? AND luma IS NOT NULL",
        (cid, lo - _DAY - _REACH, hi - _DAY + _REACH),
    )
    return DayBefore(rows)


def _candidate(luma: float | None) -> bool:
    return luma is not None and luma < DARK_CANDIDATE_LUMA


def dark(conn: db.Connection, cid: int, frames: Sequence[Place]) -> list[bool]:
    """Per frame of collection ``cid``, whether it is far darker than its reference."""
    utcs = [utc for utc, _offset, luma in frames if _candidate(luma)]
    if not utcs:
        return [False] * len(frames)
    refs = _day_before(conn, cid, min(utcs), max(utcs))
    at = [i for i, (_utc, _offset, luma) in enumerate(frames) if _candidate(luma)]
    found = refs.dark([frames[i][0] + frames[i][1] for i in at], [frames[i][2] for i in at])
    dark = [False] * len(frames)
    for i, is_dark in zip(at, found, strict=True):
        dark[i] = is_dark
    return dark


def luma_day_before(conn: db.Connection, cid: int, utc: float, offset: int) -> float | None:
    """Luma of the reference of a frame of ``cid`` taken at ``utc`` with UTC ``offset``."""
    return _day_before(conn, cid, utc, utc).luma(utc + offset)


def refresh_next_day(conn: db.Connection, cid: int, utcs: Iterable[float]) -> int:
    """Decide again the frames of ``cid`` whose reference may be one of the frames at ``utcs``
    (their luma was just written or cleared); returns how many verdicts changed."""
    changed = 0
    for lo, hi in _spans(sorted(utcs)):
        rows = conn.execute(
            "SELECT id, utc, utc_offset, luma, dead FROM frames WHERE collection_id = ? "
            "AND utc >= ? AND utc <= ? AND (dead = ? OR (dead IS NULL AND luma < ?))",
            (cid, lo + _DAY - _REACH, hi + _DAY + _REACH, DARK, DARK_CANDIDATE_LUMA),
        ).fetchall()
        verdicts = dark(conn, cid, [(r[1], r[2], r[3]) for r in rows])
        updates = [
            (DARK if is_dark else None, r[0])
            for r, is_dark in zip(rows, verdicts, strict=True)
            if is_dark != (r[4] == DARK)
        ]
        if updates:
            conn.executemany("UPDATE frames SET dead = ? WHERE id = ?", updates)
        changed += len(updates)
    return changed


def _spans(utcs: Sequence[float]) -> list[tuple[float, float]]:
    """Sorted ``utcs`` merged into spans whose next days' reads would overlap."""
    spans: list[tuple[float, float]] = []
    for utc in utcs:
        if spans and utc - spans[-1][1] <= 2 * _REACH:
            spans[-1] = (spans[-1][0], utc)
        else:
            spans.append((utc, utc))
    return spans
