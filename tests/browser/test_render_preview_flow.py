"""The Videos page's render form in a real browser: its selection preview (the export form's,
issue 17) follows the selection fields and the Keep a dead camera's frames checkbox without a
reload, and the render it starts has the frames the preview counted."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import write_demo_config
from helpers import LONG, SHORT, serve_config  # noqa: F401 - serve_config is a fixture
from playwright.sync_api import expect

from tests.pylapse.dead_sequence import BLANK, COUNT, FROZEN, write_dead_sequence

START = datetime(2026, 3, 10, 6, tzinfo=UTC)  # 07:00 in Berlin, the demo camera's zone
STEP = timedelta(minutes=10)
EVERY_20 = range(0, COUNT, 2)  # the frames on minutes 0, 20 and 40 (every other one)
DEAD = [k for k in range(COUNT) if k in FROZEN or k in BLANK]


def _dead_demo_config(folder: Path) -> Path:
    """The demo camera, not capturing, with 10 March 2026's frames: a frozen run and blank
    pictures among live ones, indexed and scored as the metrics job leaves them."""
    from pylapse.cli import load_config_or_fail
    from pylapse.index.store import FrameIndex
    from pylapse.tasks.metrics import fill_metrics

    config_path = write_demo_config(folder)
    raw = json.loads(config_path.read_text())
    raw["cameras"]["demo"]["schedules"] = []  # no new frames to wait for or to count
    config_path.write_text(json.dumps(raw, indent=2))
    config = load_config_or_fail(config_path)
    frames = config.resolve(config.cameras["demo"].output_dir)
    write_dead_sequence(frames, START, STEP, prefix="demo-")
    with FrameIndex(config.index_location) as index:
        index.scan("demo", frames, UTC)
        fill_metrics(index, "demo")
    return config_path


def test_the_render_preview_follows_the_form_and_the_render_matches_it(  # type: ignore[no-untyped-def]
    page,
    tmp_path: Path,
    serve_config,  # noqa: F811 - the fixture imported above
    screenshot,
) -> None:
    url = serve_config(_dead_demo_config(tmp_path))
    page.goto(url + "/videos")
    form = page.locator("#render-form")
    # no export folder yet: the form is drawn for a collection and previews it at once
    expect(form.locator("input[name=source][value=collection]")).to_be_checked()
    chosen = page.locator("#render-preview [data-chosen]")
    left_out = page.locator("#render-preview #dead-left-out")
    page_loads = []
    page.on("load", lambda _page: page_loads.append(1))  # the assertions below need none
    form.locator("[name=collection]").select_option("demo")
    form.locator("[name=date_from]").fill("2026-03-10")
    form.locator("[name=date_to]").fill("2026-03-10")
    alive = COUNT - len(DEAD)
    expect(chosen).to_have_attribute("data-chosen", str(alive), timeout=SHORT)
    expect(left_out).to_contain_text(
        f"{len(FROZEN)} frames from a frozen camera and {len(BLANK)} blank frames left out"
    )
    screenshot("default")

    # a selection field: minutes 0, 20 and 40 only, a target every other frame; the dead
    # frames are counted as they leave the candidates, the whole range's (Collection.select)
    form.locator("[name=minute]").fill("*/20")
    form.locator("[name=minute]").press("Tab")  # a change event, as a person leaves the field
    picked = [k for k in EVERY_20 if k not in DEAD]
    expect(chosen).to_have_attribute("data-chosen", str(len(picked)), timeout=SHORT)
    expect(left_out).to_contain_text(f"{len(FROZEN)} frames from a frozen camera")

    # the fps feeds the video length the preview shows
    form.locator("[name=fps]").fill("6")
    form.locator("[name=fps]").press("Tab")
    expect(page.locator("#render-preview")).to_contain_text("Video at 6 fps")
    expect(page.locator("#render-preview")).to_contain_text(f"{len(picked) / 6:.1f} s")

    # keeping the dead camera's frames puts them back
    form.locator("[name=keep_dead_frames]").check()
    expect(chosen).to_have_attribute("data-chosen", str(len(EVERY_20)), timeout=SHORT)
    expect(left_out).to_have_count(0)
    screenshot("kept")
    assert not page_loads, "the preview reloaded the page"

    # each render has the frames its preview counted, with the box ticked and without
    jobs = page.locator("#render-jobs .job")
    for n, (name, keep) in enumerate((("with-dead", True), ("without-dead", False)), 1):
        form.locator("[name=keep_dead_frames]").set_checked(keep)
        expect(chosen).to_have_attribute(
            "data-chosen", str(len(EVERY_20) if keep else len(picked)), timeout=SHORT
        )
        previewed = chosen.get_attribute("data-chosen")
        form.locator("[name=name]").fill(name)
        form.locator("button[type=submit]").click()
        expect(jobs).to_have_count(n, timeout=SHORT)
        expect(jobs.first).to_have_attribute("data-job-state", "done", timeout=LONG)
        expect(jobs.first.locator(".result")).to_contain_text(
            re.compile(rf"^{previewed} frames at 6(\.0)? fps.*{name}\.mp4")
        )
    screenshot("done")
    assert not page_loads, "the render reloaded the page"
