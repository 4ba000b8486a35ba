"""The day player's data and pages, and the calendar's colours against what a day should have."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from media_support import BERLIN, HxAttrs, demo_frames, write_frames
from web_support import BOTH_BACKENDS

from web import player


def _days(runtime, spec: dict[date, int], step: timedelta = timedelta(minutes=10)) -> None:
    """``spec``: frames per Berlin day (from 09:00, ``step`` apart) in the demo camera's folder."""
    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    for day, n in spec.items():
        start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=BERLIN)
        write_frames(folder, start, n, step)
    runtime.index.scan("demo", folder, BERLIN)


@BOTH_BACKENDS
def test_day_json_lists_the_days_frames_as_parallel_arrays(client, runtime) -> None:
    _days(runtime, {date(2026, 3, 9): 2, date(2026, 3, 10): 6, date(2026, 3, 12): 1})
    response = client.get("/collections/demo/frames.json", params={"day": "2026-03-10"})
    assert response.status_code == 200
    body = response.json()
    assert body["day"] == "2026-03-10"
    assert body["zone"] == "Europe/Berlin"
    assert body["count"] == 6
    assert len(body["ids"]) == len(body["t"]) == len(body["offset"]) == len(body["luma"]) == 6
    first = datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN).timestamp()
    assert body["t"] == [first + 600 * i for i in range(6)]
    assert body["offset"] == [3600] * 6  # CET
    assert body["start"] == datetime(2026, 3, 10, tzinfo=BERLIN).timestamp()
    assert body["end"] - body["start"] == 86400
    assert body["previous_day"] == "2026-03-09"
    assert body["next_day"] == "2026-03-12"  # the 11th has no frames: skipped
    assert [h for _, h in body["hours"]] == list(range(24))
    assert body["gaps"] == []
    # the demo camera is in Berlin: night before dawn and after dusk, twilight between
    night = body["night"]
    assert len(night) == 2
    assert night[0][0] == body["start"] and night[1][1] == body["end"]
    assert datetime(2026, 3, 10, 5, 0, tzinfo=BERLIN).timestamp() < night[0][1]
    assert night[0][1] < datetime(2026, 3, 10, 6, 30, tzinfo=BERLIN).timestamp()
    assert len(body["twilight"]) == 2


@BOTH_BACKENDS
def test_day_json_marks_gaps_and_flagged_frames(client, runtime) -> None:
    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    start = datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)
    write_frames(folder, start, 10, timedelta(minutes=1))
    write_frames(folder, start + timedelta(hours=2), 10, timedelta(minutes=1))
    runtime.index.scan("demo", folder, BERLIN)
    frames = runtime.index.frames("demo")
    flagged = frames[3]
    with runtime.index._conn:  # mark one frame's time as conflicting, as a scan would
        runtime.index._conn.execute(
            "UPDATE frames SET time_status = 'conflict', time_reason = 'EXIF says 2019' "
            "WHERE id = ?", (flagged.id,))  # fmt: skip
        # measured metrics, as capture stores them: the brightness curve and sizes come along
        runtime.index._conn.execute(
            "UPDATE frames SET luma = 101.26, size = 2048, width = 64, height = 36 WHERE id = ?",
            (frames[0].id,))  # fmt: skip
    body = client.get("/collections/demo/frames.json", params={"day": "2026-03-10"}).json()
    assert (body["luma"][0], body["bytes"][0], body["width"][0], body["height"][0]) == (
        101.3, 2048, 64, 36)  # fmt: skip
    assert body["luma"][1] is None  # a scanned frame: not measured
    assert body["gaps"] == [[body["t"][9], body["t"][10]]]
    assert body["flags"] == {"3": {"status": "conflict", "reason": "EXIF says 2019"}}


def test_gaps_follow_the_usual_step() -> None:
    every_10s = [float(i * 10) for i in range(100)]
    assert player.gaps(every_10s) == []
    holed = every_10s[:50] + [t + 300 for t in every_10s[50:]]
    assert player.gaps(holed) == [(490.0, 800.0)]
    # a pause under a minute is jitter, not a gap, however regular the frames are
    assert player.gaps([0.0, 1.0, 2.0, 3.0, 50.0, 51.0]) == []


