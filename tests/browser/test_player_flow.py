"""The day player in a real browser: open a day from the day grid, play, pause, step, scrub, jump
days, deep links, full screen, a phone with touch scrubbing; and the calendar's month and year
views. Screenshots of the player at desktop and phone width go to test-artifacts/screenshots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from helpers import LONG, SHORT, serve, write_day_frames
from playwright.sync_api import expect

from pylapse.index.store import FrameIndex

BERLIN = ZoneInfo("Europe/Berlin")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DAY = "2026-03-10"
BUSY = 600  # frames on DAY: 10 s apart from 10:00, then a gap, then more


def _config(folder: Path) -> Path:
    """A camera that does not capture (disabled) with a 10 s schedule and a location, and its
    frames on three days: 9 March (6), 10 March (600 + 60 after a 40-minute gap), 12 March (4)."""
    cam = folder / "timelapse" / "garden"
    write_day_frames(cam, datetime(2026, 3, 9, 12, 0, tzinfo=BERLIN), 6, timedelta(minutes=10))
    write_day_frames(cam, datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN), BUSY, timedelta(seconds=10))
    write_day_frames(cam, datetime(2026, 3, 10, 12, 20, tzinfo=BERLIN), 60, timedelta(seconds=10))
    write_day_frames(cam, datetime(2026, 3, 12, 9, 0, tzinfo=BERLIN), 4, timedelta(hours=1))
    config = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {
            "garden": {
                "name": "Garden", "type": "synthetic", "enabled": False,
                "output_dir": "timelapse/garden", "timezone": "Europe/Berlin",
                "latitude": 52.52, "longitude": 13.40,
                "schedules": [{"id": "10s", "type": "interval", "interval_amount": 10,
                               "interval_unit": "seconds"}],
            }
        },
    }  # fmt: skip
    path = folder / "capture_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@pytest.fixture
def server(tmp_path: Path, free_port: int) -> Iterator[str]:
    config = _config(tmp_path)
    (tmp_path / "data").mkdir()
    with FrameIndex(tmp_path / "data" / "pylapse.db") as index:  # indexed as a rescan would
        index.scan("garden", tmp_path / "timelapse" / "garden", BERLIN)
    with serve(config, free_port) as url:
        yield url


def _state(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector("#player", "el => ({...el.dataset})")


def _wait_index(page, index: int) -> None:  # type: ignore[no-untyped-def]
    expect(page.locator("#player")).to_have_attribute("data-index", str(index), timeout=SHORT)
    # and that frame's image is on screen, not a neighbour shown while it loads
    expect(page.locator("#player")).to_have_attribute("data-drawn", str(index), timeout=SHORT)


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"test_player-{name}.png"), full_page=True)


# Reported into the page by the browser before the page's scripts run (as in test_csp.py).
LISTEN = """window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective));
"""


def test_open_a_day_play_pause_step_scrub_and_jump_days(page, server) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(LISTEN)
    page.goto(f"{server}/collections/garden?day={DAY}")
    page.locator("#day-grid [data-play-day]").click()
    page.wait_for_url(f"**/collections/garden/play?day={DAY}", timeout=SHORT)
    player = page.locator("#player")
    expect(player).to_have_attribute("data-state", "paused", timeout=SHORT)
    _wait_index(page, 0)
    expect(page.locator("#player-time")).to_contain_text(f"{DAY} 10:00:00 +01:00 (Europe/Berlin)")
    expect(page.locator("#player-index")).to_have_text("1 of 660")
    expect(page.locator("#player-size")).to_contain_text("not in the index")
    _shot(page, "desktop")

    # step with the keys and the buttons; the URL follows the frame
    page.keyboard.press("ArrowRight")
    _wait_index(page, 1)
    expect(page.locator("#player-time")).to_contain_text("10:00:10")
    page.keyboard.press("Shift+ArrowRight")
    _wait_index(page, 11)
    page.locator("#player-back").click()
    _wait_index(page, 10)
    assert "t=10:01:40" in page.url

    # play: frames keep being shown until paused, then none
    page.select_option("#player-fps", "30")
    page.keyboard.press(" ")
    expect(player).to_have_attribute("data-state", "playing")
    before = int(_state(page)["shown"])
    page.wait_for_function(
        f"() => +document.getElementById('player').dataset.shown > {before + 20}", timeout=LONG
    )
    # frames shown in the last second, as the player counts them: playing shows some (how many
    # is ./bench.sh player's business, not a timed test's)
    rate = page.locator("#player-rate").inner_text()
    assert rate.endswith(" frames/s") and int(rate.split()[0]) > 0, rate
    page.keyboard.press(" ")
    expect(player).to_have_attribute("data-state", "paused")
    stopped = _state(page)
    assert int(stopped["index"]) > 10
    page.wait_for_timeout(400)
    assert _state(page)["shown"] == stopped["shown"]  # paused: nothing more drawn
    assert "t=" in page.url and "fps=30" in page.url

    # scrub: a click three quarters along the day lands on the frame nearest 18:00, the last
    # one (12:29:50); a drag back to a quarter past noon lands in the gap's edge frame
    box = page.locator("#player-timeline").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    _wait_index(page, 659)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.6, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * (10.5 / 24), y, steps=8)  # 10:30 local
    page.mouse.up()
    _wait_index(page, 180)
    expect(page.locator("#player-time")).to_contain_text("10:30:00")

    # the previous and next days with frames (11 March has none)
    page.keyboard.press("]")
    expect(player).to_have_attribute("data-day", "2026-03-12", timeout=SHORT)
    _wait_index(page, 0)
    expect(page.locator("#player-index")).to_have_text("1 of 4")
    expect(page.locator("#player-next-day")).to_be_disabled()
    page.keyboard.press("[")
    page.keyboard.press("[")
    expect(player).to_have_attribute("data-day", "2026-03-09", timeout=SHORT)
    expect(page.locator("#player-prev-day")).to_be_disabled()
    assert "day=2026-03-09" in page.url
    # playing past the day's last frame goes on into the next day with frames
    page.keyboard.press(" ")
    expect(player).to_have_attribute("data-day", DAY, timeout=LONG)
    expect(player).to_have_attribute("data-state", "playing")
    page.wait_for_function("() => +document.getElementById('player').dataset.index > 2",
                           timeout=LONG)  # fmt: skip
    page.keyboard.press(" ")
    assert page.evaluate("window.__csp") == []  # no inline script or style anywhere
    assert errors == []


def test_deep_link_and_full_screen(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/collections/garden/play?day={DAY}&t=12:20:30")
    _wait_index(page, 603)  # the first frame at or after 12:20:30: 12:20:30 itself
    expect(page.locator("#player-time")).to_contain_text("12:20:30")
    timeline = page.locator("#player-timeline")
    expect(timeline).to_have_attribute("aria-valuetext", "12:20:30")
    page.locator("#player-full").click()
    full = (
        "() => document.fullscreenElement === document.getElementById('player')"
        " || document.getElementById('player').classList.contains('fill')"
    )
    page.wait_for_function(full, timeout=SHORT)
    page.keyboard.press("Escape")
    # a frame id opens that frame's day at its time
    ids = httpx.get(f"{server}/collections/garden/frames.json", params={"day": DAY}).json()["ids"]
    page.goto(f"{server}/collections/garden/play?frame={ids[42]}")
    _wait_index(page, 42)
    page.keyboard.press("ArrowRight")
    _wait_index(page, 43)
    # away by a boosted link and back: htmx restores the page without running its scripts,
    # the player starts again on the frame the URL names
    page.get_by_role("link", name="Thumbnails").click()
    expect(page.locator("#day-grid")).to_be_visible(timeout=SHORT)
    page.go_back()
    _wait_index(page, 43)
    page.keyboard.press("ArrowRight")
    _wait_index(page, 44)


def test_a_phone_scrubs_by_touch(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, device_scale_factor=2)  # fmt: skip
    page = context.new_page()
    try:
        page.goto(f"{server}/collections/garden/play?day={DAY}")
        _wait_index(page, 0)
        # nothing wider than the screen: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#player-timeline").bounding_box()
        assert box is not None
        page.touchscreen.tap(box["x"] + box["width"] * (10.5 / 24), box["y"] + box["height"] / 2)
        _wait_index(page, 180)
        page.locator("#player-play").tap()
        expect(page.locator("#player")).to_have_attribute("data-state", "playing")
        page.wait_for_function("() => +document.getElementById('player').dataset.index > 185",
                               timeout=LONG)  # fmt: skip
        page.locator("#player-play").tap()
        _shot(page, "phone")
    finally:
        context.close()


def test_calendar_marks_the_short_day_and_has_a_year_view(page, server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/collections/garden?month=2026-03")
    calendar = page.locator("#calendar")
    # every day expects 8,640 frames (one every 10 s): all three days are short, the 11th too
    expect(calendar.locator("a[data-day='2026-03-10']")).to_have_class("day l1 short")
    expect(calendar.locator(".short-note")).to_contain_text("4 days short of the schedule")
    calendar.screenshot(path=str(SCREENSHOTS / "test_player-month.png"))
    calendar.locator("[data-view=year]").click()
    expect(page.locator("#calendar.calendar-year")).to_be_visible(timeout=SHORT)
    expect(page.locator("#calendar table.mini")).to_have_count(12)
    expect(page.locator("#calendar a[data-day]")).to_have_count(3)
    page.locator("#calendar").screenshot(path=str(SCREENSHOTS / "test_player-year.png"))
