"""The collection page's "Score frames" button: a metrics job over real frame files, its live
card, and the scored / not yet scored counts (issues 17 and 18)."""

from __future__ import annotations

import pytest
from media_support import HxAttrs, demo_frames, wait_job
from web_support import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS  # every test here reads the index


def test_score_frames_runs_the_metrics_job_and_the_counts_follow(client, post, runtime) -> None:
    paths = demo_frames(runtime, count=5)
    page = client.get("/collections/demo")
    summary = page.context["c"]
    assert (summary.scored, summary.unscored) == (0, 5)
    assert "0 of 5" in page.text and "5 not yet" in page.text
    forms = [a for a in HxAttrs(page.text).with_attr("hx-post") if "metrics" in a["hx-post"]]
    assert forms and forms[0]["hx-post"] == "/collections/demo/metrics"
    assert forms[0]["hx-target"] == "#scan-jobs"

    response = post("/collections/demo/metrics", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.template.name == "partials/_media_job.html"
    job = response.context["job"]
    assert job.kind == "metrics" and job.params == {"collection": "demo"}
    done = wait_job(runtime, job.id)
    assert done.state == "done", done.error
    assert done.result["scored"] == 5 and done.result["left"] == 0
    assert done.result["total"] == 5 and done.result["failed"] == 0

    # every frame now has its scores and sky metrics, measured from its file
    frames = runtime.index.frames("demo")
    assert all(f.dhash is not None and f.sharpness is not None for f in frames)
    utc, _offset, colours = runtime.index.sky_colours("demo", 0, 2e9, "mean")
    assert len(utc) == 5
    assert [f.path for f in frames] == paths
    for i, (red, green, blue) in enumerate(colours):  # write_frames fills frame i with
        assert abs(red - i * 7) < 3 and abs(green - 80) < 3 and abs(blue - 160) < 3  # (7i, 80, 160)

    card = client.get(f"/collections/jobs/{job.id}")
    _tag, root = HxAttrs(card.text).root()
    assert "hx-trigger" not in root and "hx-get" not in root  # finished: no more updates
    assert card.headers["HX-Trigger"] == "metrics-finished"  # the summary refreshes
    assert "5 frames scored" in card.text and "5 of 5 now scored" in card.text
    summary_part = client.get("/collections/demo/summary")
    _tag, root = HxAttrs(summary_part.text).root()
    assert "metrics-finished from:body" in root["hx-trigger"]
    assert "5 of 5" in summary_part.text and "not yet" not in summary_part.text

    # a second run has nothing left to decode; without htmx the form redirects to the page
    again = post("/collections/demo/metrics")
    assert again.status_code == 303 and again.headers["location"] == "/collections/demo"
    latest = max(runtime.jobs.list(10, 0, kind="metrics"), key=lambda j: j.id)
    assert wait_job(runtime, latest.id).result["scored"] == 0


def test_scoring_needs_the_csrf_token_and_a_known_collection(client, post) -> None:
    assert client.post("/collections/demo/metrics").status_code == 403
    assert post("/collections/nope/metrics").status_code == 404


def test_the_summary_polls_while_a_scan_or_scoring_job_runs(client, runtime) -> None:
    """A page drawn mid-scan keeps asking for its summary until one is drawn with no job
    running, so it ends with the scan's count even if it missed the scan-finished event."""
    import threading

    demo_frames(runtime, count=2)
    idle = HxAttrs(client.get("/collections/demo/summary").text).root()[1]
    assert "every" not in idle["hx-trigger"]  # nothing running: no polling

    release = threading.Event()
    job_id = runtime.jobs.submit(
        "scan", "a scan that waits", lambda report, cancel: release.wait(30) and None,
        params={"collection": "demo"},
    )
    try:
        busy = HxAttrs(client.get("/collections/demo/summary").text).root()[1]
        assert "every 2s" in busy["hx-trigger"]
        page = client.get("/collections/demo")
        assert page.context["c"].busy
    finally:
        release.set()
    assert wait_job(runtime, job_id).state == "done"
    after = HxAttrs(client.get("/collections/demo/summary").text).root()[1]
    assert "every" not in after["hx-trigger"]


def test_a_scan_ending_while_the_summary_is_drawn_leaves_it_polling(
    client, runtime, monkeypatch
) -> None:
    """The CI failure of stop 26: the page counted 3 of 7 frames mid-scan, the scan ended (and
    sent its scan-finished event before the page listened) before the page asked whether a job
    was running, so it was drawn with the partial count and no polling, for good. Whether a job
    runs is asked before anything is counted: a job seen running keeps the page polling, one
    not seen had finished before the counts were read."""
    import threading

    demo_frames(runtime, count=2)
    release = threading.Event()
    job_id = runtime.jobs.submit(
        "scan", "a scan that ends mid-draw", lambda report, cancel: release.wait(30) and None,
        params={"collection": "demo"},
    )
    index = runtime.index
    count = index.count

    def count_then_finish(*args, **kwargs):  # type: ignore[no-untyped-def]
        n = count(*args, **kwargs)
        release.set()  # the scan ends right after the page counted
        wait_job(runtime, job_id)
        return n

    monkeypatch.setattr(index, "count", count_then_finish)
    try:
        summary = client.get("/collections/demo/summary")
    finally:
        release.set()
    assert summary.context["c"].busy
    root = HxAttrs(summary.text).root()[1]
    assert "every 2s" in root["hx-trigger"]
    assert root["hx-get"] == "/collections/demo/summary?polling=true"
    assert "HX-Trigger" not in summary.headers
    monkeypatch.undo()
    # the next poll finds no job: polling stops and the sections drawn mid-scan refresh too
    settled = client.get(root["hx-get"])
    assert "every" not in HxAttrs(settled.text).root()[1]["hx-trigger"]
    assert settled.headers["HX-Trigger"] == "collection-settled"
    page = client.get("/collections/demo")
    for section in ("calendar", "frame-times"):
        attrs = [a for a in HxAttrs(page.text).with_attr("hx-trigger") if a.get("id") == section]
        assert attrs and "collection-settled from:body" in attrs[0]["hx-trigger"], section
    assert "HX-Trigger" not in client.get("/collections/demo/summary").headers  # not polling


def test_frames_an_older_method_scored_are_shown_and_scored_again(
    client, post, runtime, monkeypatch
) -> None:
    from web import collection_summary

    demo_frames(runtime, count=3)
    job = post("/collections/demo/metrics", headers={"HX-Request": "true"}).context["job"]
    assert wait_job(runtime, job.id).state == "done"
    assert "older-scores" not in client.get("/collections/demo/summary").text
    # two frames as an older method left them: the same write, without a version
    frames = runtime.index.frames("demo")
    runtime.index.set_scores((f.id, {"sharpness": 1.0, "score_version": None}) for f in frames[:2])
    page = client.get("/collections/demo/summary")
    assert page.context["c"].older == 2
    assert "2 frames were scored by an older method" in page.text
    form = HxAttrs(page.text).with_attr("hx-post")[0]
    assert form["id"] == "older-scores" and form["hx-post"] == "/collections/demo/metrics"
    assert 'name="rescore_old" value="true"' in page.text
    monkeypatch.setattr(collection_summary, "OLDER_COUNTED", 1)  # a page counts so many at most
    assert "1 or more frames were scored" in client.get("/collections/demo/summary").text
    monkeypatch.undo()

    response = post(
        "/collections/demo/metrics", data={"rescore_old": "true"}, headers={"HX-Request": "true"}
    )
    done = wait_job(runtime, response.context["job"].id)
    assert done.state == "done", done.error
    assert done.result["scored"] == 2 and done.result["older"] == 0
    assert all(f.sharpness != 1.0 for f in runtime.index.frames("demo"))
    assert "older-scores" not in client.get("/collections/demo/summary").text


def test_the_summary_counts_frames_not_scored_only_up_to_a_cap(
    client, runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An archive of millions never scored: counting them all took about a second at every
    # refresh of the summary, so the page counts up to a cap and says "or more".
    monkeypatch.setattr("web.collection_summary.OLDER_COUNTED", 3)
    demo_frames(runtime, count=5)
    page = client.get("/collections/demo")
    summary = page.context["c"]
    assert summary.unscored == 3
    assert "at most 2 of 5" in page.text and "3 or more not yet" in page.text
