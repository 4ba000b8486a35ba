"""The offset of frames whose files prove none: their neighbours, else the collection's zone.

A frame's file (or name) may prove its UTC offset; the others get one here, after a scan, in
this order (issue 14):

* **neighbours**: within one collection, a frame lying (by wall clock) between two frames whose
  offsets are proven and equal, each at most :data:`NEIGHBOUR_GAP` (two days) away, takes that
  offset, ``inferred``;
* **carried forward**: inside a timeline span whose zone is ``"inferred"``, the offset of the
  last frame with evidence before it, ``inferred`` (what a travelling photographer's camera
  needs: the phone proved Tokyo yesterday, the camera without offsets is still in Tokyo);
* **the zone**: the zone in force at the frame's wall clock (a span of the timeline, else the
  collection's zone), ``assumed``.

A name's or EXIF wall clock stays what the file says and its UTC instant moves with the
offset; an mtime is an instant, so it stays and its wall clock moves instead. Because only
frames whose offset came from here (``offset_source`` ``zone`` or ``neighbours``) are
re-resolved, a change of the collection's zone re-reads exactly what depended on it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from pylapse import db, timeutil
from pylapse.index.daycounts import bump_days, day_of

if TYPE_CHECKING:
    from pylapse.index.scan_result import ScanResult

__all__ = [
    "DEPENDENT",
    "INFERRED_ZONE",
    "NAME_UTC",
    "NEIGHBOUR_GAP",
    "OFFSET_CAPTURE",
    "ZoneSpan",
    "ZoneTimeline",
    "resolve_after_scan",
    "resolve_dependents",
]

NEIGHBOURS, ZONE = "neighbours", "zone"
DEPENDENT = (NEIGHBOURS, ZONE)  # offset sources decided here, re-resolved on a zone change
OFFSET_CAPTURE = "capture"  # capture knew its camera's zone when it named the frame
NAME_UTC = "name-utc"  # a name giving the instant in UTC (Pixel PXL_, epoch numbers)
_INSTANTS = ("mtime", NAME_UTC)  # times that are instants: a new offset moves their wall clock
INFERRED_ZONE = "inferred"  # a span's zone: carry the last proven offset forward
_EVIDENCE_STATUS = ("certain", "inferred")
_FLAGGED = ("conflict", "implausible")
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001  (naive: wall clocks are counted from it)
# Written out (not bound) so that SQLite uses the partial indexes of schema step 4.
_DEPENDENT_SQL = "offset_source IN ('neighbours', 'zone')"


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """From ``start`` (inclusive) to ``end`` (exclusive), naive wall clocks (``None``: open),
    frames without offset evidence are in ``zone`` (an IANA name, or ``"inferred"``)."""

    start: datetime | None
    end: datetime | None
    zone: str

    def holds(self, local: datetime) -> bool:
        return (self.start is None or self.start <= local) and (
            self.end is None or local < self.end
        )


class ZoneTimeline:
    """The collection's zone, with spans where another one was in force."""

    def __init__(self, default: tzinfo | str | None, spans: Sequence[ZoneSpan] = ()) -> None:
        self.default = timeutil.zone(default) if default is None or isinstance(
            default, str
        ) else default
        self.spans = tuple(spans)
        self._zones = {
            s.zone: timeutil.zone(s.zone) for s in self.spans if s.zone != INFERRED_ZONE
        }

    @classmethod
    def of(cls, default: tzinfo | str | None, spans: Sequence[Any] = ()) -> ZoneTimeline:
        """From config entries (objects with ``start``/``end``/``timezone``, or dicts with
        ``from``/``to``/``timezone``)."""
        out = []
        for span in spans:
            if isinstance(span, ZoneSpan):
                out.append(span)
            elif isinstance(span, dict):
                out.append(ZoneSpan(_naive(span.get("from")), _naive(span.get("to")),
                                    str(span["timezone"])))
            else:
                out.append(ZoneSpan(span.start, span.end, span.timezone))
        return cls(default, out)

    @property
    def default_name(self) -> str:
        return str(getattr(self.default, "key", None) or self.default)

    @property
    def key(self) -> str:
        """What the frames' assumed offsets depend on: stored, compared at the next scan."""
        spans = [
            [None if s.start is None else s.start.isoformat(),
             None if s.end is None else s.end.isoformat(), s.zone]
            for s in self.spans
        ]
        return json.dumps({"zone": self.default_name, "spans": spans}, sort_keys=True)

    def describe(self) -> str:
        if not self.spans:
            return self.default_name
        return f"{self.default_name} with {len(self.spans)} span(s)"

    def zone_at(self, local: datetime) -> tuple[tzinfo | None, str]:
        """The zone in force at ``local`` and its name; ``None`` for an ``inferred`` span."""
        for span in self.spans:
            if span.holds(local):
                if span.zone == INFERRED_ZONE:
                    return None, INFERRED_ZONE
                return self._zones[span.zone], span.zone
        return self.default, self.default_name


