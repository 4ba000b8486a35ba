"""The dashboard and a text editor on the same config file: nothing either of them writes is
lost. Each form carries the config token of the page it came from; a hand edit in between makes
the save a refusal, never a silent overwrite."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from web_support import make_client

from pylapse.config.backups import backups
from pylapse.config.file import load_config
from pylapse.runtime import Runtime
from web.app import create_app

SETTINGS = {
    "storage_roots": "timelapse",
    "max_retries": "2",
    "retry_delay": "5",
    "min_free_mb": "100",
    "allowed_hosts": "",
    "host": "127.0.0.1",
    "port": "8000",
}


def hand_edit(path: Path, **top: object) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw.update(top)
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")


def token_of(page) -> str:
    return page.context["config_token"]


def test_a_form_loaded_before_a_hand_edit_is_refused(client, post, runtime, config_path) -> None:
    page = client.get("/settings")
    hand_edit(config_path, min_free_mb=777)
    response = post("/settings", data={**SETTINGS, "config_token": token_of(page)})
    assert response.status_code == 422
    message = response.context["errors"]["form"]
    assert re.search(r"changed on disk at \d\d:\d\d; reload the page to see it", message)
    assert json.loads(config_path.read_text())["min_free_mb"] == 777  # the edit survived
    assert runtime.config.min_free_mb == 777
    assert backups(config_path) == []  # nothing was written


def test_htmx_sends_the_token_as_a_header(client, csrf, runtime, config_path) -> None:
    page = client.get("/")
    hand_edit(config_path, min_free_mb=777)
    response = client.post(
        "/cameras/demo/enabled",
        data={"enabled": ""},
        headers={"X-CSRF-Token": csrf, "X-Config-Token": token_of(page), "HX-Request": "true"},
    )
    assert "changed on disk" in response.context["card_message"]
    assert runtime.config.cameras["demo"].enabled is True
    fresh = client.get("/")  # after reloading the page the toggle works, twice
    for value in ("", "on"):
        client.post(
            "/cameras/demo/enabled",
            data={"enabled": value},
            headers={"X-CSRF-Token": csrf, "X-Config-Token": token_of(fresh)},
        )
        assert runtime.config.cameras["demo"].enabled is (value == "on")
    assert json.loads(config_path.read_text())["min_free_mb"] == 777


def test_a_page_loaded_after_the_edit_saves_and_keeps_it(client, post, config_path) -> None:
    hand_edit(config_path, max_retries=7)
    page = client.get("/settings")
    assert "changed on disk" in page.text and "reloaded" in page.text  # the dashboard says so
    assert page.context["values"]["max_retries"] == 7
    response = post("/settings", data={**SETTINGS, "max_retries": "7",
                                       "config_token": token_of(page)})  # fmt: skip
    assert response.status_code == 200, response.context["errors"]
    saved = json.loads(config_path.read_text())
    assert saved["max_retries"] == 7 and saved["min_free_mb"] == 100


def test_an_invalid_hand_edit_is_shown_on_every_page(client, post, runtime, config_path) -> None:
    text = config_path.read_text(encoding="utf-8").replace('"name": "Demo camera"', '"name": ')
    config_path.write_text(text, encoding="utf-8")
    for url in ("/", "/cameras", "/collections", "/exports", "/videos", "/settings"):
        page = client.get(url)
        assert page.status_code == 200, url
        notice = page.context["config_notice"]
        assert notice is not None and notice.status == "invalid", url
        assert 'id="config-notice"' in page.text
        assert str(config_path) in page.text and "line" in page.text and "column" in page.text
    response = post("/settings", data={**SETTINGS, "config_token": token_of(page)})
    assert response.status_code == 422 and "has an error" in response.context["errors"]["form"]
    assert config_path.read_text(encoding="utf-8") == text  # never overwritten
    assert runtime.config.cameras["demo"].name == "Demo camera"  # the last valid one runs


def test_set_password_while_the_dashboard_runs_is_not_undone(client, csrf, config_path) -> None:
    client.get("/")
    result = subprocess.run(
        [sys.executable, "-m", "pylapse.cli", "set-password", "--config", str(config_path)],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # the old page's toggle: refused (the file changed), and no password lost either way
    client.post("/cameras/demo/enabled", data={"enabled": "", "csrf_token": csrf})
    assert load_config(config_path).web.password_hash
    assert client.get("/").status_code in (303, 307)  # the password is in effect: log in


def test_a_symlinked_config_saved_from_the_dashboard_stays_a_link(tmp_path: Path) -> None:
    from web_support import csrf_token, demo_config

    real_dir = tmp_path / "etc"
    real_dir.mkdir()
    real = demo_config(real_dir)
    (tmp_path / "project").mkdir()
    link = tmp_path / "project" / "capture_config.json"
    link.symlink_to(real)
    runtime = Runtime(load_config(link), config_path=link)
    data_path = runtime.data_path
    try:
        with make_client(create_app(runtime)) as client:
            token = csrf_token(client)
            for value in ("", "on", ""):
                form = {"enabled": value, "csrf_token": token}
                form["config_token"] = token_of(client.get("/"))
                client.post("/cameras/demo/enabled", data=form)
                assert link.is_symlink() and link.resolve() == real
                assert load_config(link).cameras["demo"].enabled is (value == "on")
    finally:
        runtime.stop()
    assert load_config(link).data_path == data_path  # a restart finds the same data folder


def test_a_private_config_stays_private(client, post, config_path) -> None:
    config_path.chmod(0o600)
    page = client.get("/settings")
    post("/settings", data={**SETTINGS, "min_free_mb": "123", "config_token": token_of(page)})
    assert json.loads(config_path.read_text())["min_free_mb"] == 123
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert all(stat.S_IMODE(b.stat().st_mode) == 0o600 for b in backups(config_path))
    assert os.access(config_path, os.R_OK)


def test_a_refused_form_keeps_refusing_until_the_page_is_reloaded(client, post, config_path):
    page = client.get("/settings")
    hand_edit(config_path, min_free_mb=777)
    refused = post("/settings", data={**SETTINGS, "config_token": token_of(page)})
    assert refused.status_code == 422
    again = post("/settings", data={**SETTINGS, "config_token": token_of(refused)})  # Save again
    assert again.status_code == 422 and "changed on disk" in again.context["errors"]["form"]
    assert json.loads(config_path.read_text())["min_free_mb"] == 777
    reloaded = client.get("/settings")
    assert token_of(reloaded) != token_of(page)
    assert reloaded.context["values"]["min_free_mb"] == 777
