"""Collections pages: list, per-collection calendar and day thumbnails, create, rescan, security."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from media_support import (
    BERLIN,
    ENCODED_SEGMENTS,
    XSS,
    HxAttrs,
    demo_frames,
    traversal_values,
    wait_job,
    write_frames,
)
from web_support import BOTH_BACKENDS


@BOTH_BACKENDS
def test_list_shows_each_collection_with_counts_and_bounds(client, runtime) -> None:
    demo_frames(runtime, count=4)
    response = client.get("/collections")
    assert response.status_code == 200
    assert response.template.name == "collections.html"
    rows = {r.id: r for r in response.context["collections"]}
    demo = rows["demo"]
    assert demo.count == 4
    assert demo.zone == "Europe/Berlin"
    assert demo.first.time == datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN)
    assert demo.last.time == datetime(2026, 3, 10, 9, 30, tzinfo=BERLIN)
    assert f"/api/frames/{demo.last.id}/thumb" in response.text


@BOTH_BACKENDS
def test_collection_page_calendar_and_latest_day(client, runtime) -> None:
    # 3 frames on 9 March, 5 on 10 March (Berlin days)
    folder = runtime.config.resolve("timelapse/demo")
    write_frames(folder, datetime(2026, 3, 9, 22, 0, tzinfo=BERLIN), 3, timedelta(minutes=20))
    write_frames(folder, datetime(2026, 3, 10, 8, 0, tzinfo=BERLIN), 5, timedelta(minutes=20))
    runtime.index.scan("demo", folder, BERLIN)
    response = client.get("/collections/demo")
    assert response.status_code == 200
    assert response.template.name == "collection.html"
    ctx = response.context
    assert ctx["c"].count == 8
    assert ctx["month"] == date(2026, 3, 1)
    cells = {cell.day: cell for week in ctx["weeks"] for cell in week}
    assert cells[date(2026, 3, 9)].count == 3
    assert cells[date(2026, 3, 10)].count == 5
    assert cells[date(2026, 3, 10)].level == 4  # the busiest day of the month
    assert cells[date(2026, 3, 11)].count == 0
    assert ctx["day"] == date(2026, 3, 10)  # the last frame's day is shown first
    assert len(ctx["frames"]) == 5
    links = [a for a in HxAttrs(response.text).with_attr("data-day")]
    assert {a["data-day"] for a in links} == {"2026-03-09", "2026-03-10"}


@BOTH_BACKENDS
def test_day_grid_pages_through_a_day(client, runtime) -> None:
    demo_frames(runtime, count=30, step=timedelta(minutes=2))
    first = client.get("/collections/demo/day", params={"day": "2026-03-10", "per_page": 24})
    assert first.status_code == 200
    assert first.template.name == "partials/_day_grid.html"
    assert first.context["pager"].pages == 2 and first.context["pager"].total == 30
    assert len(first.context["frames"]) == 24
    second = client.get(
        "/collections/demo/day", params={"day": "2026-03-10", "per_page": 24, "page": 2}
    )
    frames = second.context["frames"]
    assert len(frames) == 6
    assert frames[-1].time == datetime(2026, 3, 10, 9, 58, tzinfo=BERLIN)
    root_tag, root = HxAttrs(second.text).root()
    assert root_tag == "section" and root["id"] == "day-grid" and root["hx-target"] == "this"
    pager_gets = [a["hx-get"] for a in HxAttrs(second.text).with_attr("hx-get")]
    assert any("page=1" in g for g in pager_gets)
    empty = client.get("/collections/demo/day", params={"day": "2026-03-11"})
    assert empty.context["frames"] == [] and empty.context["pager"].total == 0


@BOTH_BACKENDS
def test_calendar_partial_and_month_navigation(client, runtime) -> None:
    demo_frames(runtime, count=2, start=datetime(2026, 1, 31, 12, 0, tzinfo=BERLIN))
    demo_frames(runtime, count=2, start=datetime(2026, 3, 1, 12, 0, tzinfo=BERLIN))
    response = client.get("/collections/demo/calendar", params={"month": "2026-03"})
    assert response.template.name == "partials/_calendar.html"
    assert response.context["prev_month"] == date(2026, 1, 1)  # February has no frames
    assert response.context["next_month"] is None
    assert response.context["month_total"] == 2
    assert client.get("/collections/demo/calendar", params={"month": "March"}).status_code == 422


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "../../etc"])
def test_bad_day_is_refused(client, day) -> None:
    assert client.get("/collections/demo/day", params={"day": day}).status_code == 422
    assert client.get("/collections/demo", params={"day": day}).status_code == 422


@pytest.mark.parametrize("segment", ["nope", *ENCODED_SEGMENTS])
def test_unknown_or_traversing_collection_id_is_404(client, segment) -> None:
    for url in (f"/collections/{segment}", f"/collections/{segment}/day?day=2026-01-01",
                f"/collections/{segment}/calendar"):  # fmt: skip
        assert client.get(url).status_code == 404, url


@BOTH_BACKENDS
def test_create_collection_indexes_the_folder(client, post, runtime, config_path) -> None:
    folder = runtime.config.root_paths[0] / "imports" / "balcony"
    write_frames(folder, datetime(2025, 6, 1, 12, 0, tzinfo=BERLIN), 4, timedelta(hours=1))
    form = {"name": "Balcony 2025", "path": "imports/balcony", "timezone": "Europe/Berlin"}
    response = post("/collections", form)
    assert response.status_code == 303
    assert response.headers["location"] == "/collections/balcony-2025"
    saved = json.loads(config_path.read_text())["collections"]["balcony-2025"]
    assert saved["path"] == str(folder.resolve()) and saved["timezone"] == "Europe/Berlin"
    jobs = [j for j in runtime.jobs.list(10) if j.kind == "scan"]
    assert jobs and jobs[0].params == {"collection": "balcony-2025"}
    assert wait_job(runtime, jobs[0].id).result["total"] == 4
    page = client.get("/collections/balcony-2025")
    assert page.context["c"].count == 4
    assert page.context["c"].zone == "Europe/Berlin"


@pytest.mark.parametrize("field,value", [("name", ""), ("path", ""), ("path", "missing"),
                                         ("timezone", "Mars/Olympus")])  # fmt: skip
def test_create_collection_errors_name_the_field(post, runtime, field, value) -> None:
    (runtime.config.root_paths[0] / "ok").mkdir()
    data = {"name": "x", "path": "ok", "timezone": "", "date_source": "auto", field: value}
    response = post("/collections", data)
    assert response.status_code == 422
    assert response.template.name == "collections.html"
    assert field in response.context["errors"]
    assert runtime.config.collections == {}


def test_create_collection_refuses_paths_outside_the_roots(post, runtime, tmp_path) -> None:
    for value in traversal_values(tmp_path):
        response = post("/collections", {"name": "evil", "path": value, "date_source": "auto"})
        assert response.status_code == 422, value
        assert "path" in response.context["errors"], value
    assert runtime.config.collections == {}


def test_collection_name_is_escaped(client, post, runtime) -> None:
    (runtime.config.root_paths[0] / "x").mkdir()
    response = post("/collections", {"name": XSS, "path": "x", "date_source": "auto"})
    assert response.status_code == 303
    for url in ("/collections", response.headers["location"]):
        html = client.get(url).text
        assert XSS not in html
        assert "&lt;script&gt;alert(" in html


@BOTH_BACKENDS
def test_rescan_runs_a_scan_job_and_its_card_stops_polling(client, post, runtime) -> None:
    demo_frames(runtime, count=2)
    folder = runtime.config.resolve("timelapse/demo")
    write_frames(folder, datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN), 3, timedelta(minutes=1))
    response = post("/collections/demo/rescan", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.template.name == "partials/_media_job.html"
    job = response.context["job"]
    assert job.kind == "scan"
    done = wait_job(runtime, job.id)
    assert done.result["added"] == 3 and done.result["total"] == 5
    card = client.get(f"/collections/jobs/{job.id}")
    _tag, root = HxAttrs(card.text).root()
    assert root["hx-target"] == "this"
    assert "hx-trigger" not in root and "hx-get" not in root  # finished: no more updates
    assert card.headers["HX-Trigger"] == "scan-finished"  # the summary and calendar refresh
    assert client.get("/collections/demo").context["c"].count == 5
    # without htmx the form falls back to a redirect to the page
    plain = post("/collections/demo/rescan")
    assert plain.status_code == 303 and plain.headers["location"] == "/collections/demo"


def test_running_job_card_carries_its_trigger(client, runtime) -> None:
    import threading

    release = threading.Event()

    def slow(progress, cancel):  # type: ignore[no-untyped-def]
        release.wait(10)
        return {}

    job_id = runtime.jobs.submit("scan", "Index demo", slow, steps=("scan",),
                                 params={"collection": "demo"})  # fmt: skip
    try:
        card = client.get(f"/collections/jobs/{job_id}")
        _tag, root = HxAttrs(card.text).root()
        assert root["hx-get"] == f"/collections/jobs/{job_id}"
        assert f"sse:job-{job_id}" in (root["hx-trigger"] or "")
        page = client.get("/collections/demo")
        assert [j.id for j in page.context["scan_jobs"]] == [job_id]
    finally:
        release.set()
        wait_job(runtime, job_id)


def test_posts_need_the_csrf_token(client) -> None:
    assert client.post("/collections", data={"name": "x", "path": "x"}).status_code == 403
    assert client.post("/collections/demo/rescan").status_code == 403
    bad = client.post("/collections/demo/rescan", headers={"X-CSRF-Token": "wrong"})
    assert bad.status_code == 403


def test_job_of_another_kind_is_not_served_here(client, runtime) -> None:
    job_id = runtime.jobs.submit("render", "r", lambda p, c: {}, steps=("encode",), params={})
    wait_job(runtime, job_id)
    assert client.get(f"/collections/jobs/{job_id}").status_code == 404
    assert client.get("/collections/jobs/999999").status_code == 404


@BOTH_BACKENDS
def test_collection_page_counts_frame_times_and_filters_flagged_frames(
    client, runtime, monkeypatch
) -> None:
    from _time_support import mixed_frames

    mixed_frames(runtime, monkeypatch)
    page = client.get("/collections/demo")
    assert page.status_code == 200
    lazy = HxAttrs(page.text).with_attr("hx-trigger")
    assert any(a.get("hx-get") == "/collections/demo/times" and a["hx-trigger"] == "load"
               for a in lazy)  # fmt: skip
    times = client.get("/collections/demo/times")
    assert times.template.name == "partials/_frame_times.html"
    counts = times.context["times"]
    assert dict(counts.statuses()) == {"certain": 2, "inferred": 1, "assumed": 1, "conflict": 1}
    assert counts.offset_source == {"exif-offset": 2, "neighbours": 1, "zone": 2}
    assert counts.time_source == {"exif": 4, "mtime": 1}
    assert 'href="/collections/demo?flagged=1"' in times.text
    assert "Show only the 1 flagged frame" in times.text
    flagged = client.get("/collections/demo", params={"flagged": 1})
    assert flagged.status_code == 200
    frames = flagged.context["flagged_frames"]
    assert [f.name for f in frames] == ["gps.jpg"]
    assert flagged.context["pager"].total == 1
    assert "GPS says +02:00" in flagged.text
    assert "a.jpg" not in flagged.text


@BOTH_BACKENDS
def test_rescan_after_a_zone_change_says_how_many_frames_changed(
    client, post, runtime, monkeypatch
) -> None:
    from _time_support import exif_jpeg

    folder = runtime.config.resolve("timelapse/demo")
    exif_jpeg(folder / "roll" / "phone.jpg", "2026:03:10 09:00:00")  # no offset evidence
    runtime.index.scan("demo", folder, "Asia/Tokyo")  # indexed in another zone before
    response = post("/collections/demo/rescan", headers={"HX-Request": "true"})
    done = wait_job(runtime, response.context["job"].id)
    assert done.result["zone_change"] == "Asia/Tokyo -> Europe/Berlin"
    assert done.result["reresolved"] == 1
    card = client.get(f"/collections/jobs/{done.id}")
    assert "Zone changed (Asia/Tokyo -&gt; Europe/Berlin): 1 frame without offset" in card.text
    assert "phone.jpg: 2026-03-10T09:00:00+09:00 -&gt; 2026-03-10T09:00:00+01:00" in card.text
