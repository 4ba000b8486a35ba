"""Nothing the user made is replaced behind their back, seen in a real browser: a hand edit of the
config while a form is open, and an export run that would replace an earlier one."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import write_demo_config
from helpers import LONG, SHORT, serve_config  # noqa: F401 - serve_config is a fixture
from playwright.sync_api import expect


def test_a_hand_edit_while_the_settings_form_is_open(page, live_server, tmp_path: Path,
                                                     screenshot) -> None:  # fmt: skip
    config_path = tmp_path / "capture_config.json"
    page.goto(live_server + "/settings")
    form = page.locator("#settings-form")
    form.locator("[name=max_retries]").fill("4")
    raw = json.loads(config_path.read_text())
    raw["min_free_mb"] = 777  # meanwhile, in a text editor
    config_path.write_text(json.dumps(raw, indent=2))
    form.locator("button[type=submit]").click()
    error = page.locator(".flash.error[role=alert]").first
    expect(error).to_contain_text("changed on disk at", timeout=SHORT)
    expect(error).to_contain_text("reload the page to see it")
    screenshot("refused")
    saved = json.loads(config_path.read_text())
    assert saved["min_free_mb"] == 777 and "max_retries" not in saved
    page.goto(live_server + "/settings")  # reloading shows the edit and says it was loaded
    expect(page.locator("#config-notice")).to_contain_text("was reloaded")
    expect(page.locator("#settings-form [name=min_free_mb]")).to_have_value("777")
    page.locator("#settings-form [name=max_retries]").fill("4")
    page.locator("#settings-form button[type=submit]").click()
    expect(page.locator(".flash[role=status]").last).to_contain_text("Settings saved")
    saved = json.loads(config_path.read_text())
    assert saved["min_free_mb"] == 777 and saved["max_retries"] == 4


def test_an_invalid_hand_edit_shows_a_banner(page, live_server, tmp_path: Path,
                                             screenshot) -> None:  # fmt: skip
    config_path = tmp_path / "capture_config.json"
    page.goto(live_server + "/")
    text = config_path.read_text()
    # a top-level error refuses the file (a bad camera entry alone is set aside: next test)
    config_path.write_text(text.replace('"storage_roots"', '"min_free_mb": -1, "storage_roots"'))
    page.goto(live_server + "/cameras")
    banner = page.locator("#config-notice")
    expect(banner).to_contain_text("has an error and was not loaded")
    expect(banner).to_contain_text("min_free_mb")
    screenshot("banner")
    config_path.write_text(text)
    page.goto(live_server + "/cameras")
    expect(page.locator("#config-notice")).to_have_count(0)


def test_a_bad_camera_entry_shows_its_own_banner(page, live_server, tmp_path: Path) -> None:
    config_path = tmp_path / "capture_config.json"
    page.goto(live_server + "/")
    text = config_path.read_text()
    config_path.write_text(text.replace('"timezone": "Europe/Berlin"', '"timezone": "Mars/Base"'))
    page.goto(live_server + "/cameras")
    banner = page.locator("#invalid-cameras")
    expect(banner).to_contain_text("not captured")
    expect(banner).to_contain_text("cameras.demo.timezone")
    config_path.write_text(text)
    page.goto(live_server + "/cameras")
    expect(page.locator("#invalid-cameras")).to_have_count(0)


def test_running_an_export_again_asks_before_replacing(page, tmp_path: Path, serve_config,  # noqa: F811
                                                       screenshot) -> None:  # fmt: skip
    config = write_demo_config(tmp_path, exports={
        "everything": {"collection": "demo", "link": True}})  # fmt: skip
    url = serve_config(config)
    deadline = time.monotonic() + LONG / 1000
    while True:  # the demo camera captures every 2 s: wait for its first frames
        page.goto(url + "/exports/everything")
        chosen = page.locator("#selection-preview [data-chosen]")
        expect(chosen).to_be_visible(timeout=LONG)
        if int(chosen.get_attribute("data-chosen") or 0) > 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    expect(page.locator("#replace-warning")).to_have_count(0)
    page.locator("#run-form button[type=submit]").click()
    card = page.locator("#export-jobs .job").first
    expect(card).to_have_attribute("data-job-state", "done", timeout=LONG)
    page.goto(url + "/exports/everything")
    warning = page.locator("#replace-warning")
    expect(warning).to_contain_text("exported on")
    replace = page.locator("#run-form [name=replace]")
    page.locator("#run-form button[type=submit]").click()  # not ticked: the browser holds it
    assert page.evaluate("el => !el.validity.valid", replace.element_handle())
    expect(page.locator("#export-jobs .job")).to_have_count(0)
    screenshot("asks")
    replace.check()
    page.locator("#run-form button[type=submit]").click()
    card = page.locator("#export-jobs .job").first
    expect(card).to_have_attribute("data-job-state", "done", timeout=LONG)
