"""Cameras in a real browser: add a demo camera and see its frame; a cron schedule that the
editor must keep exactly as written survives an edit and a save."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write_demo_config
from helpers import SHORT, serve_config  # noqa: F401 - serve_config is a fixture
from playwright.sync_api import expect

CRON = "5 8,10,12 * * 1-5"  # minute hour day month day_of_week


def test_add_a_demo_camera_and_see_its_frame(page, live_server, screenshot) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/cameras/new")
    form = page.locator("#camera-form")
    form.locator("[name=name]").fill("Roof cam")
    form.locator("[name=type]").select_option("synthetic")
    form.locator("[name=output_dir]").fill("timelapse/roof")
    form.locator("[name=timezone]").fill("Asia/Tokyo")
    screenshot("new-camera")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    errors = page.locator(".field-error, .flash.error").all_inner_texts()
    assert not errors, errors
    page.wait_for_url("**/cameras/roof-cam?saved=1", timeout=SHORT)
    page.goto(live_server + "/")
    card = page.locator("article.camera-card", has_text="Roof cam")
    card.get_by_role("button", name="Grab now").click()
    image = card.locator("img.thumb")
    expect(image).to_be_visible(timeout=SHORT)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    expect(card.locator(".flash")).to_contain_text("Saved", timeout=SHORT)
    screenshot("dashboard-with-frame")


def test_cron_schedule_is_unchanged_after_an_edit(
    page,
    tmp_path: Path,
    serve_config,  # noqa: F811 - the fixture imported above
    screenshot,
) -> None:
    schedule = {"id": "weekdays", "minute": 5, "hour": "8,10,12", "day_of_week": "1-5"}
    config = write_demo_config(tmp_path)
    raw = json.loads(config.read_text())
    raw["cameras"]["demo"]["schedules"] = [schedule]
    config.write_text(json.dumps(raw, indent=2))
    url = serve_config(config)
    page.goto(url + "/cameras/demo")
    cron = page.locator("#schedules input[name$='-cron']").first
    expect(cron).to_have_value(CRON)
    expect(page.locator("#schedules .fires li").first).to_be_visible(timeout=SHORT)
    screenshot("camera-form")
    page.locator("#camera-form [name=description]").fill("edited in the browser")
    # wait for the save itself (networkidle can come before the POST on a loaded machine)
    with page.expect_response(lambda r: r.request.method == "POST", timeout=SHORT * 4):
        page.locator("#camera-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    saved = json.loads(config.read_text())["cameras"]["demo"]
    assert saved["description"] == "edited in the browser"
    (kept,) = saved["schedules"]
    assert {k: kept.get(k) for k in schedule} == schedule
    assert all(kept.get(k) in (None, "*") for k in ("day", "month", "week", "year", "second"))
    page.goto(url + "/cameras/demo")
    expect(page.locator("#schedules input[name$='-cron']").first).to_have_value(CRON)
    screenshot("camera-form-after-save")
