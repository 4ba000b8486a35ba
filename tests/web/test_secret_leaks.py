"""No camera secret in anything pyLapse emits or writes: planted secrets, real captures.

A real HTTP camera (tests/servers/camera_server.py) wants its secrets: query parameters in every
vendor's spelling, a password with ``/ @ : # ?`` typed unencoded into the URL, digest
credentials. Cameras are configured with them, with wrong ones (401) and with an address where
nothing listens; an MJPEG camera and RTSP cameras (ffmpeg echoes URLs) join in. Then capture runs
through the runtime (scheduler, grab now, the test grab, a render job) while every page and API
endpoint is walked, and through ``pylapse capture`` and ``pylapse web`` as processes at DEBUG.

Every text they emit is searched for every secret, raw and percent-encoded, and for every piece of
the slashed password: log records, process output, response bodies, and the bytes of every file
written (the SQLite database with its WAL, manifests, frames, job results, folder names). Only the
config file itself and its backups (the user's own file) may hold them.
"""

from __future__ import annotations

import json
import logging
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import httpx
import pytest
from web_support import csrf_token, make_client

from pylapse.config.file import load_config
from pylapse.runtime import Runtime
from tests.servers import rtsp_server
from tests.servers.camera_server import CameraServer
from web.app import create_app

pytestmark = [pytest.mark.network, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# each piece between reserved characters is a secret of its own: no fragment may show
SLASHED = "Zs1a/Zs2b@Zs3c:Zs4d#Zs5e?Zs6f"
PIECES = ["Zs1a", "Zs2b", "Zs3c", "Zs4d", "Zs5e", "Zs6f"]
QUERY = {  # what /query/shot.jpg wants; "user" is not a secret and may show
    "user": "admin",
    "pwd": "Zq01pwd",
    "loginpas": "Zq02loginpas",
    "cam_pass": "Zq03campass",
    "pass_word": "Zq04password",
    "pass": "Zq05pass",
    "key": "Zq06key",
    "token": "Zq07token",
    "auth": "Zq08auth",
    "sig": "Zq09sig",
    "api_key": "Zq10apikey",
    "access_token": "Zq11accesstoken",
    "password": "Zq12password",
}
WRONG = {"pwd": "Zw01wrongpwd", "loginpas": "Zw02wronglp"}
WRONG_USERINFO = "Zw03wrong/Zw04pw"
GONE = ("Zu01gone", "Zu02gonetoken")
MJPEG = ("Zm01mjpegauth", "Zm02mjpegsig")
RTSP = ("Zr01rtsp", "Zr02rtspwrong", "Zr03rtspgone")
# a webhook's password and token, its signing secret, an Apprise URL's Telegram bot token
NOTIFY = ("Zn01notifypw", "Zn02notifytoken", "Zn03signkey", "Zn04bottoken")
SECRETS = [
    *PIECES,
    SLASHED,
    *(v for k, v in QUERY.items() if k != "user"),
    *WRONG.values(),
    "Zw03wrong",
    "Zw04pw",
    *GONE,
    *MJPEG,
    *RTSP,
    *NOTIFY,
]


def leaks(text: str | bytes) -> list[str]:
    """The secrets (in any encoding a URL or form gives them) found in ``text``."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")  # byte for byte: finds ASCII secrets in any file
    return [
        secret
        for secret in SECRETS
        if any(form in text for form in {secret, quote(secret, safe=""), quote_plus(secret)})
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def camera() -> Iterator[CameraServer]:
    with CameraServer(username="admin", password=SLASHED, frame_size=(160, 120)) as server:
        server.required_query = dict(QUERY)
        yield server


@pytest.fixture(scope="module")
def rtsp_url() -> Iterator[str | None]:
    """A real RTSP camera wanting admin / RTSP[0], or None where GStreamer is missing."""
    ok, _why = rtsp_server.available()
    if not ok:
        yield None
        return
    process = subprocess.Popen(
        [rtsp_server.SYSTEM_PYTHON, str(rtsp_server.SCRIPT), "--port", str(_free_port()),
         "--user", "admin", "--password", RTSP[0]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready and process.stdout else ""
        yield line.split()[1] if line.startswith("READY ") else None
    finally:
        process.kill()
        process.wait(timeout=10)


def _cameras(server: CameraServer, rtsp: str | None) -> dict[str, dict[str, Any]]:
    base = f"127.0.0.1:{server.port}"
    closed = _free_port()
    every = [{"id": "s", "type": "interval", "interval_amount": 1, "interval_unit": "seconds"}]
    cams: dict[str, dict[str, Any]] = {
        "query": {"url": f"http://{base}/query/shot.jpg?{urlencode(QUERY)}"},
        "slashed": {"url": f"http://admin:{SLASHED}@{base}/basic/shot.jpg"},
        "digest": {"url": f"http://{base}/digest/shot.jpg", "auth": "digest",
                   "username": "admin", "password": SLASHED},
        "wrongquery": {"url": f"http://{base}/query/shot.jpg?user=admin&{urlencode(WRONG)}"},
        "wronguser": {"url": f"http://admin:{WRONG_USERINFO}@{base}/basic/shot.jpg"},
        "gone": {"url": f"http://admin:{GONE[0]}@127.0.0.1:{closed}/shot.jpg?token={GONE[1]}"},
        "mjpeg": {"type": "mjpeg",
                  "url": f"http://{base}/mjpeg?auth={MJPEG[0]}&sig={MJPEG[1]}"},
        "rtspgone": {"type": "rtsp", "url": f"rtsp://admin:{RTSP[2]}@127.0.0.1:{closed}/live"},
    }  # fmt: skip
    if rtsp:
        host = rtsp.removeprefix("rtsp://")
        cams["rtsp"] = {"type": "rtsp", "url": f"rtsp://admin:{RTSP[0]}@{host}"}
        cams["rtspwrong"] = {"type": "rtsp", "url": f"rtsp://admin:{RTSP[1]}@{host}"}
    for cam_id, cam in cams.items():
        cam.setdefault("type", "http")
        cam.update(name=cam_id.title(), output_dir=f"timelapse/{cam_id}", timezone="UTC",
                   connect_timeout=2, read_timeout=3, schedules=every)  # fmt: skip
    return cams


def _write_config(folder: Path, server: CameraServer, rtsp: str | None) -> Path:
    (folder / "timelapse").mkdir()
    raw = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "min_free_mb": 0,
        "max_retries": 1,
        "retry_delay": 0.2,
        "cameras": _cameras(server, rtsp),
        "exports": {"small": {"collection": "query", "width": 80}},
        # the render and export below are told to a webhook (the camera server refuses POSTs:
        # a failed delivery, logged); the Telegram rule is only shown on the settings page
        "notifications": {
            "hook": {
                "url": server.url("/notify").replace("://", f"://n:{NOTIFY[0]}@")
                + f"?token={NOTIFY[1]}",
                "secret": NOTIFY[2],
                "cooldown": 0,
            },
            "chat": {"url": f"tgram://123456789:{NOTIFY[3]}/4242", "events": ["disk.low"]},
        },
    }
    path = folder / "capture_config.json"
    path.write_text(json.dumps(raw, indent=2))
    return path


def _written_files(folder: Path, config: Path) -> Iterator[Path]:
    """Every file pyLapse wrote under ``folder``: all but the config and its backups."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith(config.name):
            yield path


def _assert_nothing_written_leaks(folder: Path, config: Path) -> None:
    checked = 0
    for path in _written_files(folder, config):
        assert not leaks(str(path.relative_to(folder))), path
        assert not leaks(path.read_bytes()), path
        checked += 1
    db = folder / "data" / "pylapse.db"
    assert db.exists() and checked > 5


def _wait_for(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def _get_paths(app: Any) -> list[str]:
    """Every GET route of the app (through FastAPI's included routers)."""
    found: list[str] = []

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix + route.include_context.prefix)
            elif "GET" in (getattr(route, "methods", None) or ()):
                found.append(prefix + route.path)

    walk(app.routes, "")
    return found


_STREAMS = ("/events", "/cameras/{camera_id}/preview.mjpg")


def _expand(path: str, ids: dict[str, list[str]]) -> list[str]:
    urls = [path]
    for name, values in ids.items():
        if "{" + name + "}" in path:
            urls = [u.replace("{" + name + "}", v) for u in urls for v in values]
    return urls


def test_no_secret_in_logs_pages_api_or_files(tmp_path, camera, rtsp_url, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for chatty in ("httpx", "httpcore"):  # an earlier `pylapse` command in this process quiets them
        caplog.set_level(logging.DEBUG, logger=chatty)
    config_path = _write_config(tmp_path, camera, rtsp_url)
    runtime = Runtime(load_config(config_path), config_path=config_path)
    app = create_app(runtime)
    texts: list[tuple[str, str | bytes]] = []
    try:
        with make_client(app) as client:
            token = csrf_token(client)
            health = runtime.health
            assert _wait_for(lambda: len(health.log(500, camera="query")) >= 2 and all(
                health.log(500, camera=c) for c in runtime.config.cameras
            ))  # fmt: skip
            failed = {e.camera_id: e.message for e in health.log(500) if not e.ok}
            for cam_id, message in failed.items():
                assert not leaks(message), (cam_id, message)
            saved = {e.camera_id for e in health.log(500) if e.ok}
            assert {"query", "slashed", "digest", "mjpeg"} <= saved  # the secrets work
            if rtsp_url:
                assert _wait_for(lambda: any(e.ok for e in health.log(500, camera="rtsp")))
            assert "401" in failed["wrongquery"] and "401" in failed["wronguser"], failed
            assert "connection refused" in failed["gone"], failed

            # grab now (page and API), the test grab with typed-in secrets: error paths too
            for cam_id in runtime.config.cameras:
                response = client.post(f"/cameras/{cam_id}/grab", data={"csrf_token": token})
                texts.append((f"POST /cameras/{cam_id}/grab", response.text))
                response = client.post(
                    f"/api/cameras/{cam_id}/grab", headers={"X-CSRF-Token": token}
                )
                texts.append((f"POST /api/cameras/{cam_id}/grab", response.text))
            for cam_id in ("wronguser", "gone", "query"):
                cam = runtime.config.cameras[cam_id]
                form = {"csrf_token": token, "name": "T", "type": cam.type, "url": cam.url}
                response = client.post("/cameras/test-source", data=form)
                texts.append((f"test grab like {cam_id}", response.text))
            response = client.put(
                "/api/cameras/wronguser",
                json={"name": "W", "type": "http", "output_dir": "timelapse/w",
                      "url": f"ftp://admin:{WRONG_USERINFO}@h/?pwd={WRONG['pwd']}"},
                headers={"X-CSRF-Token": token},
            )  # fmt: skip
            assert response.status_code == 422
            texts.append(("PUT a refused URL", response.text))
            secret_url = f"http://admin:{WRONG_USERINFO}@h/?loginpas={WRONG['loginpas']}"
            for response in (  # FastAPI's own 422 answers quote what was sent
                client.put("/api/cameras/x", json=[secret_url], headers={"X-CSRF-Token": token}),
                client.get("/api/collections/query/frames", params={"limit": secret_url}),
            ):
                assert response.status_code == 422, response.text
                texts.append((f"422 of {response.request.url.path}", response.text))

            # a render job: its parameters, result and manifest are written too
            response = client.post(
                "/videos",
                data={"csrf_token": token, "source": "collection", "collection": "query",
                      "codec": "h264", "timing": "fps", "fps": "5", "name": "clip"},
            )  # fmt: skip
            assert response.status_code in (200, 303), response.text
            job_id = runtime.jobs.list(1, kind="render")[0].id
            assert runtime.jobs.wait(job_id, timeout=60).state == "done"
            response = client.post("/exports/small/run", data={"csrf_token": token})
            assert response.status_code in (200, 303), response.text
            export_id = runtime.jobs.list(1, kind="export")[0].id
            runtime.jobs.wait(export_id, timeout=60)
            assert runtime.notifier.wait_idle(20) and runtime.notifier.log is not None
            deliveries = runtime.notifier.log.recent()
            assert "render.done" in {d.event for d in deliveries}  # told, and refused (501)
            texts.append(("delivery log", repr(deliveries)))

            # every page and API endpoint, for every camera, collection, frame and job
            frames = [str(f.id) for f in runtime.index.frames("query")[:2]]
            ids = {
                "camera_id": list(runtime.config.cameras),
                "collection_id": list(runtime.config.all_collections()),
                "frame_id": frames,
                "job_id": [str(j.id) for j in runtime.jobs.list(20)],
                "preset_id": ["small"],
            }
            walked = 0
            for path in _get_paths(app):
                if path in _STREAMS:
                    continue
                for url in _expand(path, ids):
                    response = client.get(url)
                    assert response.status_code < 500, (url, response.text[-500:])
                    texts.append((f"GET {url}", response.content))
                    walked += 1
            assert walked > 60
    finally:
        runtime.stop()

    texts.append(("log records", caplog.text))
    texts += [(f"log args of {r.name}", repr(r.args)) for r in caplog.records]
    assert "HTTP Request: GET" in caplog.text  # httpx did log its requests ...
    for what, text in texts:
        assert not leaks(text), (what, leaks(text))  # ... and nowhere a secret
    _assert_nothing_written_leaks(tmp_path, config_path)
    assert leaks(config_path.read_text())  # the user's own file keeps them, of course


def _run(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pylapse.cli", "-v", *args],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_pylapse_capture_at_debug_prints_no_secret(tmp_path, camera) -> None:
    config_path = _write_config(tmp_path, camera, None)
    proc = _run(["capture", "--config", str(config_path), "--duration", "4"], tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert " saved " in err and "FAILED" in err and "HTTP Request: GET" in err
    assert "401" in err and "refused" in err
    assert not leaks(out) and not leaks(err), leaks(out + err)
    _assert_nothing_written_leaks(tmp_path, config_path)


def test_pylapse_web_at_debug_prints_no_secret(tmp_path, camera) -> None:
    config_path = _write_config(tmp_path, camera, None)
    port = _free_port()
    proc = _run(["web", "--config", str(config_path), "--port", str(port)], tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(lambda: _answers(url), timeout=30), "the dashboard did not start"
        health = json.loads(httpx.get(url + "/api/cameras", timeout=10).text)
        assert any(c["id"] == "query" for c in health)
        assert _wait_for(lambda: "401" in httpx.get(url + "/dashboard/log", timeout=10).text)
        for page in ("/", "/cameras/wronguser", "/cameras/query", "/dashboard/log"):
            assert not leaks(httpx.get(url + page, timeout=10).text), page
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert " saved " in err and "HTTP Request: GET" in err and '"GET /dashboard/log' in out
    assert not leaks(out) and not leaks(err), leaks(out + err)
    _assert_nothing_written_leaks(tmp_path, config_path)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/api/session", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
