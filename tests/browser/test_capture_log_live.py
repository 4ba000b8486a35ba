"""The capture log in a real browser: its relative times keep counting between updates."""

from __future__ import annotations

from helpers import SHORT
from playwright.sync_api import expect


def test_relative_times_keep_counting(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    stamp = page.locator("#capture-log time.ago").first
    expect(stamp).to_be_visible(timeout=SHORT)  # the demo camera saves a frame every 2 s
    # the stamp moved out of the log (which the page refreshes from the server), so that only
    # the page's script can change its text
    frozen = page.evaluate("""() => { const t = document.querySelector('#capture-log time.ago');
        const copy = t.cloneNode(true); copy.id = 'frozen-stamp';
        document.getElementById('capture-log').replaceWith(
            Object.assign(document.createElement('div'), {id: 'frozen'}));
        document.getElementById('frozen').appendChild(copy); return copy.textContent; }""")
    assert frozen.endswith(" ago")
    page.wait_for_timeout(2500)
    later = page.locator("#frozen-stamp").inner_text()
    assert later != frozen and later.endswith(" ago"), (frozen, later)
