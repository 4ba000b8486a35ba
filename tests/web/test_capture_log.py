"""The dashboard's capture log reads like a diary: pauses are information, each row is in its
camera's zone with the offset once, a camera's repeated failure is one row with a count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pylapse import timeutil

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Berlin (the demo camera's zone)


def _fail(runtime, camera: str, minutes: int, error: str = "HTTP 500 from camera") -> None:  # type: ignore[no-untyped-def]
    runtime.health.record_failure(camera, T0 + timedelta(minutes=minutes), error, duration=0.1)


def test_repeated_failures_collapse_into_one_row(client, runtime) -> None:
    for minute in range(5):
        _fail(runtime, "demo", minute)
    _fail(runtime, "demo", 5, "timed out after 10 s")
    _fail(runtime, "demo", 6, "timed out after 10 s")
    response = client.get("/dashboard/log")
    rows = response.context["log_rows"]
    assert [(r.entry.message, r.count) for r in rows] == [
        ("timed out after 10 s", 2), ("HTTP 500 from camera", 5),
    ]  # fmt: skip
    oldest = rows[1]
    assert oldest.first is not None and oldest.first < oldest.time
    assert oldest.first.strftime("%H:%M") == "09:00" and oldest.time.strftime("%H:%M") == "09:04"
    assert "×5" in response.text and "×2" in response.text
    assert response.context["log_total"] == 7  # the entries are all kept; only shown together


def test_a_success_between_failures_keeps_them_apart(client, runtime) -> None:
    _fail(runtime, "demo", 0)
    runtime.health.record_success(
        "demo", T0 + timedelta(minutes=1), path="/x/a.jpg", frame_id=None, size=10,
        digest="d", stddev=30.0, duration=0.1,
    )  # fmt: skip
    _fail(runtime, "demo", 2)
    rows = client.get("/dashboard/log").context["log_rows"]
    assert [r.count for r in rows] == [1, 1, 1]


def test_a_pause_is_an_info_row_not_a_failure(client, post, runtime) -> None:
    runtime.health.set_paused_reason("demo", "paused by the user")
    runtime.health.set_paused_reason("demo", None)
    response = client.get("/dashboard/log")
    resumed, paused = response.context["log_rows"]
    assert paused.info and resumed.info
    assert paused.entry.kind == "pause" and resumed.entry.kind == "resume"
    assert 'class="badge failed"' not in response.text
    assert "paused by the user" in response.text and 'class="badge paused"' in response.text
    assert 'class="small error"' not in response.text


def test_each_row_is_in_the_cameras_zone_with_its_offset_once(client, runtime) -> None:
    _fail(runtime, "demo", 0)
    runtime.health.set_paused_reason("demo", "paused by the user")  # stored at UTC now
    response = client.get("/dashboard/log")
    berlin = timeutil.zone("Europe/Berlin")
    for row in response.context["log_rows"]:
        assert row.time.utcoffset() == row.time.astimezone(berlin).utcoffset()
    html = response.text
    assert "03-10 09:00:00" in html  # 08:00 UTC shown as Berlin's wall clock
    cell = re.search(r"03-10 09:00:00 <span class=\"muted\">([^<]+)</span>", html)
    assert cell and cell.group(1) == "+01:00"
    assert html.count("+01:00") + html.count("+02:00") >= 2  # one offset per row, no zone name


def test_relative_times_carry_their_instant_for_the_page_to_update(client, runtime) -> None:
    _fail(runtime, "demo", 0)
    html = client.get("/dashboard/log").text
    stamps = re.findall(r'<time class="ago[^"]*" datetime="([^"]+)">([^<]+)</time>', html)
    assert stamps and stamps[0][0].startswith("2026-03-10T09:00:00+01:00")
    assert stamps[0][1].endswith(" ago")
    script = client.get("/static/app.js").text
    assert "time.ago[datetime]" in script and "setInterval(tickAgo" in script