def test_night_is_empty_without_a_location_and_whole_in_polar_night() -> None:
    zone = BERLIN
    assert player.night_spans(date(2026, 3, 10), zone, None, 13.4) == {"night": [], "twilight": []}
    polar = player.night_spans(date(2026, 12, 21), player._zone("Arctic/Longyearbyen"), 78.2, 15.6)
    start, end = player.day_bounds(date(2026, 12, 21), player._zone("Arctic/Longyearbyen"))
    assert polar["night"] == [(start.timestamp(), end.timestamp())]
    midsummer = player.night_spans(
        date(2026, 6, 21), player._zone("Arctic/Longyearbyen"), 78.2, 15.6
    )
    assert midsummer == {"night": [], "twilight": []}


def test_hour_ticks_on_a_dst_day_have_23_hours() -> None:
    start, end = player.day_bounds(date(2026, 3, 29), BERLIN)
    hours = [h for _, h in player.hour_ticks(start.timestamp(), end.timestamp(), BERLIN)]
    assert hours == [0, 1, *range(3, 24)]


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", ""])
def test_day_json_refuses_a_bad_day(client, day) -> None:
    assert client.get("/collections/demo/frames.json", params={"day": day}).status_code == 422


@BOTH_BACKENDS
def test_player_page_starts_at_a_frame_or_a_time(client, runtime) -> None:
    demo_frames(runtime, count=6)
    frames = runtime.index.frames("demo")
    response = client.get("/collections/demo/play", params={"frame": frames[2].id})
    assert response.status_code == 200
    assert response.template.name == "player.html"
    assert response.context["day"] == date(2026, 3, 10)
    assert response.context["start_time"] == "09:20:00"
    found = HxAttrs(response.text).with_attr("data-json")[0]
    assert found["data-t"] == "09:20:00"
    assert found["data-json"] == "/collections/demo/frames.json"
    deep = client.get("/collections/demo/play", params={"day": "2026-03-10", "t": "09:40"})
    assert deep.context["start_time"] == "09:40"
    assert client.get("/collections/demo/play").context["day"] == date(2026, 3, 10)
    assert client.get("/collections/demo/play", params={"t": "<b>"}).status_code == 422
    assert client.get("/collections/demo/play", params={"fps": 61}).status_code == 422
    assert client.get("/collections/demo/play", params={"frame": 999999}).status_code == 404


@BOTH_BACKENDS
def test_day_grid_links_each_thumbnail_to_the_player(client, runtime) -> None:
    demo_frames(runtime, count=3)
    frames = runtime.index.frames("demo")
    text = client.get("/collections/demo/day", params={"day": "2026-03-10"}).text
    for f in frames:
        assert f'href="/collections/demo/play?frame={f.id}"' in text
    assert 'href="/collections/demo/play?day=2026-03-10"' in text


# -- calendar ------------------------------------------------------------------------------------


def _cells(response) -> dict[date, object]:
    return {cell.day: cell for week in response.context["weeks"] for cell in week}


@BOTH_BACKENDS
def test_calendar_colours_days_against_the_schedule(client, runtime) -> None:
    # the demo camera's schedule: 08:05, 10:05 and 12:05 on weekdays (1-5: Tue-Sat), so 3 a day
    _days(runtime, {date(2026, 3, 10): 3, date(2026, 3, 11): 1, date(2026, 3, 13): 2})
    response = client.get("/collections/demo/calendar", params={"month": "2026-03"})
    cells = _cells(response)
    assert response.context["by_schedule"] is True
    full, thin, two = cells[date(2026, 3, 10)], cells[date(2026, 3, 11)], cells[date(2026, 3, 13)]
    assert (full.expected, full.level, full.short) == (3, 4, False)
    assert (thin.level, thin.short) == (1, True)
    assert (two.level, two.short) == (2, True)
    missed = cells[date(2026, 3, 12)]  # a weekday inside the archive with no frames at all
    assert (missed.count, missed.short) == (0, True)
    assert cells[date(2026, 3, 16)].short is False  # Monday: the schedule expects nothing
    # the camera is enabled: the weekdays after its last frame up to yesterday were missed
    assert cells[date(2026, 3, 20)].short is True
    assert response.context["short_days"] == 3 + 12  # 14, 17-21, 24-28 and 31 March too
    attrs = {a["data-day"]: a for a in HxAttrs(response.text).with_attr("data-day")}
    assert "short" in attrs["2026-03-11"]["class"].split()
    assert "short" not in attrs["2026-03-10"]["class"].split()


