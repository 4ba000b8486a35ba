"""Retention in a real browser: the camera list links to the Retention page, the preview loads
after the page, Run asks first, and the job moves the thinned frames into the trash."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import write_demo_config
from helpers import LONG, SHORT, serve, write_day_frames
from playwright.sync_api import expect

from pylapse.cli import main

BERLIN = ZoneInfo("Europe/Berlin")


def test_preview_and_run_retention_from_the_camera_list(  # type: ignore[no-untyped-def]
    page, tmp_path: Path, free_port: int, screenshot
) -> None:
    config = write_demo_config(tmp_path)
    raw = json.loads(config.read_text())
    raw["cameras"]["demo"]["retention"] = {"enabled": True, "keep_all_days": 1, "thin_minutes": 60}
    config.write_text(json.dumps(raw))
    folder = tmp_path / "timelapse" / "demo"
    # an old morning, every 10 minutes: thinned to 09:00 and 10:00 (long before today)
    write_day_frames(folder, datetime(2026, 3, 9, 9, 0, tzinfo=BERLIN), 12, timedelta(minutes=10))
    old = sorted((folder / "2026-03-09").glob("*.jpg"))
    assert main(["index", "--config", str(config), "--no-progress"]) == 0
    with serve(config, free_port) as url:
        page.goto(url + "/cameras")
        page.get_by_role("link", name="Retention").click()
        page.wait_for_url("**/cameras/demo/retention", timeout=SHORT)
        preview = page.locator("#retention-preview")
        expect(preview.locator("tbody tr").first).to_contain_text("2026-03-09", timeout=LONG)
        expect(preview.locator("tbody tr").first).to_contain_text("10")
        screenshot("preview")
        asked: list[str] = []
        page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
        page.get_by_role("button", name="Run retention now").click()
        card = page.locator("#retention-jobs .job")
        expect(card).to_contain_text("10 frames", timeout=LONG)
        expect(card).to_contain_text("moved to the trash")
        screenshot("done")
        assert asked and "trash" in asked[0]
    assert [p.name[11:16] for p in old if p.exists()] == ["09-00", "10-00"]
    assert len(list((folder / ".trash").rglob("*.jpg"))) == 10
