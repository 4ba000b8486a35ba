"""Helpers for the browser tests: a server on a config of the test's own, and real frames.

``conftest.py`` provides ``live_server`` on the standard demo config; tests that need another
config (a camera with a particular schedule, a collection folder) start one with
``serve_config``.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
SHORT = 15_000  # ms: how long a page may take to show what a test waits for
LONG = 60_000  # ms: a job (export, render) on a busy 2-core machine


@contextmanager
def serve(config: Path, port: int) -> Iterator[str]:
    """``web_ui.py --config config`` on 127.0.0.1:``port`` until the block ends.

    Its output goes to ``web_ui.log`` beside the config (a pipe nobody reads would fill up and
    block the server on a long test) and is shown if the server fails to start.
    """
    log_path = config.parent / "web_ui.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "web_ui.py"), "--config", str(config), "--port", str(port)],
            cwd=config.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"web_ui.py exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    pytest.fail(f"web_ui.py did not answer within 30 s:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def serve_config(free_port: int) -> Iterator[Callable[[Path], str]]:
    """``serve_config(config_path)`` starts a server on that config and returns its URL."""
    with ExitStack() as stack:
        yield lambda config: stack.enter_context(serve(config, free_port))


def write_many_cameras(folder: Path, count: int = 20) -> Path:
    """A config of ``count`` small demo cameras (``cam00``...), each capturing every second."""
    cameras = {
        f"cam{n:02d}": {
            "name": f"Camera {n}",
            "type": "synthetic",
            "output_dir": f"timelapse/cam{n:02d}",
            "timezone": "Europe/Berlin",
            "capture_width": 96,
            "capture_height": 54,
            "schedules": [
                {"id": "1s", "type": "interval", "interval_amount": 1, "interval_unit": "seconds"}
            ],
        }
        for n in range(count)
    }
    config = {"data_dir": "data", "storage_roots": ["timelapse"], "cameras": cameras}
    path = folder / "capture_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def frame_bytes(n: int, size: tuple[int, int] = (160, 90)) -> bytes:
    """A small JPEG that differs per ``n`` (a moving bar), so renders have real content."""
    image = Image.new("RGB", size, (20 + n * 9 % 200, 60, 120))
    x = n * 7 % size[0]
    ImageDraw.Draw(image).rectangle((x, 0, x + 12, size[1]), fill="white")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write_day_frames(folder: Path, start: datetime, count: int, step: timedelta) -> None:
    """Frames named by their local time with offset (the default format) in day folders."""
    for i in range(count):
        when = start + i * step
        day = folder / when.strftime("%Y-%m-%d")
        day.mkdir(parents=True, exist_ok=True)
        offset = when.strftime("%z")
        name = when.strftime("%Y-%m-%dT%H-%M-%S") + offset[:3] + "." + offset[3:] + ".jpg"
        (day / name).write_bytes(frame_bytes(i))


def write_numbered(folder: Path, count: int, size: tuple[int, int] = (160, 90)) -> None:
    """``000001.jpg`` ... as an export writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"{i + 1:06d}.jpg").write_bytes(frame_bytes(i, size))
