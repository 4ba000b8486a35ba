"""Capture hosts in a real browser (issue 21 §2): the dashboard capturing the demo camera names
its host on the camera's card and on the Cameras page, with a recent heartbeat; the Capture hosts
card keeps itself up to date without a reload as a second ``pylapse capture`` host comes, beats
and is killed."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import write_demo_config
from helpers import REPO, SHORT, serve_config  # noqa: F401 - serve_config is a fixture
from playwright.sync_api import expect

HERE = "studio"  # the dashboard's host name
OTHER = "pi-roof"  # a second capture host, which the camera "roof" is pinned to
LEASE = 3  # seconds: a heartbeat every second, silent three seconds after a kill
POLL = 10_000  # ms: how often the Capture hosts card asks again (partials/_capture_hosts.html)


def _config(folder: Path) -> Path:
    path = write_demo_config(folder, capture={"lease_seconds": LEASE})
    raw = json.loads(path.read_text())
    roof = {**raw["cameras"]["demo"], "name": "Roof camera", "output_dir": "timelapse/roof",
            "capture_host": OTHER}  # fmt: skip
    raw["cameras"]["roof"] = roof
    path.write_text(json.dumps(raw, indent=2))
    return path


@pytest.fixture
def other_host(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[bytes]]]:
    """``start(config)`` runs ``pylapse capture --host pi-roof`` on it; killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(config: Path) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{OTHER}.log").open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pylapse", "capture", "--config", str(config),
                 "--host", OTHER],
                cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def _recent(stamp, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """The ``<time datetime>`` ``stamp`` is at most ``seconds`` old and reads 'N s ago'."""
    when = datetime.fromisoformat(stamp.get_attribute("datetime") or "")
    assert 0 <= (datetime.now(UTC) - when).total_seconds() <= seconds, when
    expect(stamp).to_have_text(re.compile(r"^\d+(\.\d+)? s ago$"))


def test_the_hosts_and_their_heartbeats_show_and_keep_up(  # type: ignore[no-untyped-def]
    page,
    tmp_path: Path,
    serve_config,  # noqa: F811 - the fixture imported above
    other_host,
    monkeypatch: pytest.MonkeyPatch,
    screenshot,
) -> None:
    monkeypatch.setenv("PYLAPSE_HOST", HERE)  # the server inherits it: its host's name
    config = _config(tmp_path)
    url = serve_config(config)

    # the dashboard: the demo camera's card names the host capturing it
    page.goto(url + "/")
    expect(page.locator("#camera-status-demo .camera-host")).to_have_text(HERE)
    expect(page.locator("#camera-status-roof .camera-host")).to_have_count(0)  # nobody's yet

    page.goto(url + "/cameras")
    rows = page.locator("#camera-list tbody tr")
    expect(rows.filter(has_text="Demo camera").locator(".camera-host")).to_have_text(HERE)
    expect(rows.filter(has_text="Roof camera").locator(".camera-host")).to_have_text(
        f"none (pinned to {OTHER})"
    )
    hosts = page.locator("#capture-hosts tbody tr")
    here = hosts.filter(has_text=HERE)
    expect(hosts).to_have_count(1)
    expect(here).to_contain_text("this dashboard")
    # its camera, and the site duty's badge (the only host: it runs the scheduled renders)
    expect(here.locator("td").nth(1)).to_have_text(re.compile(r"^demo\s+runs scheduled renders$"))
    expect(here.locator("td").nth(2).locator(".badge")).to_have_text("alive")
    _recent(here.locator("time"), 3 * LEASE)
    first_beat = here.locator("time").get_attribute("datetime")
    screenshot("one-host")

    # a second host starts: the card shows it at its next poll, and a newer heartbeat of ours
    page_loads: list[int] = []
    page.on("load", lambda _page: page_loads.append(1))
    other = other_host(config)
    there = hosts.filter(has_text=OTHER)
    expect(there).to_have_count(1, timeout=SHORT + POLL)
    expect(there.locator("td").nth(1)).to_have_text("roof", timeout=POLL + SHORT)
    roof_row = rows.filter(has_text="Roof camera")  # its Host cell follows the card's poll
    expect(roof_row.locator(".camera-host")).to_have_text(f"{OTHER} (pinned to {OTHER})")
    expect(there.locator("td").nth(2).locator(".badge")).to_have_text("alive")
    expect(there).not_to_contain_text("this dashboard")
    expect(here.locator("time")).not_to_have_attribute("datetime", first_beat or "")
    _recent(here.locator("time"), 3 * LEASE)
    _recent(there.locator("time"), 3 * LEASE)
    assert not page_loads, "the card was updated by reloading the page"
    screenshot("two-hosts")
    page.goto(url + "/")
    expect(page.locator("#camera-status-roof .camera-host")).to_have_text(OTHER)

    # the second host dies: past its lease it is silent and holds nothing
    page.goto(url + "/cameras")
    page_loads.clear()
    other.send_signal(signal.SIGKILL)
    other.wait(timeout=10)
    # its leases may have been renewed after its last heartbeat (right before a write), never
    # before it: once they have run out it is silent too
    gone = LEASE * 1000 + POLL + SHORT
    expect(there.locator("td").nth(1)).to_have_text("none", timeout=gone)
    expect(there.locator("td").nth(2).locator(".badge")).to_have_text("silent", timeout=gone)
    expect(here.locator("td").nth(2).locator(".badge")).to_have_text("alive")
    assert not page_loads, "the card was updated by reloading the page"
    # its camera: "host silent" with the host's name, not the "ok" the host last recorded
    silent_host = f"{OTHER} (silent) (pinned to {OTHER})"
    expect(roof_row.locator(".camera-host")).to_have_text(silent_host)
    expect(roof_row.locator(".badge")).to_have_text("host silent")
    assert not page_loads, "the camera list was updated by reloading the page"
    screenshot("one-silent")
    page.reload()
    expect(roof_row.locator(".camera-host")).to_have_text(silent_host)
    page.goto(url + "/")
    expect(page.locator("#camera-status-roof .badge").first).to_have_text("host silent")
    expect(page.locator("#camera-status-roof .camera-host")).to_have_text(f"{OTHER} (silent)")
