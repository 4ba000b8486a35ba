"""Which live regions of the pages changed, coalesced so each refreshes at most once a period.

A tab listens to ``/events`` (:mod:`web.routes.events`) and re-fetches a region when its event
comes. Sending one event per capture made a dashboard of 20 cameras at 1 s fetch ~22 partials a
second per tab; now each tab's stream looks once a period (1 s) at what changed since its last
look and sends at most one event per region and period, and only for regions whose content
changed:

* ``capture`` ``{"cameras": [ids]}``: new capture-log entries (the capture log; the dashboard
  fetches the status of just these cameras' cards in one request);
* ``capture-<camera>`` ``{"camera": id}``: that camera has new entries (a log filtered to it);
* ``upcoming``: the list of upcoming captures is different;
* ``job`` and ``job-<id>`` (the job's record): a job's state or progress changed.

A region's first change in a while goes out at once; later ones within the period wait for its
end and go out merged (the cameras of all the waiting ``capture`` changes; a job's newest record).
Time is counted in the stream's ticks, so the rule holds whatever the clock does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

__all__ = ["UPCOMING", "Coalescer", "capture_changes", "upcoming_version"]

UPCOMING = 8  # upcoming captures the dashboard lists


def upcoming_version(runtime: Runtime, limit: int = UPCOMING) -> Hashable:
    """What the upcoming list shows, comparable: it changed when this did."""
    scheduler = runtime.scheduler
    if scheduler is None:
        return ()
    return tuple(
        (run.camera_id, run.schedule_id, run.when.isoformat()) for run in scheduler.next_runs(limit)
    )


def latest_log_id(runtime: Runtime) -> int:
    entries = runtime.health.log(limit=1)
    return entries[0].id if entries else 0


def capture_changes(runtime: Runtime, after: int) -> tuple[int, list[str]]:
    """(newest log id, ids of the cameras with log entries after ``after``, oldest first).

    Reads only the newest entry while nothing changed, and then as many as there are new ones
    (20 cameras at 1 s: about 20 a second)."""
    newest = latest_log_id(runtime)
    if newest <= after:
        return after, []
    limit = 64
    while True:
        entries = runtime.health.log(limit=limit)
        fresh = [e for e in entries if e.id > after]
        if len(fresh) < len(entries) or len(entries) < limit or limit >= 4096:
            break
        limit *= 4  # all of them new: there may be more
    cameras = list(dict.fromkeys(e.camera_id for e in reversed(fresh)))
    return max((e.id for e in fresh), default=newest), cameras


def _union(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {"cameras": list(dict.fromkeys([*old["cameras"], *new["cameras"]]))}


def _newest(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return new


class Coalescer:
    """Pending changes per event name, let out at most once every ``period`` ticks per name."""

    def __init__(self, period: int) -> None:
        self.period = period
        self._pending: dict[str, dict[str, Any]] = {}
        self._sent_at: dict[str, int] = {}

    def mark(
        self,
        event: str,
        data: dict[str, Any],
        merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = _newest,
    ) -> None:
        """Region ``event`` changed (``data`` describes how; merged with a change not sent yet)."""
        old = self._pending.get(event)
        self._pending[event] = data if old is None else merge(old, data)

    def mark_cameras(self, cameras: list[str], domid: Callable[[str], str]) -> None:
        if not cameras:
            return
        self.mark("capture", {"cameras": cameras}, _union)
        for camera in cameras:
            self.mark(f"capture-{domid(camera)}", {"camera": camera})

    def due(self, tick: int) -> list[tuple[str, dict[str, Any]]]:
        """The events to send at ``tick``: pending ones not sent in the last ``period`` ticks."""
        ready = [
            name
            for name in self._pending
            if name not in self._sent_at or tick - self._sent_at[name] >= self.period
        ]
        for name in ready:
            self._sent_at[name] = tick
        if len(self._sent_at) > 10_000:  # names of long-gone jobs
            self._sent_at = {k: v for k, v in self._sent_at.items() if tick - v < self.period}
        return [(name, self._pending.pop(name)) for name in ready]
