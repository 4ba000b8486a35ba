"""Dashboard page and its partials, each refreshing on its own; actions return their partial."""

from __future__ import annotations

import json
import re
import threading
from html.parser import HTMLParser
from io import BytesIO

import pytest
from PIL import Image

from pylapse.jobs.record import JobState
from pylapse.progress import Cancelled, Progress


class _HxRoots(HTMLParser):
    """Attributes of every element that has an id."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        a = dict(attrs)
        if a.get("id"):
            self.by_id[a["id"]] = a


def hx(html: str) -> dict[str, dict[str, str | None]]:
    parser = _HxRoots()
    parser.feed(html)
    return parser.by_id


def test_dashboard_page_context(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.template.name == "dashboard.html"
    ctx = response.context
    [card] = ctx["cards"]
    assert card.id == "demo" and card.config.name == "Demo camera"
    assert card.next_run is not None and str(card.next_run.tzinfo) == "Europe/Berlin"
    assert ctx["scheduler_present"] is True and ctx["scheduler_paused"] is False
    assert [r.camera_id for r in ctx["upcoming"]] == ["demo"] * len(ctx["upcoming"])
    assert ctx["log_total"] == 0 and ctx["log_per_page"] == 25
    assert ctx["volumes"], "the storage root's volume is listed"
    assert ctx["active_jobs"] == []
    assert "<title>Dashboard · pyLapse</title>" in response.text


def test_each_section_refreshes_on_its_own(client) -> None:
    html = client.get("/").text
    ids = hx(html)
    body = re.search(r"<body[^>]*>", html).group(0)
    assert 'hx-boost="true"' in body and 'sse-connect="/events"' in body
    expected = {
        "scheduler": "/dashboard/scheduler",
        "camera-statuses": "/dashboard/cameras",
        "capture-log": "/dashboard/log?page=1&per_page=25&camera=",
        "upcoming": "/dashboard/upcoming",
        "disk": "/dashboard/disk",
        "jobs": "/dashboard/jobs",
    }
    for element_id, url in expected.items():
        attrs = ids[element_id]
        assert attrs["hx-get"] == url, element_id
        assert "every" in (attrs["hx-trigger"] or ""), element_id
    # the cards are refreshed together (one request for the cameras that captured), not each
    # on its own event: 20 cameras at 1 s made 20 requests a second per tab
    assert "hx-trigger" not in ids["camera-status-demo"]
    assert "sse:capture," in ids["camera-statuses"]["hx-trigger"]
    assert ids["camera-statuses"]["hx-swap"] == "none"
    assert "data-changed-cameras" in ids["camera-statuses"]
    assert "sse:capture," in ids["capture-log"]["hx-trigger"]
    assert "sse:upcoming," in ids["upcoming"]["hx-trigger"]
    assert "sse:job" in ids["jobs"]["hx-trigger"]


def test_a_filtered_capture_log_listens_to_its_camera_only(client) -> None:
    html = client.get("/dashboard/log", params={"camera": "demo"}).text
    assert hx(html)["capture-log"]["hx-trigger"].startswith("sse:capture-demo,")


def test_the_cards_of_several_cameras_come_in_one_response(client, post) -> None:
    post("/cameras/new", data={"name": "Second", "type": "synthetic", "output_dir": "timelapse/b",
                               "timezone": "UTC", "id": "second"})  # fmt: skip
    response = client.get("/dashboard/cameras", params=[("camera", "demo"), ("camera", "gone")])
    assert response.template.name == "partials/_camera_statuses.html"
    roots = hx(response.text)
    assert [k for k in roots if k.startswith("camera-status-")] == ["camera-status-demo"]
    assert roots["camera-status-demo"]["hx-swap-oob"] == "true"  # swapped into its card by id
    every = hx(client.get("/dashboard/cameras").text)
    assert {k for k in every if k.startswith("camera-status-")} == {
        "camera-status-demo",
        f"camera-status-{next(c for c in client.app.state.runtime.config.cameras if c != 'demo')}",
    }


@pytest.mark.parametrize(
    ("url", "template", "root"),
    [
        ("/dashboard/scheduler", "partials/_scheduler.html", "scheduler"),
        ("/dashboard/cameras/demo", "partials/_camera_status.html", "camera-status-demo"),
        ("/dashboard/log", "partials/_capture_log.html", "capture-log"),
        ("/dashboard/upcoming", "partials/_upcoming.html", "upcoming"),
        ("/dashboard/disk", "partials/_disk.html", "disk"),
        ("/dashboard/jobs", "partials/_jobs.html", "jobs"),
    ],
)
def test_partials_render_alone_with_one_root(client, url: str, template: str, root: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.template.name == template
    text = response.text.strip()
    assert re.match(rf'<\w+ id="{root}"', text), text[:80]
    assert "<html" not in text


def test_pause_and_resume_capture(client, post, runtime) -> None:
    response = post("/dashboard/scheduler/pause")
    assert response.template.name == "partials/_scheduler.html"
    assert response.context["scheduler_paused"] is True
    assert response.headers["HX-Trigger"] == "capture"
    assert runtime.scheduler.paused
    assert client.get("/dashboard/upcoming").context["upcoming"] == []
    response = post("/dashboard/scheduler/resume")
    assert response.context["scheduler_paused"] is False and not runtime.scheduler.paused
    assert post("/dashboard/scheduler/explode").status_code == 404


@pytest.mark.slow
def test_grab_now_saves_a_frame_and_shows_its_cached_thumbnail(client, post, runtime) -> None:
    response = post("/cameras/demo/grab")
    assert response.template.name == "partials/_camera_status.html"
    assert response.context["card_message_kind"] == "ok", response.context["card_message"]
    card = response.context["card"]
    frame_id = card.health.last_frame_id
    assert frame_id is not None and card.health.last_success is not None
    assert f"/api/frames/{frame_id}/thumb" in response.text

    thumb = client.get(f"/api/frames/{frame_id}/thumb")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with Image.open(BytesIO(thumb.content)) as image:
        assert image.size[0] <= 400
    # the thumb size ("-u"); the background maker may have made the preview size beside it
    cached = list((runtime.data_path / "thumbs").rglob(f"{frame_id}-*-u.jpg"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    assert client.get(f"/api/frames/{frame_id}/thumb").content == thumb.content
    assert cached[0].stat().st_mtime_ns == stamp  # served from the cache, not made again

    full = client.get(f"/api/frames/{frame_id}/image")
    assert full.status_code == 200 and full.content[:3] == b"\xff\xd8\xff"

    log = client.get("/dashboard/log").context
    assert log["log_total"] == 1 and log["log_entries"][0].ok


@pytest.mark.slow
def test_capture_log_pages(client, runtime) -> None:
    for _ in range(12):
        runtime.grab_now("demo")
    first = client.get("/dashboard/log", params={"per_page": 10})
    ctx = first.context
    assert ctx["log_total"] == 12 and ctx["log_pages"] == 2 and len(ctx["log_entries"]) == 10
    assert "every" in hx(first.text)["capture-log"]["hx-trigger"]
    second = client.get("/dashboard/log", params={"per_page": 10, "page": 2})
    assert len(second.context["log_entries"]) == 2
    # older pages do not poll: the rows would shift under the reader
    assert "hx-trigger" not in hx(second.text)["capture-log"]
    newest, oldest = ctx["log_entries"][0], second.context["log_entries"][-1]
    assert newest.time >= oldest.time
    assert client.get("/dashboard/log", params={"page": 99}).context["log_page"] == 1
    assert client.get("/dashboard/log", params={"per_page": 7}).status_code == 422
    assert client.get("/dashboard/log", params={"camera": "nope"}).status_code == 404
    assert client.get("/dashboard/log", params={"camera": "demo"}).context["log_total"] == 12


def test_enable_toggle_saves_the_config(client, post, runtime, config_path) -> None:
    response = post("/cameras/demo/enabled", data={"enabled": ""})
    assert response.template.name == "partials/_camera_status.html"
    assert response.context["card"].health.state == "disabled"
    assert response.context["card"].next_run is None
    assert json.loads(config_path.read_text())["cameras"]["demo"]["enabled"] is False
    assert not any(r.camera_id == "demo" for r in runtime.scheduler.next_runs(5))
    response = post("/cameras/demo/enabled", data={"enabled": "on"})
    assert runtime.config.cameras["demo"].enabled is True
    assert response.context["card"].next_run is not None


def test_running_jobs_show_progress_and_can_be_cancelled(client, post, runtime) -> None:
    started = threading.Event()

    def work(progress, cancel):
        progress(Progress("process", 3, 10, rate=2.0, eta=3.5))
        started.set()
        cancel.wait(10)
        raise Cancelled()

    job_id = runtime.jobs.submit("export", "Export <demo>", work)
    assert started.wait(10)
    jobs = client.get("/dashboard/jobs")
    [job] = jobs.context["active_jobs"]
    assert job.id == job_id and job.state == JobState.RUNNING
    assert "Export &lt;demo&gt;" in jobs.text
    one = client.get(f"/jobs/{job_id}")
    assert one.template.name == "partials/_job.html"
    attrs = hx(one.text)[f"job-{job_id}"]
    assert f"sse:job-{job_id}" in attrs["hx-trigger"]
    cancelled = post(f"/jobs/{job_id}/cancel")
    assert cancelled.template.name == "partials/_job.html"
    final = runtime.jobs.wait(job_id, 10)
    assert final.state == JobState.CANCELLED
    done = client.get(f"/jobs/{job_id}")
    assert "hx-trigger" not in hx(done.text)[f"job-{job_id}"]  # finished: updates stop
    assert client.get("/jobs/999").status_code == 404


def test_unknown_camera_partials_are_404(client, post) -> None:
    assert client.get("/dashboard/cameras/nope").status_code == 404
    assert post("/cameras/nope/grab").status_code == 404
    assert post("/cameras/nope/enabled").status_code == 404
    assert client.get("/cameras/nope/preview.mjpg").status_code == 404


def test_errors_are_pages_for_browsers_and_json_for_scripts(client) -> None:
    page = client.get("/cameras/nope", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.template.name == "error.html"
    assert page.context["detail"] == "no camera 'nope'"
    htmx = client.get("/dashboard/cameras/nope", headers={"Accept": "text/html", "HX-Request": "1"})
    assert htmx.json() == {"detail": "no camera 'nope'"}
    assert client.get("/api/cameras/nope", headers={"Accept": "text/html"}).json()["detail"]


def test_dashboard_without_a_scheduler(config_path) -> None:
    from web_support import make_client

    from pylapse.config.file import load_config
    from pylapse.runtime import Runtime
    from web.app import create_app

    runtime = Runtime(load_config(config_path), config_path=config_path, scheduler=False)
    try:
        with make_client(create_app(runtime)) as c:
            page = c.get("/")
            assert page.status_code == 200 and page.context["scheduler_present"] is False
            assert page.context["cards"][0].next_run is None and page.context["upcoming"] == []
            assert "capture off" in page.text
            token = c.get("/api/session").json()["csrf_token"]
            paused = c.post("/dashboard/scheduler/pause", headers={"X-CSRF-Token": token})
            assert paused.status_code == 409
    finally:
        runtime.stop()


def test_a_frozen_or_dark_camera_card_says_why(client, runtime) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for i in range(5):  # the same bytes five times: a frozen camera
        runtime.health.record_success(
            "demo", start + timedelta(minutes=i), path=f"/f/{i}.jpg", frame_id=None, size=10,
            digest="same", stddev=30.0, duration=0.1,
        )  # fmt: skip
    response = client.get("/dashboard/cameras/demo")
    assert response.context["card"].health.state == "frozen"
    why = re.search(r'class="small health-reason">([^<]*)<', response.text)
    assert why is not None and why.group(1) == "5 identical frames in a row"
    runtime.health.record_success(
        "demo", start + timedelta(minutes=9), path="/f/9.jpg", frame_id=None, size=10,
        digest="new", stddev=30.0, duration=0.1, luma=20.0, luma_yesterday=115.0,
    )  # fmt: skip
    text = client.get("/dashboard/cameras/demo").text
    assert "far darker than the same time yesterday (luma 20, was 115)" in text
    assert '<span class="badge dark">dark</span>' in text