def _naive(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=None)


def old_key(zones: str | None, zone: str | None) -> str | None:
    """The key a collection's frames were last resolved with (rows from before the timeline
    stored only the zone's name)."""
    if zones:
        return zones
    if zone:
        return json.dumps({"zone": zone, "spans": []}, sort_keys=True)
    return None


@dataclass(slots=True)
class _Row:
    id: int
    name: str
    utc: float
    offset: int
    time_source: str | None
    offset_source: str
    status: str | None
    reason: str | None

    @property
    def local(self) -> float:
        return self.utc + self.offset

    @property
    def evidence(self) -> bool:
        return self.offset_source not in DEPENDENT and self.status in _EVIDENCE_STATUS


_EVIDENCE_SQL = (
    f"offset_source NOT IN ('{NEIGHBOURS}', '{ZONE}') AND time_status IN ('certain', 'inferred')"
)
# Neighbours speak for a frame only when near it: two frames at +03:00 years apart (two
# cameras' files in one folder) say nothing about a third camera's frame between them.
NEIGHBOUR_GAP = 2 * 86400
_EXAMPLES = 5  # changed frames described in a scan's result
_SPREAD = 26 * 3600  # local minus UTC lies within -12 h..+14 h


def resolve_after_scan(
    conn: db.Connection, cid: int, timeline: ZoneTimeline, result: ScanResult, known: int
) -> None:
    """After a scan of collection ``cid`` (frames with ids up to ``known`` were there before
    it): neighbours and zones for frames without offset evidence, when something they depend
    on changed: new such frames, frames gone, or the zone (then ``result.zone_change`` says
    from what to what). Sets ``result.reresolved`` and its examples. Call inside the scan's
    closing transaction, before the collection's row takes the new zone."""
    stored = conn.execute(
        "SELECT zone, zones FROM index_collections WHERE id = ?", (cid,)
    ).fetchone()
    before = old_key(stored[1], stored[0]) if stored else None
    changed_zone = before is not None and before != timeline.key
    if changed_zone:
        old = json.loads(before or "{}")
        spans = old.get("spans") or []
        was = str(old.get("zone")) + (f" with {len(spans)} span(s)" if spans else "")
        result.zone_change = f"{was} -> {timeline.describe()}"
    needed = changed_zone or result.dependent > 0
    if not needed and result.touched is not None:  # new evidence may have new neighbours
        needed = (
            conn.execute(
                f"SELECT 1 FROM frames WHERE collection_id = ? AND {_DEPENDENT_SQL} LIMIT 1",
                (cid,),
            ).fetchone()
            is not None
        )
    if needed:
        # A changed zone concerns every such frame; otherwise only those near what changed.
        window = None if changed_zone else result.touched
        result.reresolved = resolve_dependents(
            conn, cid, timeline, window, known, result.reresolved_examples
        )


