"""The pages live within their Content-Security-Policy: clicking through every page of a running
dashboard (live updates, forms, the calendar, Swagger UI at /api/docs) shows not one violation."""

from __future__ import annotations

from helpers import SHORT
from playwright.sync_api import expect

# Reported into the page by the browser itself, before any of the page's scripts run.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


def test_no_page_violates_the_content_security_policy(page, live_server, screenshot) -> None:  # type: ignore[no-untyped-def]
    console: list[str] = []
    errors: list[str] = []
    seen: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda msg: (
            console.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def check(name: str) -> None:
        violations = page.evaluate("window.__csp || []")
        seen.append(name)
        assert violations == [], f"{name}: {violations}"
        assert console == [], f"{name}: {console}"
        assert errors == [], f"{name}: {errors}"

    def visit(path: str) -> None:
        response = page.goto(live_server + path)
        assert response is not None and response.ok, path
        page.wait_for_load_state("networkidle") if path != "/" else None

    # dashboard: live updates over SSE swap the camera card in; the live preview streams
    visit("/")
    page.locator("#camera-status-demo img.thumb").wait_for(timeout=SHORT)
    page.locator("details.preview summary").first.click()
    page.wait_for_timeout(2500)  # a capture (every 2 s) and its refreshes
    page.locator("#capture-log select[name=per_page]").select_option("10")
    expect(page.locator("#capture-log")).to_contain_text("page 1", timeout=SHORT)
    check("dashboard")

    # cameras, the camera form, a new schedule row (its index comes from app.js, not js: eval)
    visit("/cameras")
    check("cameras")
    visit("/cameras/demo")
    rows = page.locator("#schedules .schedule")
    before = rows.count()
    page.get_by_role("button", name="Add another schedule").click()
    expect(rows).to_have_count(before + 1, timeout=SHORT)
    check("camera form")
    visit("/cameras/new")
    page.locator("select[name=type]").select_option("http")
    check("new camera")

    # collections: list, a collection's calendar (its month select submits via app.js)
    visit("/collections")
    check("collections")
    visit("/collections/demo")
    month = page.locator("select[data-autosubmit]")
    if month.count():
        month.first.select_option(index=0)
        page.wait_for_load_state("networkidle")
    check("collection")

    visit("/exports")
    check("exports")
    visit("/exports/new?collection=demo")
    check("export form")
    visit("/videos")
    check("videos")
    visit("/settings")
    check("settings")

    # Swagger UI renders and expands an operation
    visit("/api/docs")
    page.locator(".swagger-ui .info .title").wait_for(timeout=SHORT)
    page.locator(".opblock-summary").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.wait_for_timeout(500)
    screenshot("api-docs")
    check("api docs")
    assert len(seen) == 11
