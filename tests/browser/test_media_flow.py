"""Collections, exports and videos in a real browser: create a collection and open a day's
thumbnails; run an export and watch it reach 100 %; render a video and play it; cancel a render."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from helpers import LONG, SHORT, write_day_frames, write_numbered
from playwright.sync_api import expect

BERLIN = ZoneInfo("Europe/Berlin")


def _loaded(page, locator) -> None:  # type: ignore[no-untyped-def]
    """Wait until the image ``locator`` shows has really been decoded."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=locator.element_handle(), timeout=SHORT)  # fmt: skip


def test_create_a_collection_and_open_a_days_thumbnails(  # type: ignore[no-untyped-def]
    page, live_server, tmp_path: Path, screenshot
) -> None:
    folder = tmp_path / "timelapse" / "imports" / "garden"
    write_day_frames(folder, datetime(2026, 3, 9, 21, 0, tzinfo=BERLIN), 3, timedelta(minutes=30))
    write_day_frames(folder, datetime(2026, 3, 10, 7, 0, tzinfo=BERLIN), 4, timedelta(minutes=30))
    page.goto(live_server + "/collections")
    form = page.locator("#collection-form")
    form.locator("[name=name]").fill("Garden")
    form.locator("[name=path]").fill("imports/garden")
    form.locator("[name=timezone]").fill("Europe/Berlin")
    screenshot("list")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/collections/garden", timeout=SHORT)
    expect(page.locator("#collection-summary .big")).to_have_text("7", timeout=LONG)
    day = page.locator("#calendar a[data-day='2026-03-09']")
    expect(day).to_contain_text("3", timeout=SHORT)
    day.click()
    page.wait_for_url("**/collections/garden?day=2026-03-09*", timeout=SHORT)
    thumbs = page.locator("#day-grid .thumbs img")
    expect(thumbs).to_have_count(3)
    for i in range(3):
        _loaded(page, thumbs.nth(i))
    expect(page.locator("#day-grid figcaption").first).to_contain_text("21:00:00")
    screenshot("day")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("day-phone")


def test_run_an_export_and_watch_it_reach_100(page, live_server, screenshot) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/exports/new?collection=demo")
    form = page.locator("#export-form")
    form.locator("[name=preset_id]").fill("browser-export")
    form.locator("[name=drawtimestamp]").check()
    form.locator("[name=font_size]").fill("0.1")
    preview = page.locator(".overlay-preview img")  # the demo camera's first frame, stamped
    expect(preview).to_be_visible(timeout=LONG)
    _loaded(page, preview)
    expect(page.locator("#selection-preview [data-chosen]")).to_be_visible(timeout=SHORT)
    screenshot("form")
    # the demo camera may not have captured yet when the preview was drawn: then saving a
    # selection of no frames asks first (tests/browser/test_phone_layout.py checks that
    # question); here the answer is yes, the frames come before the run
    page.once("dialog", lambda dialog: dialog.accept())
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert not page.locator(".field-error, .flash.error").all_inner_texts()
    page.wait_for_url("**/exports/browser-export?saved=1", timeout=SHORT)
    page.once("dialog", lambda dialog: dialog.accept())  # as above, if still no frame was drawn
    page.locator("#run-form button[type=submit]").click()
    card = page.locator("#export-jobs .job").first
    expect(card).to_have_attribute("data-job-state", "done", timeout=LONG)
    expect(card.locator(".percent")).to_have_text("100 %")
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(card).to_contain_text(" written to ")
    screenshot("done")
    page.goto(live_server + "/exports")
    expect(page.locator("#export-history tbody tr").first).to_contain_text("done")
    screenshot("list")