def resolve_dependents(
    conn: db.Connection,
    cid: int,
    timeline: ZoneTimeline,
    window: tuple[float, float] | None = None,
    known_up_to: int | None = None,
    examples: list[str] | None = None,
) -> int:
    """Give the frames of collection ``cid`` without offset evidence their offset (see module
    doc) and write what changed; returns how many frames' offsets changed (of those with ids up
    to ``known_up_to``, when given: frames a scan has just added were not "re-read"). Call
    inside a transaction, under the connection's lock. The first few changes are described
    in ``examples`` ("name: 2024-01-15T11:00:00+01:00 -> 2024-01-15T11:00:00+09:00").

    ``window`` (local seconds: what a scan changed) limits the work to the frames whose
    neighbours may have changed: those between the last frame with evidence before it and the
    first one after it. Rows are found through the ``(collection, utc)`` index, so a rescan
    that added a few frames to millions reads a few rows, not the collection.
    """
    where = "collection_id = ?"
    params: list[float] = [cid]
    first = last = None
    if window is not None:
        lo = _nearest_evidence(conn, cid, window[0] - _SPREAD, before=True)
        hi = _nearest_evidence(conn, cid, window[1] + _SPREAD, before=False)
        if lo is not None:
            where += " AND utc >= ?"
            params.append(lo[0] - _SPREAD)
            first = lo[1]
        if hi is not None:
            where += " AND utc <= ?"
            params.append(hi[0] + _SPREAD)
            last = hi[1]
    rows = [
        _Row(*r)
        for r in conn.execute(
            "SELECT id, name, utc, utc_offset, time_source, offset_source, time_status, "
            f"time_reason FROM frames WHERE {where} AND offset_source IS NOT NULL "
            "ORDER BY utc + utc_offset, id",
            params,
        )
    ]
    if first is not None or last is not None:
        # Only frames between the two bounding frames with evidence have all they need here.
        rows = [
            r for r in rows
            if (first is None or r.local >= first) and (last is None or r.local <= last)
        ]  # fmt: skip
    nxt: list[_Row | None] = [None] * len(rows)
    following: _Row | None = None
    for i in range(len(rows) - 1, -1, -1):
        nxt[i] = following
        if rows[i].evidence:
            following = rows[i]
    updates: list[tuple[Any, ...]] = []
    delta: Counter[tuple[int, int]] = Counter()
    changed = 0
    previous: _Row | None = None
    for i, row in enumerate(rows):
        if row.evidence:
            previous = row
            continue
        if row.offset_source not in DEPENDENT:
            continue  # flagged with an offset its file gave: left as read
        new = _decide(row, previous, nxt[i], timeline)
        utc, offset, source, status, reason = new
        if (utc, offset, source, status, reason) == (
            row.utc, row.offset, row.offset_source, row.status, row.reason
        ):
            continue
        if offset != row.offset or utc != row.utc:
            if known_up_to is None or row.id <= known_up_to:
                changed += 1
                if examples is not None and len(examples) < _EXAMPLES:
                    was = timeutil.from_utc(row.utc, row.offset).isoformat()
                    now = timeutil.from_utc(utc, offset).isoformat()
                    examples.append(f"{row.name}: {was} -> {now}")
            delta[(day_of(row.utc, row.offset), row.offset)] -= 1
            delta[(day_of(utc, offset), offset)] += 1
        updates.append((utc, offset, source, status, reason, row.id))
    conn.executemany(
        "UPDATE frames SET utc = ?, utc_offset = ?, offset_source = ?, time_status = ?, "
        "time_reason = ? WHERE id = ?",
        updates,
    )
    bump_days(conn, cid, delta)
    return changed


def _nearest_evidence(
    conn: db.Connection, cid: int, utc: float, *, before: bool
) -> tuple[float, float] | None:
    """``(utc, local)`` of the frame with offset evidence nearest ``utc`` on one side."""
    op, order = ("<=", "DESC") if before else (">=", "ASC")
    row = conn.execute(
        f"SELECT utc, utc + utc_offset FROM frames WHERE collection_id = ? AND utc {op} ? "
        f"AND {_EVIDENCE_SQL} ORDER BY utc {order} LIMIT 1",
        (cid, utc),
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def _decide(
    row: _Row, previous: _Row | None, following: _Row | None, timeline: ZoneTimeline
) -> tuple[float, int, str, str, str]:
    """``(utc, offset, offset_source, status, reason)`` for one frame without evidence."""
    keep_flag = row.status in _FLAGGED
    local = _EPOCH + timedelta(seconds=row.local)
    offset: int | None = None
    if (
        previous is not None
        and following is not None
        and previous.offset == following.offset
        and row.local - previous.local <= NEIGHBOUR_GAP
        and following.local - row.local <= NEIGHBOUR_GAP
    ):
        offset, source = previous.offset, NEIGHBOURS
        status, reason = "inferred", (
            f"between {previous.name} and {following.name}, both "
            f"{timeutil.offset_text(previous.offset, ':')}"
        )
    else:
        zone, name = timeline.zone_at(local)
        if zone is None and previous is not None:
            offset, source = previous.offset, NEIGHBOURS
            status, reason = "inferred", (
                f"carried forward from {previous.name} "
                f"({timeutil.offset_text(previous.offset, ':')})"
            )
        else:
            if zone is None:
                zone, name = timeline.default, timeline.default_name
            source, status = ZONE, "assumed"
            reason = f"no offset in the file; zone {name}"
            if row.time_source in _INSTANTS:  # its wall clock follows the zone
                if row.time_source == "mtime":  # what the scan said about the file stays
                    reason = row.reason or f"modification time, zone {name}"
                offset = timeutil.offset_seconds(
                    timeutil.from_utc(row.utc, 0).astimezone(zone)
                )
            else:
                offset = timeutil.offset_seconds(timeutil.localize(local, zone))
    if keep_flag:
        status, reason = str(row.status), str(row.reason or "")
    utc = row.utc if row.time_source in _INSTANTS else row.local - offset
    return utc, offset, source, status, reason
