"""autocapture.py (= `pylapse capture`) end to end in a real process, and kill -9 mid-capture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pylapse import storage
from pylapse.capture.lock import DataLock
from tests.servers.camera_server import CameraServer

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def server():
    with CameraServer(frame_size=(160, 120), drip_interval=0.05) as cam:
        yield cam


def _write_config(folder: Path, cameras: dict) -> Path:
    path = folder / "capture_config.json"
    raw = {"cameras": cameras, "data_dir": "data", "storage_roots": ["frames"], "min_free_mb": 0}
    path.write_text(json.dumps(raw))
    return path


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.slow
def test_autocapture_runs_and_stops_on_sigterm(tmp_path, server, repo):
    pytest.importorskip("pylapse.index.store")
    every = {"id": "s", "type": "interval", "interval_amount": 1, "interval_unit": "seconds"}
    config = _write_config(
        tmp_path,
        {
            "porch": {
                "name": "Porch",
                "url": server.url("/shot.jpg"),
                "output_dir": "frames/porch",
                "prefix": "porch-",
                "timezone": "Asia/Tokyo",
                "resize": True,
                "resize_width": 80,
                "schedules": [every],
            },
            # a camera that never answers must not keep the process alive on SIGTERM
            "stuck": {
                "name": "Stuck",
                "url": server.url("/hang"),
                "output_dir": "frames/stuck",
                "read_timeout": 60,
                "schedules": [every],
            },
            "off": {
                "name": "Off",
                "enabled": False,
                "url": server.url("/shot.jpg"),
                "output_dir": "frames/off",
                "schedules": [every],
            },
        },
    )
    proc = subprocess.Popen(
        [sys.executable, "autocapture.py", "--config", str(config)],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        porch = tmp_path / "frames/porch"
        assert _wait_for(lambda: len(_files(porch)) >= 2), proc.stderr.read() if proc.poll() else ""
        assert _wait_for(lambda: server.hits("/hang") >= 1)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert took < 5, f"took {took:.1f} s to stop"
    frames = _files(porch)
    assert all(p.name.startswith("porch-") and p.suffix == ".jpg" for p in frames)
    assert not [p for p in _files(tmp_path) if p.name.endswith(storage.TEMP_SUFFIX)]
    assert _files(tmp_path / "frames/stuck") == [] and not (tmp_path / "frames/off").exists()
    saved = [line for line in err.splitlines() if " saved " in line and "porch" in line]
    assert len(saved) == len(frames)  # one log line per capture
    assert "Running job" not in err  # APScheduler's own per-run chatter is off
    assert "stopped" in err
    with DataLock(tmp_path / "data"):  # the lock was released
        pass


def test_invalid_config_exits_non_zero_with_the_error(tmp_path, repo):
    config = _write_config(
        tmp_path, {"cam": {"name": "x", "url": "ftp://nope", "output_dir": "f", "qualty": 5}}
    )
    proc = subprocess.run(
        [sys.executable, "autocapture.py", "--config", str(config)],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert str(config) in proc.stderr
    assert "qualty" in proc.stderr and "quality" in proc.stderr  # names the key, suggests the fix


def test_config_from_environment(tmp_path, repo):
    missing = tmp_path / "elsewhere.json"
    proc = subprocess.run(
        [sys.executable, "autocapture.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYLAPSE_CONFIG": str(missing)},
    )
    assert proc.returncode != 0
    assert str(missing) in proc.stderr and "no such config file" in proc.stderr


KILLED_SAVER = """
import sys
from pylapse.capture import Camera
Camera("Dripper", sys.argv[1]).save_image(sys.argv[2], prefix="drip-")
"""


def test_kill_9_mid_capture_leaves_no_partial_frame(tmp_path, server, repo):
    out = tmp_path / "out"
    before = server.hits("/drip")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVER, server.url("/drip"), str(out)], cwd=repo
    )
    try:
        assert _wait_for(lambda: server.hits("/drip") > before)
        time.sleep(0.5)  # well into the body: the drip takes several seconds
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    finals = [p for p in _files(tmp_path) if not p.name.endswith(storage.TEMP_SUFFIX)]
    assert finals == []
    for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        storage.sweep_temp(folder)
    assert _files(tmp_path) == []


def test_second_capture_process_is_refused_naming_the_first(tmp_path, server, repo):
    config = _write_config(
        tmp_path,
        {"porch": {"name": "Porch", "url": server.url("/shot.jpg"), "output_dir": "frames/p"}},
    )
    with DataLock(tmp_path / "data", command="web_ui.py --port 8000"):
        proc = subprocess.run(
            [sys.executable, "autocapture.py", "--config", str(config)],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode != 0
    assert "already running" in proc.stderr
    assert f"pid {os.getpid()}" in proc.stderr and "web_ui.py --port 8000" in proc.stderr
