"""Which happenings become which events: a job's end, a camera's health change, a disk pause.

The wings that report these (jobs, capture) know nothing of notifications, and this wing sits
below them, so the happenings arrive as plain values (their enums are ``StrEnum``s and compare
equal to these names); :mod:`pylapse.runtime` connects the two. Anything that is not news gives
no event: a job cancelled, a camera's first frame, a camera that failed once and recovered
before it was called offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pylapse.notify.events import Event, EventKind

__all__ = ["health_event", "job_events", "pause_events"]

_JOB_EVENTS = {
    ("export", "done"): EventKind.EXPORT_DONE,
    ("export", "failed"): EventKind.EXPORT_FAILED,
    ("render", "done"): EventKind.RENDER_DONE,
    ("render", "failed"): EventKind.RENDER_FAILED,
}
_BAD_STATES = {
    "offline": EventKind.CAMERA_OFFLINE,
    "frozen": EventKind.CAMERA_FROZEN,
    "blank": EventKind.CAMERA_BLANK,
    "dark": EventKind.CAMERA_DARK,
}
_SAYS = {"offline": "is offline", "frozen": "looks frozen", "blank": "sends blank frames",
         "dark": "is far darker than yesterday"}  # fmt: skip


def job_events(
    kind: str,
    state: str,
    title: str,
    job_id: int,
    *,
    params: Mapping[str, Any] | None = None,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
    when: datetime | None = None,
) -> list[Event]:
    """The events of a job that ended: ``export.*`` and ``render.*`` for done and failed, and
    ``render.scheduled`` as well when a render schedule's render (``params["schedule"]``)
    produced its video. The subject is the job's title."""
    event = _JOB_EVENTS.get((kind, str(state)))
    if event is None:
        return []
    params, result = params or {}, result or {}
    output = result.get("output") or result.get("output_dir") or params.get("output")
    data: dict[str, Any] = {"job": job_id, "kind": kind, "state": str(state)}
    if output:
        data["output"] = str(output)
    if error:
        data["error"] = error
        message = f"{title} failed: {error}"
    else:
        message = f"{title} is done" + (f": {output}" if output else "")
    time = when.astimezone(UTC) if when else datetime.now(UTC)
    events = [Event(event, title, time, message, data)]
    schedule = params.get("schedule")
    if event is EventKind.RENDER_DONE and schedule:
        data = {**data, "schedule": str(schedule)}
        events.append(Event(EventKind.RENDER_SCHEDULED, title, time, message, data))
    return events


def health_event(
    camera_id: str, old: str, new: str, time: datetime, reason: str = ""
) -> Event | None:
    """The event of a camera's health change: ``camera.offline``/``frozen``/``blank``/``dark``
    on entering that state, ``camera.back`` on good frames after one of them. The subject is
    the camera id."""
    data = {"camera": camera_id, "old": str(old), "new": str(new), "reason": reason}
    bad = _BAD_STATES.get(str(new))
    if bad is not None and str(old) != str(new):
        text = f"Camera {camera_id} {_SAYS[str(new)]}" + (f": {reason}" if reason else "")
        return Event(bad, camera_id, time, text, data)
    if str(new) == "ok" and str(old) in _BAD_STATES:
        return Event(EventKind.CAMERA_BACK, camera_id, time,
                     f"Camera {camera_id} is back (was {old})", data)  # fmt: skip
    return None


def pause_events(
    camera_id: str, folder: str, reason: str | None, time: datetime | None = None
) -> list[Event]:
    """The events of capture paused for want of disk space: ``capture.paused`` about the
    camera and ``disk.low`` about its folder (so cameras sharing a disk are one message under
    a cooldown). Nothing when capture resumes."""
    if not reason:
        return []
    when = time.astimezone(UTC) if time else datetime.now(UTC)
    data = {"camera": camera_id, "folder": folder, "reason": reason}
    return [
        Event(EventKind.CAPTURE_PAUSED, camera_id, when, f"{camera_id}: {reason}", data),
        Event(EventKind.DISK_LOW, folder, when, reason, data),
    ]
