"""Helpers for the web tests (imported by conftest.py and test modules; fixtures live in
conftest.py)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette 1.x suggests httpx2 for its test client; httpx is what we ship with.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BASE_URL = "http://127.0.0.1:8000"
LOOPBACK = ("127.0.0.1", 50000)
LAN = ("192.168.1.5", 1234)
DEMO_SCHEDULE = "5 8,10,12 * * 1-5"

#: A test that runs twice, its index on SQLite then on PostgreSQL (see conftest.config_path).
BOTH_BACKENDS = pytest.mark.usefixtures("index_location")


def demo_config(folder: Path, **extra: Any) -> Path:
    """A config with one demo camera (cron schedule: it will not fire during a test)."""
    config: dict[str, Any] = {
        "_comment": "written by tests/web/conftest.py",
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {
            "demo": {
                "name": "Demo camera",
                "description": "the built-in synthetic camera",
                "type": "synthetic",
                "output_dir": "timelapse/demo",
                "timezone": "Europe/Berlin",
                "latitude": 52.52,
                "longitude": 13.40,
                "capture_width": 320,
                "capture_height": 180,
                "schedules": [
                    {"id": "weekdays", "minute": 5, "hour": "8,10,12", "day_of_week": "1-5"},
                    {"id": "fast", "type": "interval", "enabled": False,
                     "interval_amount": 2, "interval_unit": "seconds"},
                ],
            }
        },
        **extra,
    }  # fmt: skip
    (folder / "timelapse").mkdir(exist_ok=True)
    path = folder / "capture_config.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def make_client(app: Any, client: tuple[str, int] = LOOPBACK, **kw: Any) -> TestClient:
    return TestClient(app, base_url=BASE_URL, client=client, follow_redirects=False, **kw)


def csrf_token(client: TestClient) -> str:
    """The CSRF token of ``client``'s session (the session cookie is set by the same call)."""
    response = client.get("/api/session")
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def set_password(config_path: Path, password: str) -> None:
    from argon2 import PasswordHasher

    raw = json.loads(config_path.read_text())
    raw.setdefault("web", {})["password_hash"] = PasswordHasher().hash(password)
    config_path.write_text(json.dumps(raw))
