"""pylapse.notify.translate: which job ends, health changes and pauses are news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from pylapse.capture.health import HealthState
from pylapse.jobs.record import JobState
from pylapse.notify.events import EventKind
from pylapse.notify.translate import health_event, job_events, pause_events

WHEN = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def test_jobs_that_end_done_or_failed_are_events() -> None:
    (done,) = job_events("render", JobState.DONE, "Render porch", 7,
                         result={"output": "/v/porch.mp4"}, when=WHEN)  # fmt: skip
    assert (done.kind, done.subject, done.time) == (EventKind.RENDER_DONE, "Render porch", WHEN)
    assert done.data["output"] == "/v/porch.mp4" and done.data["job"] == 7
    assert done.message == "Render porch is done: /v/porch.mp4"
    (failed,) = job_events("export", JobState.FAILED, "Export daily", 8, error="OSError: full",
                           params={"output_dir": "/x"})  # fmt: skip
    assert failed.kind is EventKind.EXPORT_FAILED and "OSError: full" in failed.message
    assert failed.time.tzinfo is not None
    (exported,) = job_events("export", "done", "Export daily", 9, result={"output_dir": "/e"})
    assert exported.kind is EventKind.EXPORT_DONE and exported.data["output"] == "/e"


def test_cancelled_interrupted_and_other_jobs_are_not_news() -> None:
    assert job_events("render", JobState.CANCELLED, "r", 1) == []
    assert job_events("export", JobState.INTERRUPTED, "e", 2) == []
    assert job_events("scan", JobState.DONE, "s", 3) == []


def test_a_scheduled_render_is_also_render_scheduled() -> None:
    events = job_events("render", JobState.DONE, "Yesterday", 4,
                        params={"schedule": "daily"}, when=WHEN)  # fmt: skip
    assert [e.kind for e in events] == [EventKind.RENDER_DONE, EventKind.RENDER_SCHEDULED]
    assert events[1].data["schedule"] == "daily"
    failed = job_events("render", JobState.FAILED, "Yesterday", 5, params={"schedule": "d"})
    assert [e.kind for e in failed] == [EventKind.RENDER_FAILED]


def test_health_changes_into_and_out_of_bad_states() -> None:
    tokyo = WHEN.astimezone(timezone(timedelta(hours=9)))
    offline = health_event("porch", HealthState.FAILING, HealthState.OFFLINE, tokyo, "HTTP 500")
    assert offline is not None and offline.kind is EventKind.CAMERA_OFFLINE
    assert offline.subject == "porch" and offline.time == WHEN and "HTTP 500" in offline.message
    for state, kind in [(HealthState.FROZEN, EventKind.CAMERA_FROZEN),
                        (HealthState.BLANK, EventKind.CAMERA_BLANK),
                        (HealthState.DARK, EventKind.CAMERA_DARK)]:  # fmt: skip
        event = health_event("porch", HealthState.OK, state, WHEN)
        assert event is not None and event.kind is kind
        back = health_event("porch", state, HealthState.OK, WHEN)
        assert back is not None and back.kind is EventKind.CAMERA_BACK
    assert health_event("porch", HealthState.UNKNOWN, HealthState.OK, WHEN) is None
    assert health_event("porch", HealthState.FAILING, HealthState.OK, WHEN) is None
    assert health_event("porch", HealthState.OK, HealthState.FAILING, WHEN) is None
    assert health_event("porch", HealthState.OK, HealthState.DISABLED, WHEN) is None


def test_a_disk_pause_is_capture_paused_and_disk_low() -> None:
    paused, low = pause_events("porch", "/frames/porch", "capture paused: 3 MB free", WHEN)
    assert (paused.kind, paused.subject) == (EventKind.CAPTURE_PAUSED, "porch")
    assert (low.kind, low.subject) == (EventKind.DISK_LOW, "/frames/porch")
    assert pause_events("porch", "/frames/porch", None, WHEN) == []
