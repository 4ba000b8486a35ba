"""Videos page: the render schedules with their next run, "Run now" (POST + CSRF) queuing
the schedule's render job, and the render form's day-by-day (segment cache) option."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from media_support import HxAttrs, demo_frames, wait_job
from web_support import BOTH_BACKENDS, demo_config

from pylapse.video.manifest import read_manifest
from web.routes.videos import schedule_rows


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return demo_config(tmp_path, render_schedules={
        "everything": {"collection": "demo", "period": "all", "at": "06:00", "fps": 5},
        "paused": {"collection": "demo", "period": "0 7 * * 1", "enabled": False},
    })  # fmt: skip


def test_the_page_lists_schedules_with_their_next_run(client, runtime) -> None:
    page = client.get("/videos")
    assert page.status_code == 200
    rows = {r["id"]: r for r in page.context["schedules"]}
    assert set(rows) == {"everything", "paused"} and rows["everything"]["next"] is not None
    assert "disabled" in page.text and "Run now" in page.text
    forms = [a for t, a in HxAttrs(page.text).elements if t == "form"]
    assert any(f.get("hx-post") == "/videos/schedules/everything/run" for f in forms)
    when = datetime.fromisoformat("2026-03-29T01:00+01:00")  # the night Berlin's clocks go on
    (row,) = [r for r in schedule_rows(runtime.config, when) if r["id"] == "everything"]
    assert row["next"].isoformat() == "2026-03-29T06:00:00+02:00"


def test_run_now_queues_the_schedules_render_job(client, post, runtime) -> None:
    demo_frames(runtime, count=6)
    assert client.post("/videos/schedules/everything/run").status_code == 403  # no CSRF token
    assert post("/videos/schedules/nope/run").status_code == 404
    response = post("/videos/schedules/everything/run")
    assert response.status_code == 303
    (job,) = runtime.jobs.list(5, kind="render")
    job = wait_job(runtime, job.id)
    assert job.state == "done", job.error
    assert job.params["schedule"] == "everything"
    video = Path(job.result["output"])
    assert video.name.startswith("everything-all_") and job.result["frames"] == 6
    manifest = read_manifest(video)
    assert manifest is not None and manifest["schedule"]["id"] == "everything"
    card = post("/videos/schedules/everything/run", headers={"HX-Request": "true"})
    assert card.status_code == 200 and card.template.name == "partials/_media_job.html"
    wait_job(runtime, card.context["job"].id)


@BOTH_BACKENDS
def test_the_render_form_encodes_day_by_day_when_asked(post, runtime) -> None:
    start = datetime.fromisoformat("2026-03-10T09:00+01:00")
    demo_frames(runtime, count=6, step=timedelta(hours=8), start=start)  # 3 days: 09, 17, 01

    def render() -> dict:
        form = {"source": "collection", "collection": "demo", "codec": "h264", "timing": "fps",
                "fps": "5", "name": "days", "replace": "on", "segment_cache": "on"}  # fmt: skip
        assert post("/videos", form).status_code == 303
        job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
        assert job.state == "done", job.error
        return job.result

    first = render()
    assert first["segments_encoded"] == ["2026-03-10", "2026-03-11", "2026-03-12"]
    assert first["frames"] == 6 and probe_frames(Path(first["output"])) == 6
    demo_frames(runtime, count=1, start=start + timedelta(hours=4))  # one more on the 10th
    second = render()
    assert second["segments_encoded"] == ["2026-03-10"] and second["segments_reused"] == 2
    assert second["frames"] == 7 and probe_frames(Path(second["output"])) == 7
    cached = runtime.config.data_path / "cache" / "segments" / "demo"
    assert len(list(cached.glob("*/2026-03-1?.mp4"))) == 3


def probe_frames(video: Path) -> int:
    from tests.pylapse.video.test_segments import probe

    return int(probe(video)["streams"][0]["nb_read_frames"])


def test_schedules_are_added_changed_and_removed_on_the_page(client, post, runtime) -> None:
    form = {"id": "week", "collection": "demo", "period": "last_7_days", "at": "07:15",
            "keep": "3", "codec": "h264", "fps": "12", "enabled": "on"}  # fmt: skip
    assert client.post("/videos/schedules", data=form).status_code == 403  # no CSRF token
    assert post("/videos/schedules", form).status_code == 303
    saved = runtime.config.render_schedules["week"]
    assert (saved.period, saved.at, saved.keep, saved.fps) == ("last_7_days", "07:15", 3, 12)
    assert '"week"' in runtime.config_path.read_text()  # in the file, not only in memory
    bad = post("/videos/schedules", {**form, "period": "weekly"})
    assert bad.status_code == 422 and "render_schedules.week.period" in bad.text
    # a change keeps what the form does not show (the selection rules set in the file)
    everything = runtime.config.render_schedules["everything"]
    runtime.apply_config(runtime.config.model_copy(update={"render_schedules": {
        **runtime.config.render_schedules,
        "everything": everything.model_copy(update={"select": {"hour": "9-17"}}),
    }}))  # fmt: skip
    change = {"id": "everything", "collection": "demo", "period": "all", "at": "05:00"}
    assert post("/videos/schedules", change).status_code == 303
    changed = runtime.config.render_schedules["everything"]
    assert changed.at == "05:00" and changed.select == {"hour": "9-17"} and not changed.enabled
    assert post("/videos/schedules/week/remove").status_code == 303
    assert "week" not in runtime.config.render_schedules
    assert post("/videos/schedules/week/remove").status_code == 404
    page = client.get("/videos")
    assert 'data-confirm="Remove the schedule everything? Its videos stay."' in page.text
