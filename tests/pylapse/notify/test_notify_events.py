"""pylapse.notify.events: event names, wildcards and the Event record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pylapse.notify.events import Event, EventKind, expand_pattern, is_event_pattern


def test_names_are_dotted_and_stable() -> None:
    assert EventKind.CAMERA_OFFLINE == "camera.offline"
    assert EventKind("render.scheduled") is EventKind.RENDER_SCHEDULED
    assert {k.family for k in EventKind} == {"camera", "capture", "disk", "export", "render"}


def test_patterns_select_events() -> None:
    assert expand_pattern("*") == frozenset(EventKind)
    assert expand_pattern("camera.*") == {
        EventKind.CAMERA_OFFLINE, EventKind.CAMERA_BACK, EventKind.CAMERA_FROZEN,
        EventKind.CAMERA_BLANK, EventKind.CAMERA_DARK,
    }  # fmt: skip
    assert expand_pattern("disk.low") == {EventKind.DISK_LOW}
    assert expand_pattern("camera.gone") == frozenset()
    assert expand_pattern("nothing.*") == frozenset()
    assert is_event_pattern("export.*") and not is_event_pattern("export")


def test_event_time_must_be_aware_and_is_kept_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Event(EventKind.DISK_LOW, "/data", datetime(2026, 1, 1, 12), "low")
    tokyo = timezone(timedelta(hours=9))
    event = Event(EventKind.DISK_LOW, "/data", datetime(2026, 1, 1, 21, tzinfo=tokyo), "low")
    assert event.time == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert event.time.utcoffset() == timedelta(0)


def test_event_is_frozen_and_its_json_shape() -> None:
    event = Event(
        "render.done",  # type: ignore[arg-type]  # a plain name is taken as the kind
        "Render porch",
        datetime(2026, 3, 1, 6, 30, tzinfo=UTC),
        "video ready",
        {"job": 7},
    )
    assert event.kind is EventKind.RENDER_DONE
    with pytest.raises(TypeError):
        event.data["job"] = 8  # type: ignore[index]
    assert event.to_json() == {
        "event": "render.done",
        "subject": "Render porch",
        "time": "2026-03-01T06:30:00+00:00",
        "message": "video ready",
        "data": {"job": 7},
    }
