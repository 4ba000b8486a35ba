"""Settings page: global settings, ffmpeg, storage roots, a folder browser confined to the roots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from web_support import LOOPBACK, TestClient


def test_settings_page(client, runtime) -> None:
    response = client.get("/settings")
    assert response.template.name == "settings.html"
    ctx = response.context
    assert ctx["values"]["storage_roots"] == "timelapse"
    assert ctx["values"]["max_retries"] == runtime.config.max_retries
    assert ctx["roots"] == [(runtime.config.root_paths[0], True)]
    assert ctx["password_set"] is False
    ffmpeg = ctx["ffmpeg"]
    assert ffmpeg["error"] == "", ffmpeg
    assert Path(ffmpeg["path"]).is_file() and ffmpeg["version"]
    assert "libx264" in ffmpeg["encoders"]
    assert [e["name"] for e in ctx["browser"]["browse_entries"]] == [
        str(runtime.config.root_paths[0])
    ]


def test_settings_show_the_port_in_use_and_link_the_api_docs(client, app, runtime) -> None:
    html = client.get("/settings").text
    assert runtime.config.web.port == 8000
    assert "In use now: <span class=\"mono\">127.0.0.1:8000</span>." in html
    assert 'href="/api/docs"' in html
    # a server started with --port 8123 (the config still says 8000) shows the port it uses
    with TestClient(app, base_url="http://127.0.0.1:8123", client=LOOPBACK) as other:
        html = other.get("/settings").text
    assert "In use now: <span class=\"mono\">127.0.0.1:8123</span>" in html
    assert "the saved port 8000 applies at the next start" in html
    # and the docs link back to the dashboard
    assert "](/settings)" in client.get("/api/openapi.json").json()["info"]["description"]


def test_save_settings(client, post, runtime, config_path) -> None:
    response = post(
        "/settings",
        data={
            "storage_roots": "timelapse\nexports",
            "max_retries": "5",
            "retry_delay": "2.5",
            "min_free_mb": "100",
            "allowed_hosts": "timelapse.lan\n",
            "host": "127.0.0.1",
            "port": "8000",
        },
    )
    assert response.status_code == 200 and response.context["flash"] == "Settings saved."
    saved = json.loads(config_path.read_text())
    assert saved["storage_roots"] == ["timelapse", "exports"]
    assert saved["max_retries"] == 5 and saved["retry_delay"] == 2.5
    assert saved["web"]["allowed_hosts"] == ["timelapse.lan"]
    assert runtime.config.min_free_mb == 100
    assert "password_hash" not in saved.get("web", {})


def test_bad_settings_are_refused_field_by_field(client, post, config_path) -> None:
    before = config_path.read_text()
    response = post("/settings", data={"max_retries": "99", "port": "70000"})
    assert response.status_code == 422
    assert set(response.context["errors"]) == {"max_retries", "port"}
    assert response.context["errors"]["max_retries"] == "max retries must be at most 20, not '99'"
    assert config_path.read_text() == before


def test_reload_applies_a_hand_edited_config(client, post, runtime, config_path) -> None:
    raw = json.loads(config_path.read_text())
    raw["cameras"]["demo"]["name"] = "Edited by hand"
    config_path.write_text(json.dumps(raw))
    response = post("/settings/reload")
    assert "Reloaded" in response.context["flash"]
    assert runtime.config.cameras["demo"].name == "Edited by hand"
    config_path.write_text("{ not json")
    response = post("/settings/reload")
    assert response.context["flash_kind"] == "error" and "invalid JSON" in response.context["flash"]
    assert runtime.config.cameras["demo"].name == "Edited by hand"


def test_config_warnings_are_shown(client, post, runtime, config_path) -> None:
    """A 0.2 file's hour range up to 24 loads as 0-23; the settings page says so."""
    assert client.get("/settings").context["config_warnings"] == []
    raw = json.loads(config_path.read_text())
    raw["cameras"]["demo"]["schedules"] = [{"id": "night", "hour": "21-24,0-5", "minute": 0}]
    config_path.write_text(json.dumps(raw))
    post("/settings/reload")
    response = client.get("/settings")
    warnings = response.context["config_warnings"]
    assert warnings == [
        "cameras.demo.schedules.0.hour: '21-24,0-5' read as '21-23,0-5' (hours run 0-23)"
    ]
    assert 'id="config-warnings"' in response.text


@pytest.fixture
def tree(runtime) -> Path:
    root = runtime.config.root_paths[0]
    (root / "demo" / "2026-01-01").mkdir(parents=True)
    (root / "demo" / "2026-01-02").mkdir()
    (root / "demo" / "frame.jpg").write_bytes(b"x")
    outside = root.parent / "outside"
    (outside / "secret").mkdir(parents=True)
    os.symlink(outside, root / "escape")
    return root


def test_browser_walks_inside_the_roots(client, tree: Path) -> None:
    response = client.get("/settings/browse", params={"path": str(tree / "demo")})
    assert response.template.name == "partials/_browser.html"
    browser = response.context["browser"]
    assert [e["name"] for e in browser["browse_entries"]] == ["2026-01-01", "2026-01-02"]
    assert browser["browse_parent"] == str(tree.resolve())
    top = client.get("/settings/browse", params={"path": str(tree)}).context["browser"]
    assert [e["name"] for e in top["browse_entries"]] == ["demo"]  # the symlink out is hidden
    assert top["browse_parent"] is None  # no way up from a root
    relative = client.get("/settings/browse", params={"path": "demo"}).context["browser"]
    assert relative["browse_path"] == str((tree / "demo").resolve())


@pytest.mark.parametrize(
    "path",
    [
        "../",
        "..",
        "demo/../../",
        "/etc",
        "/",
        "escape",
        "escape/secret",
        "demo/\x00",
    ],
)
def test_browser_refuses_paths_outside_the_roots(client, tree: Path, path: str) -> None:
    response = client.get("/settings/browse", params={"path": path})
    assert response.status_code == 403
    assert response.context["browser"]["browse_entries"] == []
    assert "outside the storage roots" in response.context["browser"]["browse_error"] or (
        "NUL" in response.context["browser"]["browse_error"]
    )


@pytest.mark.parametrize(
    "raw_query",
    [
        "path=%2e%2e%2f",  # ../ URL-encoded
        "path=%2E%2E%2F%2E%2E%2Fetc",
        "path=%252e%252e%252f",  # double-encoded: arrives as the literal text %2e%2e%2f
        "path=..%2f..%2f..%2fetc%2fpasswd",
        "path=%2fetc",
    ],
)
def test_browser_refuses_encoded_traversal(client, tree: Path, raw_query: str) -> None:
    response = client.get(f"/settings/browse?{raw_query}")
    browser = response.context["browser"]
    listed = [e["path"] for e in browser["browse_entries"]]
    root = str(tree.resolve())
    assert all(p == root or p.startswith(root + os.sep) for p in listed)
    if response.status_code == 200:  # the double-encoded name is a (missing) folder in the root
        assert browser["browse_path"].startswith(root)
    else:
        assert response.status_code == 403
