"""A camera entry of the config that does not validate: the dashboard runs every other camera,
says so on every page, and its saves never change or drop the broken entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web_support import demo_config

SETTINGS = {  # the settings form as the page sends it
    "storage_roots": "timelapse",
    "max_retries": "2",
    "retry_delay": "5",
    "min_free_mb": "100",
    "allowed_hosts": "",
    "host": "127.0.0.1",
    "port": "8000",
}

SHED = {
    "_why": "waiting for the new NAS",
    "name": "Shed",
    "url": "ftp://old-nas.local/shed.jpg",
    "output_dir": "timelapse/shed",
    "qualty": 80,
}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = demo_config(tmp_path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["cameras"] = {"shed": SHED, **raw["cameras"]}  # the bad entry first: its place counts
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return path


def saved_cameras(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))["cameras"]


def test_every_page_shows_the_bad_entry_and_the_rest_runs(client, runtime) -> None:
    assert list(runtime.config.cameras) == ["demo"]
    for url in ("/", "/cameras", "/collections", "/exports", "/videos", "/settings"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert list(page.context["invalid_cameras"]) == ["shed"], url
        assert 'id="invalid-cameras"' in page.text, url
        assert "cameras.shed.url" in page.text and "cameras.shed.qualty" in page.text, url
        assert "not captured" in page.text, url


def test_a_dashboard_save_keeps_the_bad_entry_as_it_was(client, csrf, runtime, config_path):
    page = client.get("/")
    response = client.post(
        "/cameras/demo/enabled",
        data={"enabled": ""},
        headers={"X-CSRF-Token": csrf, "X-Config-Token": page.context["config_token"]},
    )
    assert response.status_code == 200
    assert runtime.config.cameras["demo"].enabled is False  # the save went through
    cameras = saved_cameras(config_path)
    assert list(cameras) == ["shed", "demo"]
    assert list(cameras["shed"].items()) == list(SHED.items())  # keys, order, comment, values
    assert cameras["demo"]["enabled"] is False


def test_a_settings_save_keeps_the_bad_entry_too(client, post, config_path) -> None:
    page = client.get("/settings")
    response = post("/settings", data={**SETTINGS, "max_retries": "4",
                                       "config_token": page.context["config_token"]})  # fmt: skip
    assert response.status_code == 200, response.context["errors"]
    saved = json.loads(config_path.read_text(encoding="utf-8"))
    assert saved["max_retries"] == 4 and saved["cameras"]["shed"] == SHED


def test_fixing_the_entry_by_hand_clears_the_banner(client, runtime, config_path) -> None:
    client.get("/")
    raw = json.loads(config_path.read_text(encoding="utf-8"))
    fixed = {**SHED, "url": "http://nas.local/shed.jpg", "quality": 80}
    del fixed["qualty"]
    raw["cameras"]["shed"] = fixed
    config_path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    page = client.get("/")
    assert not page.context["invalid_cameras"] and 'id="invalid-cameras"' not in page.text
    assert runtime.config.cameras["shed"].quality == 80
