"""Days of the week edited by name in a real browser: a camera schedule's day boxes rewrite its
cron line, and the saved schedule runs on exactly the ticked days."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write_demo_config
from helpers import SHORT, serve_config  # noqa: F401 - serve_config is a fixture
from playwright.sync_api import expect


def test_ticking_days_rewrites_the_cron_line_and_saves(  # type: ignore[no-untyped-def]
    page, tmp_path: Path, serve_config, screenshot  # noqa: F811 - the fixture imported above
) -> None:
    config = write_demo_config(tmp_path)
    raw = json.loads(config.read_text())
    raw["cameras"]["demo"]["schedules"] = [{"id": "noon", "minute": 0, "hour": 12}]
    config.write_text(json.dumps(raw, indent=2))
    url = serve_config(config)
    page.goto(url + "/cameras/demo")
    row = page.locator("#schedules .schedule").first
    cron = row.locator("input[name$='-cron']")
    expect(cron).to_have_value("0 12 * * *")
    for day in ("sat", "sun"):
        row.locator(f"fieldset.days input[value={day}]").uncheck()
    expect(cron).to_have_value("0 12 * * mon-fri")
    row.locator("fieldset.days input[value=wed]").uncheck()
    expect(cron).to_have_value("0 12 * * mon,tue,thu,fri")
    for day in ("mon", "tue", "thu"):
        row.locator(f"fieldset.days input[value={day}]").uncheck()
    row.locator("fieldset.days input[value=fri]").click()  # the last day: stays ticked
    expect(row.locator("fieldset.days input[value=fri]")).to_be_checked()
    expect(cron).to_have_value("0 12 * * fri")
    screenshot("days")
    with page.expect_response(lambda r: r.request.method == "POST", timeout=SHORT * 4):
        page.locator("#camera-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    saved = json.loads(config.read_text())["cameras"]["demo"]["schedules"][0]
    assert saved["day_of_week"] == "fri"
