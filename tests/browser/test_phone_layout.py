"""The dashboard on a phone (390 x 844): camera actions without sideways scrolling, the export
form's previews and Run button near the top, live previews that enlarge; and the export form's
warning before an empty selection is saved."""

from __future__ import annotations

from pathlib import Path

from conftest import write_demo_config
from helpers import LONG, SHORT, serve_config  # noqa: F401 - serve_config is a fixture
from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
PRESET = {"collection": "demo", "tolerance": 300}


_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' name=' +
                   (e.getAttribute('name') || '') + ' w=' + e.getBoundingClientRect().width)"""


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (
        f"the page is {width} px wide on a {PHONE['width']} px phone: {page.evaluate(_WIDE)}"
    )


def test_camera_actions_fit_a_phone(page, live_server, screenshot) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/cameras")
    row = page.locator("#camera-list tbody tr").first
    for name in ("Edit", "Remove"):
        button = row.get_by_role("link" if name == "Edit" else "button", name=name)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    _no_sideways_scroll(page)
    screenshot("cameras-phone")


def test_export_previews_and_run_come_first_on_a_phone(  # type: ignore[no-untyped-def]
    page, tmp_path: Path, serve_config, screenshot  # noqa: F811 - the fixture imported above
) -> None:
    url = serve_config(write_demo_config(tmp_path, exports={"daily": PRESET}))
    page.set_viewport_size(PHONE)
    page.goto(url + "/exports/daily")
    run = page.locator("#run-form button[type=submit]")
    expect(run).to_be_visible()
    run_top = run.bounding_box()["y"]
    form_top = page.locator("#export-form").bounding_box()["y"]
    preview_top = page.get_by_role("heading", name="Overlay preview").bounding_box()["y"]
    assert preview_top < form_top and run_top < form_top
    assert run_top < 3 * PHONE["height"], run_top  # within a few screens, not after the form
    _no_sideways_scroll(page)
    screenshot("export-phone")
    page.set_viewport_size({"width": 1280, "height": 900})  # on a desktop the form is first
    assert page.locator("#export-form").bounding_box()["x"] < run.bounding_box()["x"]


def test_a_live_preview_enlarges_and_comes_back(page, live_server, screenshot) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/")
    card = page.locator("article.camera-card").first
    card.locator("details.preview summary").click()
    image = card.locator("details.preview img")
    expect(image).to_be_visible()
    small = image.bounding_box()
    card.get_by_role("button", name="Enlarge").click()
    expect(card.locator("details.preview")).to_have_class("preview enlarged")
    big = image.bounding_box()
    assert big["width"] == PHONE["width"] and big["height"] == PHONE["height"], big
    assert small["height"] < big["height"]
    screenshot("preview-enlarged")
    page.keyboard.press("Escape")
    expect(card.locator("details.preview")).to_have_class("preview")
    assert image.bounding_box()["height"] < PHONE["height"]


def test_saving_an_empty_selection_asks_first(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/exports/new?collection=demo")
    form = page.locator("#export-form")
    form.locator("[name=preset_id]").fill("nothing")
    form.locator("[name=date_from]").fill("2001-01-01")
    form.locator("[name=date_to]").fill("2001-01-02")
    expect(page.locator("#no-frames")).to_be_visible(timeout=LONG)
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    form.locator("button[type=submit]").click()
    page.wait_for_timeout(500)
    assert asked and "No frame matches" in asked[0]
    assert "/exports/new" in page.url  # not saved
    page.remove_listener("dialog", answer)
    page.on("dialog", lambda dialog: dialog.accept())
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/exports/nothing?saved=1", timeout=SHORT)
