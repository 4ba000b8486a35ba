"""A camera's retention page: the policy, a preview per day, a run as a job (POST + CSRF), the
trash listed; a camera without retention says how to turn it on."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from media_support import BERLIN, HxAttrs, demo_frames, wait_job
from web_support import BOTH_BACKENDS, demo_config

AT = "2026-04-01T00:00+02:00"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = demo_config(tmp_path)
    raw = json.loads(path.read_text())
    raw["cameras"]["demo"]["retention"] = {"enabled": True, "keep_all_days": 1,
                                           "thin_minutes": 60, "keep": ["2026-03-11"]}  # fmt: skip
    path.write_text(json.dumps(raw))
    return path


@BOTH_BACKENDS
def test_the_page_previews_and_runs_retention(client, post, runtime) -> None:
    paths = demo_frames(runtime, count=12, step=timedelta(minutes=10))  # 2026-03-10 09:00-10:50
    demo_frames(
        runtime,
        count=3,
        step=timedelta(minutes=10),
        start=datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN),
    )
    assert 'href="/cameras/demo/retention"' in client.get("/cameras").text
    page = client.get("/cameras/demo/retention")
    assert page.status_code == 200 and page.template.name == "retention.html"
    assert page.context["problem"] is None and page.context["trash"] == []
    assert "2026-03-11" in page.text  # the protected day is named
    loads = [a["hx-get"] for a in HxAttrs(page.text).with_attr("hx-get")]
    assert "/cameras/demo/retention/preview" in loads
    shown = client.get(f"/cameras/demo/retention/preview?at={AT.replace('+', '%2B')}")
    assert shown.template.name == "partials/_retention_preview.html"
    (day, protected_day) = shown.context["preview"].days
    assert (str(day.day), day.frames, day.kept, day.thinned) == ("2026-03-10", 12, 2, 10)
    assert (protected_day.frames, protected_day.protected, protected_day.removed) == (3, 2, 0)
    assert HxAttrs(shown.text).root()[1]["id"] == "retention-preview"
    # a run: ages from now, which is long after these frames (keep_all_days is 1)
    started = post("/cameras/demo/retention", headers={"HX-Request": "true"})
    assert started.status_code == 200 and started.template.name == "partials/_media_job.html"
    job = wait_job(runtime, started.context["job"].id)
    assert job.state == "done", job.error
    assert job.kind == "retention" and job.result["moved"] == 10
    card = client.get(f"/retention/jobs/{job.id}")
    assert "10 frames (" in card.text and "moved to the trash" in card.text
    kept = [p for p in paths if p.exists()]
    assert [p.name[11:16] for p in kept] == ["09-00", "10-00"]
    trash = client.get("/cameras/demo/retention").context["trash"]
    assert len(trash) == 1 and trash[0].files == 10 and trash[0].finished
    assert runtime.index.count("demo") == 5
    # put back from the page: the frames and their rows return
    put = post("/cameras/demo/retention/restore", {"run": trash[0].run_id})
    assert put.status_code == 200 and put.context["restored"]["restored"] == 10
    assert all(p.exists() for p in paths) and runtime.index.count("demo") == 15
    assert put.context["trash"] == []
    assert post("/cameras/demo/retention/restore", {"run": "../demo"}).status_code == 404


def test_a_run_needs_the_csrf_token(client, runtime) -> None:
    demo_frames(runtime, count=6)
    refused = client.post("/cameras/demo/retention", data={})
    assert refused.status_code == 403
    assert all(p.exists() for p in runtime.config.resolve("timelapse/demo").rglob("*.jpg"))


def test_a_camera_without_retention_says_how_to_enable_it(client, runtime) -> None:
    runtime.config.cameras["demo"].retention = None
    page = client.get("/cameras/demo/retention")
    assert "has no retention enabled" in page.context["problem"]
    assert client.get("/cameras/nope/retention").status_code == 404
    assert client.get("/cameras/demo/retention/preview?at=2026-04-01").status_code == 422


def test_the_disk_region_gives_days_until_full_with_retention(app, tmp_path: Path) -> None:
    from pylapse.capture.disk import VolumeUsage

    template = app.state.templates.get_template("partials/_disk.html")
    plain = VolumeUsage(tmp_path, 100, 50, 50, 20.0)
    kept = VolumeUsage(tmp_path, 100, 50, 50, 20.0, 120.4, True)
    never = VolumeUsage(tmp_path, 100, 50, 50, 20.0, None, True)
    assert "with retention" not in template.render(volumes=[plain])
    assert "with retention: full in about 120 days" in template.render(volumes=[kept])
    assert "with retention: never full at the current rate" in template.render(volumes=[never])


@BOTH_BACKENDS
def test_days_are_protected_and_unprotected_from_the_page(client, post, runtime) -> None:
    demo_frames(runtime, count=12, step=timedelta(minutes=10))  # 2026-03-10 09:00-10:50
    added = post("/cameras/demo/retention/keep", {"days": "2026-03-09..2026-03-10"})
    assert added.status_code == 303 and added.headers["location"] == "/cameras/demo/retention"
    assert runtime.config.cameras["demo"].retention.keep == ["2026-03-11", "2026-03-09..2026-03-10"]
    saved = json.loads(runtime.config_path.read_text())["cameras"]["demo"]["retention"]
    assert saved["keep"] == ["2026-03-11", "2026-03-09..2026-03-10"]
    shown = client.get(f"/cameras/demo/retention/preview?at={AT.replace('+', '%2B')}")
    (day,) = shown.context["preview"].days
    assert (day.protected, day.removed) == (10, 0)
    bad = post("/cameras/demo/retention/keep", {"days": "2026-03-40"})
    assert bad.status_code == 422 and "keep[2]: '2026-03-40' is not a day" in bad.text
    post("/cameras/demo/retention/keep/remove", {"days": "2026-03-11"})
    assert runtime.config.cameras["demo"].retention.keep == ["2026-03-09..2026-03-10"]
    assert (
        'action="/cameras/demo/retention/keep/remove"' in client.get("/cameras/demo/retention").text
    )


def test_a_camera_without_retention_can_keep_days(client, post, runtime) -> None:
    raw = json.loads(runtime.config_path.read_text())
    del raw["cameras"]["demo"]["retention"]
    runtime.config_path.write_text(json.dumps(raw))
    post("/cameras/demo/retention/keep", {"days": "2026-03-10"})
    retention = runtime.config.cameras["demo"].retention
    assert retention.keep == ["2026-03-10"] and retention.enabled is False
