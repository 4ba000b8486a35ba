"""Real-browser tests: Playwright driving Debian's headless Chromium against a real server.

Playwright's own browser download cannot work offline, so we launch /usr/bin/chromium. Each test
can save screenshots with the ``screenshot`` fixture; the folder is printed at the end of the run.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.helpers import serve

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Per module, not per session: while Playwright's sync API is open it runs an event loop in
    # the main thread, which would break any later test that calls asyncio.run().
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (./test.sh installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``screenshot("name")`` saves the page as test-artifacts/screenshots/<test>-name.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def write_demo_config(folder: Path, **extra: object) -> Path:
    """A config like the example's: one demo camera capturing every 2 s, paths inside ``folder``."""
    config = {
        "data_dir": "data",
        "storage_roots": ["timelapse"],
        "cameras": {
            "demo": {
                "name": "Demo camera",
                "type": "synthetic",
                "output_dir": "timelapse/demo",
                "timezone": "Europe/Berlin",
                "latitude": 52.52,
                "longitude": 13.40,
                "capture_width": 320,
                "capture_height": 180,
                "schedules": [
                    {
                        "id": "every-2s",
                        "type": "interval",
                        "interval_amount": 2,
                        "interval_unit": "seconds",
                    }
                ],
            }
        },
        **extra,
    }
    path = folder / "capture_config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


@pytest.fixture
def live_server(tmp_path: Path, free_port: int) -> Iterator[str]:
    """``web_ui.py`` as a real process on 127.0.0.1 with a demo-camera config; yields its URL."""
    with serve(write_demo_config(tmp_path), free_port) as url:
        yield url
