"""Settings on a real server: the port shown is the one the server listens on (started with
--port, while the config's web.port is the default 8000)."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect


def test_settings_show_the_port_the_server_listens_on(page, live_server) -> None:  # type: ignore[no-untyped-def]
    port = urlsplit(live_server).port
    assert port is not None and port != 8000
    page.goto(live_server + "/settings")
    serving = page.locator("#serving")
    expect(serving).to_contain_text(f"In use now: 127.0.0.1:{port}")
    expect(serving).to_contain_text("the saved port 8000 applies at the next start")
    page.get_by_role("link", name="API documentation (OpenAPI)").click()
    expect(page.locator("#swagger-ui")).to_contain_text("Back to the dashboard", timeout=15_000)
