"""The JSON API: cameras, collections, frames, jobs; OpenAPI docs; ids only, never paths."""

from __future__ import annotations

import re
import threading

import pytest
from web_support import BOTH_BACKENDS, csrf_token

from pylapse.progress import Cancelled, Progress


def test_openapi_docs(client) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # everything the page loads is served by us: no CDN on an isolated LAN
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith(("/static/", "data:")) for s in sources), sources
    for url in sources:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/cameras", "/api/collections", "/api/frames/{frame_id}", "/api/jobs"} <= paths
    assert not any(p.startswith("/dashboard") for p in paths)  # pages are not API


def test_session_gives_the_csrf_token(client) -> None:
    data = client.get("/api/session").json()
    assert data["csrf_token"] and data["login_required"] is False


def test_cameras(client) -> None:
    [camera] = client.get("/api/cameras").json()
    assert camera["id"] == "demo" and camera["type"] == "synthetic"
    assert camera["health"]["state"] in ("unknown", "ok")
    assert camera["schedules"][0]["hour"] == "8,10,12"
    assert "password" not in camera
    assert client.get("/api/cameras/demo").json() == camera
    assert client.get("/api/cameras/nope").status_code == 404


def test_grab_through_the_api(client, runtime) -> None:
    token = csrf_token(client)
    response = client.post("/api/cameras/demo/grab", headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["camera_id"] == "demo" and data["width"] == 320 and data["height"] == 180
    frame = client.get(f"/api/frames/{data['frame_id']}").json()
    assert frame["name"] == data["name"]
    assert frame["thumb_url"] == f"/api/frames/{data['frame_id']}/thumb"
    assert frame["time"].endswith(("+01:00", "+02:00"))  # Berlin, in the frame's own offset
    [collection] = [c for c in client.get("/api/collections").json() if c["id"] == "demo"]
    assert collection["count"] == 1 and collection["timezone"] == "Europe/Berlin"
    assert collection["last"]["id"] == data["frame_id"]
    page = client.get("/api/collections/demo/frames", params={"limit": 10}).json()
    assert page["total"] == 1 and [f["id"] for f in page["items"]] == [data["frame_id"]]


@BOTH_BACKENDS
def test_collection_frames_validate_times(client) -> None:
    bad = client.get("/api/collections/demo/frames", params={"start": "2026-01-01T00:00:00"})
    assert bad.status_code == 422 and "UTC offset" in bad.json()["detail"]
    assert client.get("/api/collections/nope/frames").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/frames/999999",
        "/api/frames/999999/image",
        "/api/frames/999999/thumb",
        "/api/frames/..%2f..%2fetc%2fpasswd/image",
        "/api/frames/%2fetc%2fpasswd",
        "/api/cameras/..%2f..%2f",
        "/api/collections/..%2f..%2fetc/frames",
        "/cameras/..%2f..%2fetc",
        "/dashboard/cameras/%2e%2e%2f%2e%2e%2f",
    ],
)
def test_path_parameters_are_ids_not_paths(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (404, 422), url
    assert "root:" not in response.text


def test_jobs_history_and_cancel(client, runtime) -> None:
    done = runtime.jobs.submit("export", "first", lambda p, c: {"frames": 2})
    runtime.jobs.wait(done, 10)
    started = threading.Event()

    def work(progress, cancel):
        progress(Progress("encode", 1, 4))
        started.set()
        cancel.wait(10)
        raise Cancelled()

    running = runtime.jobs.submit("render", "second", work)
    assert started.wait(10)
    page = client.get("/api/jobs", params={"limit": 1}).json()
    assert page["total"] == 2 and [j["id"] for j in page["items"]] == [running]
    assert page["items"][0]["state"] == "running"
    assert client.get("/api/jobs", params={"kind": "export"}).json()["items"][0]["result"] == {
        "frames": 2
    }
    token = csrf_token(client)
    cancelled = client.post(f"/api/jobs/{running}/cancel", headers={"X-CSRF-Token": token})
    assert cancelled.status_code == 200
    assert runtime.jobs.wait(running, 10).state == "cancelled"
    again = client.post(f"/api/jobs/{done}/cancel", headers={"X-CSRF-Token": token})
    assert again.status_code == 409
    assert client.get(f"/api/jobs/{done}").json()["state"] == "done"
    assert client.get("/api/jobs/4242").status_code == 404


def test_create_replace_and_remove_a_camera(client, runtime, config_path) -> None:
    import json

    token = csrf_token(client)
    headers = {"X-CSRF-Token": token}
    body = {
        "name": "Porch",
        "type": "http",
        "url": "http://cam.local/shot.jpg",
        "password": "pw-12345",
        "output_dir": "timelapse/porch",
        "schedules": [{"id": "noon", "hour": 12, "minute": 0}],
    }
    created = client.put("/api/cameras/porch", json=body, headers=headers)
    assert created.status_code == 200, created.text
    assert created.json()["name"] == "Porch" and "password" not in created.json()
    assert runtime.config.cameras["porch"].password == "pw-12345"
    body.pop("password")
    body["name"] = "Front porch"
    replaced = client.put("/api/cameras/porch", json=body, headers=headers)
    assert replaced.json()["name"] == "Front porch"
    assert runtime.config.cameras["porch"].password == "pw-12345"  # left out: kept
    assert json.loads(config_path.read_text())["cameras"]["porch"]["name"] == "Front porch"

    bad = client.put("/api/cameras/porch", json={**body, "timezone": "Mars/Base"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "timezone"
    outside = client.put("/api/cameras/porch", json={**body, "output_dir": "../x"}, headers=headers)
    assert outside.status_code == 422 and "storage roots" in outside.json()["detail"][0]["message"]
    assert client.put("/api/cameras/porch", json=body).status_code == 403  # no CSRF token

    assert client.delete("/api/cameras/porch", headers=headers).status_code == 204
    assert "porch" not in runtime.config.cameras
    assert client.delete("/api/cameras/porch", headers=headers).status_code == 404


def test_pause_and_resume_capture_through_the_api(client, runtime) -> None:
    headers = {"X-CSRF-Token": csrf_token(client)}
    assert client.get("/api/capture").json() == {"paused": False, "paused_cameras": []}
    assert client.post("/api/capture/pause?camera=demo", headers=headers).json() == {
        "paused": False,
        "paused_cameras": ["demo"],
    }
    assert client.post("/api/capture/pause", headers=headers).json()["paused"] is True
    assert runtime.scheduler.paused
    client.post("/api/capture/resume", headers=headers)
    state = client.post("/api/capture/resume?camera=demo", headers=headers).json()
    assert state == {"paused": False, "paused_cameras": []}
    assert client.post("/api/capture/pause?camera=nope", headers=headers).status_code == 404


@BOTH_BACKENDS
def test_frames_carry_their_time_sources_and_can_be_filtered_to_flagged(
    client, runtime, monkeypatch
) -> None:
    from _time_support import mixed_frames

    mixed_frames(runtime, monkeypatch)
    page = client.get("/api/collections/demo/frames").json()
    items = {item["name"]: item for item in page["items"]}
    assert page["total"] == 5
    b = items["b.jpg"]
    assert (b["time_source"], b["offset_source"], b["time_status"]) == (
        "exif", "neighbours", "inferred",
    )
    assert b["time"] == "2026-03-10T09:10:00+09:00"
    assert "a.jpg" in b["time_reason"]
    assert items["a.jpg"]["time_status"] == "certain"
    one = client.get(f"/api/frames/{items['gps.jpg']['id']}").json()
    assert (one["time_status"], one["offset_source"]) == ("conflict", "zone")
    assert one["time_reason"] == "GPS says +02:00, the collection's zone +01:00"
    only = client.get("/api/collections/demo/frames", params={"flagged": "true"}).json()
    assert only["total"] == 1 and [i["name"] for i in only["items"]] == ["gps.jpg"]
    times = client.get("/api/collections/demo/times").json()
    assert times == {
        "status": {"certain": 2, "inferred": 1, "assumed": 1, "conflict": 1},
        "time_source": {"exif": 4, "mtime": 1},
        "offset_source": {"zone": 2, "exif-offset": 2, "neighbours": 1},
        "flagged": 1,
    }
    assert client.get("/api/collections/nope/times").status_code == 404
