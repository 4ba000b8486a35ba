"""Fixtures for the source tests: the loopback HTTP camera, camera configs, fakes on PATH."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pylapse.config import CameraConfig
from tests.servers.camera_server import CameraServer

FAKES = Path(__file__).resolve().parents[2] / "fakes"


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
def fakes_on_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the stand-in rpicam-still, libcamera-still and gphoto2 first on PATH."""
    monkeypatch.setenv("PATH", f"{FAKES}{os.pathsep}{os.environ.get('PATH', '')}")
    return FAKES
