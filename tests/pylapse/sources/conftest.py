"""Fixtures for the source tests: the loopback HTTP camera, camera configs, fakes on PATH."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pylapse.config.cameras import CameraConfig
from tests.fakes import path_with_fakes
from tests.servers.camera_server import CameraServer


@pytest.fixture
def camera_server() -> Iterator[CameraServer]:
    """A running test camera on 127.0.0.1 (stopped after the test, hanging requests released)."""
    with CameraServer() as server:
        yield server


@pytest.fixture
def make_camera(tmp_path: Path) -> Callable[..., CameraConfig]:
    """Build a CameraConfig with short test timeouts; keyword arguments override any field."""

    def make(**fields: object) -> CameraConfig:
        values: dict[str, object] = {
            "name": "Test camera",
            "output_dir": str(tmp_path / "frames"),
            "connect_timeout": 1.0,
            "read_timeout": 0.5,
        }
        values.update(fields)
        return CameraConfig(**values)

    return make


@pytest.fixture
def fake_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the fake tools append their command lines to (one JSON object per run)."""
    log = tmp_path / "fake-runs.jsonl"
    monkeypatch.setenv("PYLAPSE_FAKE_LOG", str(log))
    return log


@pytest.fixture
def fakes_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_log: Path) -> Path:
    """The stand-in rpicam-still, libcamera-still and gphoto2 first on PATH (in a state set by
    PYLAPSE_FAKE_PICAMERA / PYLAPSE_FAKE_GPHOTO2, default ok); returns the run log."""
    monkeypatch.setenv("PATH", path_with_fakes(tmp_path / "fakes"))
    for name in ("PYLAPSE_FAKE_PICAMERA", "PYLAPSE_FAKE_GPHOTO2"):
        monkeypatch.delenv(name, raising=False)
    return fake_log
