"""Runtime wires notifications: finished jobs, camera health changes and disk pauses become
events delivered to the configured rules (a real receiver and a real camera on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pylapse.config.file import load_config
from pylapse.notify.deliverylog import DeliveryStatus
from pylapse.progress import ProgressCallback
from pylapse.runtime import Runtime
from pylapse.sources.base import GrabError
from tests.servers.camera_server import CameraServer
from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network


@pytest.fixture
def camera() -> Iterator[CameraServer]:
    with CameraServer(frame_size=(160, 120)) as cam:
        yield cam


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def _config(tmp_path: Path, camera: CameraServer, receiver: WebhookReceiver,
            **extra: Any) -> Path:  # fmt: skip
    raw = {
        "cameras": {
            "porch": {"name": "Porch", "url": camera.url("/cam"), "output_dir": "frames/porch"},
        },
        "data_dir": "data",
        "storage_roots": ["frames"],
        "min_free_mb": 0,
        "max_retries": 0,
        "notifications": {
            "ops": {"url": receiver.url("/ops"), "events": ["*"], "secret": "k", "cooldown": 0},
        },
        **extra,
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(raw))
    return path


def _bodies(receiver: WebhookReceiver, count: int) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.wait_for(count)]


def test_finished_jobs_send_render_and_export_events(
    tmp_path: Path, camera: CameraServer, receiver: WebhookReceiver
) -> None:
    rt = Runtime(load_config(_config(tmp_path, camera, receiver)), scheduler=False)
    rt.start()
    assert rt.jobs is not None
    try:

        def rendered(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
            return {"output": str(tmp_path / "porch.mp4")}

        def broken(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
            raise OSError("no space left on device")

        done = rt.jobs.submit("render", "Render porch", rendered, steps=("encode",))
        rt.jobs.wait(done, timeout=30)
        failed = rt.jobs.submit("export", "Export daily", broken, steps=("process",))
        rt.jobs.wait(failed, timeout=30)
        exported = rt.jobs.submit("export", "Export weekly", rendered, steps=("process",))
        rt.jobs.wait(exported, timeout=30)
        quiet = rt.jobs.submit("scan", "Scan porch", rendered, steps=("scan",))
        rt.jobs.wait(quiet, timeout=30)
        bodies = _bodies(receiver, 3)
        assert rt.notifier.wait_idle(10)
    finally:
        rt.stop()
    assert [(b["event"], b["subject"]) for b in bodies] == [
        ("render.done", "Render porch"), ("export.failed", "Export daily"),
        ("export.done", "Export weekly")]  # fmt: skip
    assert bodies[0]["data"]["output"] == str(tmp_path / "porch.mp4")
    assert bodies[0]["data"]["job"] == done
    assert "no space left on device" in bodies[1]["message"]
    assert len(receiver.requests) == 3  # a scan job is no news


def test_a_camera_going_offline_and_coming_back_is_told(
    tmp_path: Path, camera: CameraServer, receiver: WebhookReceiver
) -> None:
    camera.route("/cam", "error500")
    rt = Runtime(load_config(_config(tmp_path, camera, receiver)), scheduler=False, jobs=False)
    rt.start()
    try:
        for _ in range(rt.health.offline_after):
            with pytest.raises(GrabError):
                rt.grab_now("porch")
        (offline,) = _bodies(receiver, 1)
        camera.route("/cam", "jpeg")
        rt.grab_now("porch")
        back = _bodies(receiver, 2)[1]
        assert rt.notifier.wait_idle(10)
        rows = rt.notifier.log.recent() if rt.notifier.log else []
    finally:
        rt.stop()
    assert (offline["event"], offline["subject"]) == ("camera.offline", "porch")
    assert offline["data"]["new"] == "offline"
    assert (back["event"], back["subject"]) == ("camera.back", "porch")
    assert len(receiver.requests) == 2  # failing (before offline) is not news
    assert [r.status for r in rows] == [DeliveryStatus.DELIVERED] * 2


def test_the_disk_guard_pausing_capture_sends_capture_paused_and_disk_low(
    tmp_path: Path, camera: CameraServer, receiver: WebhookReceiver
) -> None:
    camera.route("/cam", "jpeg")
    path = _config(tmp_path, camera, receiver, min_free_mb=10**9)  # a petabyte: never there
    rt = Runtime(load_config(path))  # with the scheduler: its runner tells the pauses
    rt.start()
    try:
        with pytest.raises(GrabError, match="below min_free_mb"):
            rt.grab_now("porch")
        bodies = _bodies(receiver, 2)
        with pytest.raises(GrabError):
            rt.grab_now("porch")  # still paused: not news again
        assert rt.notifier.wait_idle(10)
    finally:
        rt.stop()
    assert sorted(b["event"] for b in bodies) == ["capture.paused", "disk.low"]
    by_event = {b["event"]: b for b in bodies}
    assert by_event["capture.paused"]["subject"] == "porch"
    assert by_event["disk.low"]["subject"].endswith("porch")
    assert "below min_free_mb" in by_event["disk.low"]["message"]
    assert len(receiver.requests) == 2


def test_a_config_change_replaces_the_rules(
    tmp_path: Path, camera: CameraServer, receiver: WebhookReceiver
) -> None:
    path = _config(tmp_path, camera, receiver)
    rt = Runtime(load_config(path), scheduler=False, jobs=False)
    try:
        assert set(rt.notifier.rules) == {"ops"}
        config = rt.config
        chat = config.notifications["ops"].model_copy(update={"url": "ntfy://ntfy.local/t"})
        rt.apply_config(config.model_copy(update={"notifications": {"chat": chat}}))
        assert set(rt.notifier.rules) == {"chat"}
        assert rt.notifier.rules["chat"].kind == "apprise"
    finally:
        rt.stop()
