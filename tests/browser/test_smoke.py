"""The dashboard loads in a real headless Chromium and shows the configured demo camera."""

from __future__ import annotations


def test_dashboard_loads_in_chromium(page, live_server, screenshot) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(live_server + "/")
    assert response is not None and response.ok
    assert "pyLapse" in page.title()
    assert page.get_by_text("Demo camera").first.is_visible()
    assert screenshot("dashboard").stat().st_size > 0
