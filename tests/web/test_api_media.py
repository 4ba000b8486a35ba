"""The API's exports and renders: start, follow and cancel them without the browser."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

from media_support import demo_frames, wait_job
from test_exports import create
from web_support import BOTH_BACKENDS


def _api(client, csrf):  # type: ignore[no-untyped-def]
    def send(url: str, body: object = None):  # type: ignore[no-untyped-def]
        return client.post(url, json=body, headers={"X-CSRF-Token": csrf})

    return send


def test_export_run_follow_and_video_through_the_api(client, post, csrf, runtime) -> None:
    demo_frames(runtime, count=6, step=timedelta(minutes=10))
    assert create(post, minute="*/20", tolerance="30").status_code == 303
    api = _api(client, csrf)
    [listed] = client.get("/api/exports").json()
    assert listed["id"] == "quarter" and listed["collection"] == "demo"
    assert listed["previous_files"] == 0 and listed["output_dir"].endswith("quarter")

    started = api("/api/exports/quarter/run", {"video": {"codec": "h264", "fps": 4}})
    assert started.status_code == 202, started.text
    data = started.json()
    assert data["kind"] == "export" and data["url"] == f"/api/jobs/{data['job_id']}"
    job = wait_job(runtime, data["job_id"])
    assert job.state == "done", job.error
    followed = client.get(data["url"]).json()
    assert followed["state"] == "done" and followed["result"]["written"] == 3
    video = wait_job(runtime, job.result["video_job"])
    assert video.kind == "render" and video.state == "done", video.error
    assert video.result["frames"] == 3

    # a second run would replace the first export: refused unless asked
    again = api("/api/exports/quarter/run", {})
    assert again.status_code == 409 and "replace" in again.json()["detail"]
    assert client.get("/api/exports").json()[0]["previous_files"] == 3
    ok = api("/api/exports/quarter/run", {"replace": True})
    assert ok.status_code == 202
    assert wait_job(runtime, ok.json()["job_id"]).state == "done"


def test_export_run_refusals(client, post, csrf, runtime) -> None:
    api = _api(client, csrf)
    assert api("/api/exports/nope/run").status_code == 404
    assert create(post).status_code == 303
    bad = api("/api/exports/quarter/run", {"video": {"codec": "nope"}})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "codec"
    # like every state-changing API call, a run needs the CSRF header
    assert client.post("/api/exports/quarter/run", json={}).status_code == 403
    assert client.post("/api/renders", json={"collection": "demo"}).status_code == 403


@BOTH_BACKENDS
def test_render_a_collection_and_a_folder(client, csrf, runtime) -> None:
    demo_frames(runtime, count=4)
    api = _api(client, csrf)
    started = api(
        "/api/renders", {"collection": "demo", "fps": 2, "name": "porch-week", "speed": "draft"}
    )
    assert started.status_code == 202, started.text
    job = wait_job(runtime, started.json()["job_id"])
    assert job.state == "done", job.error
    output = Path(job.result["output"])
    assert output.name == "porch-week.mp4" and output.is_file()
    assert job.result["frames"] == 4
    manifest = json.loads(Path(job.result["manifest"]).read_text())
    assert manifest["options"]["speed"] == "draft"  # the API's speed reached the render

    frames = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    day = next(p for p in frames.iterdir() if p.is_dir())
    folder = api("/api/renders", {"export_dir": str(day), "fps": 2})
    assert folder.status_code == 202, folder.text
    assert wait_job(runtime, folder.json()["job_id"]).state == "done"


def test_render_refusals_name_the_field(client, csrf, tmp_path) -> None:
    api = _api(client, csrf)
    both = api("/api/renders", {"collection": "demo", "preset": "x"})
    assert both.status_code == 422 and both.json()["detail"][0]["field"] == "body"
    outside = api("/api/renders", {"export_dir": "/etc"})
    assert outside.status_code == 422 and outside.json()["detail"][0]["field"] == "export_dir"
    assert api("/api/renders", {"collection": "nope"}).status_code == 404
    codec = api("/api/renders", {"collection": "demo", "codec": "nope"})
    assert codec.status_code == 422 and "not available" in codec.json()["detail"][0]["message"]


def test_cancel_a_running_export_through_the_api(client, csrf, runtime) -> None:
    started = threading.Event()

    def slow(progress, cancel):  # type: ignore[no-untyped-def]
        started.set()
        cancel.wait(10)
        return {}

    job_id = runtime.jobs.submit("export", "Export slow", slow)
    assert started.wait(10)
    response = _api(client, csrf)(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    assert wait_job(runtime, job_id).state == "cancelled"


def test_the_openapi_spec_documents_exports_and_renders(client) -> None:
    spec = client.get("/api/openapi.json").json()
    assert {"/api/exports", "/api/exports/{preset_id}/run", "/api/renders"} <= set(spec["paths"])
    run = spec["paths"]["/api/exports/{preset_id}/run"]["post"]
    assert {"202", "409", "422", "503"} <= set(run["responses"])
    assert "/settings" in spec["info"]["description"]  # the docs link back to the dashboard