@BOTH_BACKENDS
def test_calendar_of_a_disabled_camera_ends_at_its_last_frame(client, runtime) -> None:
    runtime.config.cameras["demo"].enabled = False
    _days(runtime, {date(2026, 3, 10): 3, date(2026, 3, 11): 1})
    cells = _cells(client.get("/collections/demo/calendar", params={"month": "2026-03"}))
    assert cells[date(2026, 3, 11)].short is True
    assert cells[date(2026, 3, 12)].short is False  # after the last frame: nothing was missed


def test_calendar_without_a_schedule_uses_the_median_day(client, runtime, post) -> None:
    runtime.config.cameras["demo"].schedules.clear()
    _days(runtime, {date(2026, 3, d): n for d, n in ((2, 10), (3, 10), (4, 10), (5, 4))})
    response = client.get("/collections/demo/calendar", params={"month": "2026-03"})
    cells = _cells(response)
    assert response.context["by_schedule"] is False
    assert cells[date(2026, 3, 2)].expected == 10
    assert cells[date(2026, 3, 2)].level == 4
    assert (cells[date(2026, 3, 5)].level, cells[date(2026, 3, 5)].short) == (1, True)


def test_expected_counts_add_interval_schedules(runtime) -> None:
    camera = runtime.config.cameras["demo"].model_copy(deep=True)
    camera.schedules[1].enabled = True  # every 2 s
    counts = player.expected_counts(camera, [date(2026, 3, 10), date(2026, 3, 16)])
    assert counts == {date(2026, 3, 10): 43200 + 3, date(2026, 3, 16): 43200}
    assert player.expected_counts(None, [date(2026, 3, 10)]) == {}


def test_year_view_shows_twelve_months(client, runtime) -> None:
    _days(runtime, {date(2025, 12, 30): 3, date(2026, 3, 10): 3, date(2026, 3, 11): 1})
    response = client.get("/collections/demo/calendar", params={"view": "year", "year": 2026})
    assert response.status_code == 200
    ctx = response.context
    assert ctx["view"] == "year" and ctx["year"] == 2026
    assert ctx["years"] == [2025, 2026]
    assert len(ctx["year_months"]) == 12
    assert ctx["year_total"] == 4
    attrs = {a["data-day"]: a for a in HxAttrs(response.text).with_attr("data-day")}
    assert set(attrs) == {"2026-03-10", "2026-03-11"}
    assert attrs["2026-03-11"]["data-level"] == "1"
    page = client.get("/collections/demo", params={"view": "year"})
    assert page.context["view"] == "year" and page.context["year"] == 2026
    assert client.get("/collections/demo/calendar", params={"view": "decade"}).status_code == 422


# -- ways in -------------------------------------------------------------------------------------


def test_dashboard_latest_frame_and_export_preview_open_the_player(client, runtime) -> None:
    demo_frames(runtime, count=3)
    last = runtime.index.last("demo")
    runtime.health.record_success("demo", datetime.now(BERLIN), path=last.path, frame_id=last.id,
                                  size=1000, digest="d", stddev=20.0, duration=0.1)  # fmt: skip
    card = client.get("/dashboard/cameras", params={"camera": "demo"}).text
    assert f'href="/collections/demo/play?frame={last.id}"' in card
    overlay = client.get("/exports/overlay", params={"collection": "demo", "ext": "jpg"})
    assert f'href="/collections/demo/play?frame={last.id}"' in overlay.text
    # and that link opens the frame's day at its time
    page = client.get(f"/collections/demo/play?frame={last.id}")
    assert (page.context["day"], page.context["start_time"]) == (date(2026, 3, 10), "09:20:00")
