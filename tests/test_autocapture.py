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

from pylapse import storage, timeutil
from pylapse.capture.leases import LeaseHolder, LeaseStore
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
    store = LeaseStore(tmp_path / "data" / "pylapse.db")
    assert store.leases() == [] and store.hosts() == []  # released, and the host row gone
    store.close()


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


def test_second_capture_process_waits_naming_the_first(tmp_path, server, repo):
    hourly = {"id": "h", "type": "interval", "interval_amount": 1, "interval_unit": "hours"}
    config = _write_config(
        tmp_path,
        {"porch": {"name": "Porch", "url": server.url("/shot.jpg"), "output_dir": "frames/p",
                   "schedules": [hourly]}},
    )  # fmt: skip
    store = LeaseStore(tmp_path / "data" / "pylapse.db")
    first = LeaseHolder("pi-porch", os.getpid(), "t")
    store.take(first, ["porch"], 60)
    try:
        proc = subprocess.run(
            [sys.executable, "autocapture.py", "--config", str(config), "--duration", "1"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        store.leave(first)
        store.close()
    assert proc.returncode == 0, proc.stderr
    assert f"camera porch is captured by host pi-porch (pid {os.getpid()}), waiting" in proc.stderr
    assert _files(tmp_path / "frames") == []


# --- a pyLapse 0.2 config: the good cameras capture, the bad entry is reported -------------------


def _v02_config(folder: Path, server) -> Path:
    """A config exactly as pyLapse 0.2 wrote them (only 0.2's keys), with one broken camera."""
    every_second = {"id": "tick", "type": "interval", "interval_amount": 1,
                    "interval_unit": "seconds"}  # fmt: skip
    raw = {
        "cameras": {
            "stream": {
                "name": "Stream",
                "url": server.url("/mjpeg"),  # an MJPEG URL on an ordinary (http) camera
                "output_dir": str(folder / "frames/stream"),
                "prefix": "Stream ",
                "schedules": [every_second],
            },
            "broken": {
                "name": "Broken",
                "url": "ftp://old-nas.local/cam.jpg",
                "output_dir": str(folder / "frames/broken"),
                "schedules": [{"id": "day", "hour": "6-20", "minute": "*"}],
            },
            "tokyo": {
                "name": "Tokyo",
                "url": server.url("/shot.jpg"),
                "output_dir": str(folder / "frames/tokyo"),
                "prefix": "Tokyo ",
                "timezone": "Asia/Tokyo",
                "schedules": [{"id": "each", "second": "*"}],
            },
        }
    }
    path = folder / "capture_config.json"
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_0_2_config_with_a_bad_entry_captures_the_good_cameras(tmp_path, server, repo):
    config = _v02_config(tmp_path, server)
    before = config.read_text(encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYLAPSE_CONFIG"}
    env["PYLAPSE_CAPTURE_CONFIG"] = str(config)  # how 0.2's autocapture.py was pointed at it
    proc = subprocess.Popen(
        [sys.executable, "autocapture.py"], cwd=repo, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stream, tokyo = tmp_path / "frames/stream", tmp_path / "frames/tokyo"
    try:
        assert _wait_for(lambda: len(_files(stream)) >= 2 and len(_files(tokyo)) >= 2), (
            proc.stderr.read() if proc.poll() is not None else "no frames"
        )
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    for frame in _files(stream) + _files(tokyo):
        storage.validate_image(frame.read_bytes())  # whole JPEGs: the stream's first frame
    assert all(p.name.startswith("Stream ") for p in _files(stream))
    assert all(p.name.startswith("Tokyo ") and "+09.00" in p.name for p in _files(tokyo))
    assert not (tmp_path / "frames/broken").exists()
    assert "ERROR pylapse.capture: camera broken is NOT captured" in err
    assert "cameras.broken.url: 'ftp://old-nas.local/cam.jpg' must start with http://" in err
    if timeutil.local_zone_name() not in ("Asia/Tokyo", "Japan"):
        assert "camera tokyo fires at its own time zone Asia/Tokyo (pyLapse 0.2 used" in err
    assert config.read_text(encoding="utf-8") == before  # capture never rewrites the file


def test_check_names_the_bad_entry_and_exits_non_zero(tmp_path, server, repo):
    config = _v02_config(tmp_path, server)
    proc = subprocess.run(
        [sys.executable, "autocapture.py", "--check", "--config", str(config)],
        cwd=repo, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "camera broken is invalid and would NOT be captured" in proc.stdout
    assert "cameras.broken.url" in proc.stdout and "would capture: stream, tokyo" in proc.stdout


def _copied_script(folder: Path, repo: Path) -> Path:
    """autocapture.py in a folder of its own (as 0.2 users keep it beside their config)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "autocapture.py"
    script.write_text((repo / "autocapture.py").read_text(encoding="utf-8"), encoding="utf-8")
    return script


def _env_without_config(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYLAPSE_CONFIG",
                                                             "PYLAPSE_CAPTURE_CONFIG")}  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    return env


def test_the_config_beside_the_script_is_found_from_any_folder(tmp_path, server, repo):
    script = _copied_script(tmp_path / "capture", repo)
    config = _v02_config(tmp_path / "capture", server)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [sys.executable, str(script), "--check"], cwd=elsewhere, env=_env_without_config(repo),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # found and checked (its bad entry is reported)
    assert f"{config}: camera broken is invalid" in proc.stdout


def test_no_config_anywhere_names_every_place_looked(tmp_path, repo):
    script = _copied_script(tmp_path / "capture", repo)
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=_env_without_config(repo),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode != 0
    for place in ("$PYLAPSE_CAPTURE_CONFIG (not set)", "$PYLAPSE_CONFIG (not set)",
                  f"{tmp_path / 'capture' / 'capture_config.json'} (beside the script: none)",
                  f"{tmp_path / 'capture_config.json'} (the current folder: none)"):  # fmt: skip
        assert place in proc.stderr
