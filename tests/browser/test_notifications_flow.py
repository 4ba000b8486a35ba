"""Settings, Notifications, in a real browser: "Send a test" posts (htmx, CSRF header) to a
real server, which delivers to a real receiver, and the section shows the outcome and the log."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import write_demo_config
from helpers import serve
from playwright.sync_api import expect

from tests.servers.webhook_receiver import WebhookReceiver


def test_send_a_test_from_the_settings_page(page, tmp_path: Path, free_port: int) -> None:  # type: ignore[no-untyped-def]
    with WebhookReceiver(statuses=[200, 500]) as rx:
        url = rx.url("/hook") + "?token=tok-browser-1"
        config = write_demo_config(
            tmp_path, notifications={"ops": {"url": url, "events": ["render.done"]}}
        )
        with serve(config, free_port) as server:
            page.goto(server + "/settings")
            section = page.locator("#notifications")
            expect(section).to_contain_text("token=***")
            section.get_by_role("button", name="Send a test").click()
            expect(page.locator("#notify-result")).to_contain_text("delivered (HTTP 200)")
            (got,) = rx.wait_for(1)
            assert json.loads(got.body)["test"] is True
            expect(page.locator("#notify-log")).to_contain_text("render.done")
            # the swapped section still works: a second test, answered 500, says so
            page.locator("#notifications").get_by_role("button", name="Send a test").click()
            expect(page.locator("#notify-result")).to_contain_text("failed (HTTP 500")
            expect(page.locator("#notify-log tbody tr")).to_have_count(2)
            assert "tok-browser-1" not in page.content()