def test_render_a_video_and_play_it(page, live_server, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "timelapse" / "exports" / "demo" / "day"
    write_numbered(folder, 12)
    page.goto(live_server + "/videos")
    form = page.locator("#render-form")
    form.locator("input[name=source][value=export]").check()
    form.locator("[name=export_dir]").fill(str(folder))
    form.locator("[name=fps]").fill("6")
    form.locator("[name=name]").fill("browser-clip")
    screenshot("form")
    form.locator("button[type=submit]").click()
    card = page.locator("#render-jobs .job").first
    expect(card).to_have_attribute("data-job-state", "done", timeout=LONG)
    screenshot("done")
    card.get_by_role("link", name="Play").click()
    page.wait_for_url("**/videos/*", timeout=SHORT)
    expect(page.locator("header.topbar")).to_have_count(1)  # a whole page, not one in the card
    duration = page.wait_for_function(
        "() => { const v = document.querySelector('video#player');"
        " return v && v.readyState >= 1 && v.duration > 0 ? v.duration : false; }",
        timeout=SHORT,
    ).json_value()
    assert 1.5 < duration < 2.5  # 12 frames at 6 fps
    page.evaluate("document.querySelector('video#player').play()")
    page.wait_for_function("document.querySelector('video#player').currentTime > 0", timeout=SHORT)
    screenshot("player")


def test_cancel_a_render(page, live_server, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "timelapse" / "exports" / "demo" / "long"
    write_numbered(folder, 300)
    page.goto(live_server + "/videos")
    form = page.locator("#render-form")
    form.locator("input[name=source][value=export]").check()
    form.locator("[name=export_dir]").fill(str(folder))
    form.locator("[name=size]").select_option("3840x2160")
    form.locator("[name=name]").fill("too-long")
    form.locator("button[type=submit]").click()
    card = page.locator("#render-jobs .job").first
    cancel = card.get_by_role("button", name="Cancel")
    expect(cancel).to_be_visible(timeout=SHORT)
    screenshot("running")
    cancel.click()
    expect(card).to_have_attribute("data-job-state", "cancelled", timeout=LONG)
    screenshot("cancelled")
    assert not (tmp_path / "timelapse" / "videos" / "too-long.mp4").exists()


def test_a_re_render_keeps_the_first_video_unless_replace_is_checked(  # type: ignore[no-untyped-def]
    page, live_server, tmp_path: Path, screenshot
) -> None:
    from PIL import Image

    folder = tmp_path / "timelapse" / "exports" / "demo" / "day"
    write_numbered(folder, 8)
    Image.new("RGB", (1, 1)).save(folder / "000004.jpg")  # a camera served a placeholder
    videos = tmp_path / "timelapse" / "videos"

    def render(replace: bool):  # type: ignore[no-untyped-def]
        page.goto(live_server + "/videos")
        form = page.locator("#render-form")
        form.locator("input[name=source][value=export]").check()
        form.locator("[name=export_dir]").fill(str(folder))
        form.locator("[name=name]").fill("clip")
        if replace:
            form.locator("[name=replace]").check()
        form.locator("button[type=submit]").click()
        card = page.locator("#render-jobs .job").first
        expect(card).to_have_attribute("data-job-state", "done", timeout=LONG)
        return card

    card = render(replace=False)
    expect(card.locator(".skipped-frames summary")).to_have_text("1 frame skipped")
    card.locator(".skipped-frames summary").click()
    expect(card.locator(".skipped-frames li")).to_contain_text("000004.jpg: 1x1")
    screenshot("skipped")
    card = render(replace=False)
    expect(card).to_contain_text(str(videos / "clip-2.mp4"))
    card = render(replace=True)
    expect(card).to_contain_text(str(videos / "clip.mp4"))
    page.goto(live_server + "/videos")
    first = page.locator("#video-history tbody tr").last  # the oldest render, #1
    expect(first).to_have_attribute("data-file-state", "replaced")
    expect(first.locator(".file-note")).to_contain_text("the video of render #3")
    expect(first.get_by_role("link", name="Play")).to_have_count(0)
    expect(page.locator("#video-history tbody tr[data-file-state=ok]")).to_have_count(2)
    screenshot("history")
    assert sorted(p.name for p in videos.glob("*.mp4")) == ["clip-2.mp4", "clip.mp4"]
