"""Removing a collection in a real browser: the preview of what deleting its files would delete
(count and size), the explicit confirmation, and the job that deletes only its frames."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers import LONG, SHORT, write_day_frames
from playwright.sync_api import expect

BERLIN = ZoneInfo("Europe/Berlin")


def test_remove_a_collection_and_delete_its_files_after_the_preview(  # type: ignore[no-untyped-def]
    page, live_server, tmp_path: Path, screenshot
) -> None:
    folder = tmp_path / "timelapse" / "imports" / "garden"
    write_day_frames(folder, datetime(2026, 3, 9, 21, 0, tzinfo=BERLIN), 5, timedelta(hours=1))
    frames = sorted(folder.rglob("*.jpg"))
    size = sum(p.stat().st_size for p in frames)
    (folder / "notes.txt").write_text("not a frame: stays")
    page.goto(live_server + "/collections")
    form = page.locator("#collection-form")
    form.locator("[name=name]").fill("Garden")
    form.locator("[name=path]").fill("imports/garden")
    form.locator("[name=timezone]").fill("Europe/Berlin")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/collections/garden", timeout=SHORT)
    expect(page.locator("#collection-summary .big")).to_have_text("5", timeout=LONG)

    page.get_by_role("link", name="Remove collection…").click()
    page.wait_for_url("**/collections/garden/remove", timeout=SHORT)
    expect(page.locator("#remove-keep")).to_contain_text("Remove from pyLapse, keep the files")
    page.get_by_role("button", name="Show what would be deleted…").click()
    preview = page.locator("#delete-preview")
    expect(preview).to_contain_text("5 files", timeout=SHORT)
    kb = f"{size / 1024:.1f} KB"
    expect(preview).to_contain_text(kb)
    screenshot("preview")

    delete = page.get_by_role("button", name="Delete 5 files and remove the collection")
    confirm_form = page.locator("#remove-delete-form")
    assert not confirm_form.evaluate("f => f.checkValidity()")  # not ticked: not sent
    assert all(p.exists() for p in frames)
    page.get_by_label("Yes, delete these 5 files").check()
    delete.click()
    page.wait_for_url("**/collections?removed=Garden*", timeout=SHORT)
    expect(page.locator(".flash")).to_contain_text("being deleted")
    card = page.locator("#delete-jobs .job")
    expect(card).to_contain_text("5 files deleted", timeout=LONG)
    expect(page.locator(".coll-card", has_text="Garden")).to_have_count(0)
    screenshot("deleted")
    assert not any(p.exists() for p in frames)
    assert (folder / "notes.txt").exists()


def test_a_folder_that_disappears_is_shown_as_missing_until_it_is_back(  # type: ignore[no-untyped-def]
    page, live_server, tmp_path: Path, screenshot
) -> None:
    folder = tmp_path / "timelapse" / "usb" / "garden"
    write_day_frames(folder, datetime(2026, 3, 9, 12, 0, tzinfo=BERLIN), 3, timedelta(hours=1))
    page.goto(live_server + "/collections")
    form = page.locator("#collection-form")
    form.locator("[name=name]").fill("Garden")
    form.locator("[name=path]").fill("usb/garden")
    form.locator("[name=timezone]").fill("Europe/Berlin")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/collections/garden", timeout=SHORT)
    summary = page.locator("#collection-summary .big")
    try:
        expect(summary).to_have_text("3", timeout=SHORT)
    except AssertionError:
        # the summary refreshes on the scan's "scan-finished" event; a scan that finished before
        # the page was listening leaves "0" until a reload (a known race, in the session note)
        page.reload()
        expect(summary).to_have_text("3", timeout=LONG)

    away = folder.with_name("garden-unplugged")
    folder.rename(away)  # the USB disk is unplugged
    page.reload()
    expect(page.locator("#collection-missing")).to_contain_text(f"{folder} is gone or not mounted")
    expect(page.locator("#day-grid img")).to_have_count(0)
    screenshot("collection-missing")
    page.goto(live_server + "/")
    expect(page.locator("#missing-collections")).to_contain_text("Garden")
    page.goto(live_server + "/collections")
    card = page.locator(".coll-card", has_text="Garden")
    expect(card.locator(".badge.missing")).to_be_visible()
    expect(card.locator("img")).to_have_count(0)
    screenshot("list-missing")

    away.rename(folder)  # plugged back in
    page.goto(live_server + "/collections/garden")
    expect(page.locator("#collection-missing")).to_have_count(0)
    expect(page.locator("#day-grid .thumbs img")).to_have_count(3, timeout=SHORT)
