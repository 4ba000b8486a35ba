"""Exports pages: presets (create, edit, delete, run), selection and overlay previews, jobs with
progress cards, video after export, history, and the security rules on every input."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from media_support import ENCODED_SEGMENTS, XSS, HxAttrs, demo_frames, traversal_values, wait_job
from PIL import Image
from web_support import BOTH_BACKENDS

from pylapse.video.manifest import manifest_path

BASE_FORM = {
    "collection": "demo", "tolerance": "300", "ext": "jpg", "resize_mode": "fit",
    "quality": "90", "timestamp_format": "%Y-%m-%d %H:%M", "font": "", "font_size": "0.08",
    "font_color": "#ffffff", "backdrop": "box", "backdrop_color": "#000000",
    "box_opacity": "0.5", "anchor": "bottom-right", "margin": "0.02", "offset_x": "0",
    "offset_y": "0", "link": "on",
}  # fmt: skip


def create(post, preset_id: str = "quarter", **fields: str):  # type: ignore[no-untyped-def]
    return post("/exports/new", {**BASE_FORM, "preset_id": preset_id, **fields})


def test_new_form_defaults_and_collection_preselected(client) -> None:
    response = client.get("/exports/new", params={"collection": "demo"})
    assert response.status_code == 200
    assert response.template.name == "export_form.html"
    ctx = response.context
    assert ctx["values"]["collection"] == "demo"
    assert ctx["values"]["quality"] == "90" and ctx["values"]["anchor"] == "bottom-right"
    assert "demo" in ctx["collections"]
    assert ctx["fonts"] is not None and ctx["default_font"]
    assert "Europe/Berlin" in ctx["zones"]
    assert any(c.name == "h264" for c in ctx["codecs"])
    gets = {a["hx-get"] for a in HxAttrs(response.text).with_attr("hx-get")}
    assert {"/exports/overlay", "/exports/preview"} <= gets
    assert client.get("/exports/new", params={"collection": "nope"}).status_code == 404


def test_create_edit_round_trip_and_delete(client, post, runtime, config_path) -> None:
    response = create(post, minute="*/15", hour="6-20", date_from="2026-03-01",
                      drawtimestamp="on", display_timezone="UTC")  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/exports/quarter?saved=1"
    saved = json.loads(config_path.read_text())["exports"]["quarter"]
    assert saved["minute"] == "*/15" and saved["hour"] == "6-20"
    assert saved["drawtimestamp"] is True and saved["display_timezone"] == "UTC"
    page = client.get("/exports/quarter", params={"saved": 1})
    assert page.context["flash"] == "Saved."
    values = page.context["values"]
    assert values["minute"] == "*/15" and values["date_from"] == "2026-03-01"
    assert values["drawtimestamp"] is True and values["optimize"] is False
    # edit: same id, new values
    edited = post("/exports/quarter", {**BASE_FORM, "minute": "0", "hour": "12"})
    assert edited.status_code == 303
    preset = runtime.config.exports["quarter"]
    assert (preset.minute, preset.hour, preset.drawtimestamp) == ("0", "12", False)  # as typed
    listing = client.get("/exports")
    assert listing.template.name == "exports.html"
    assert [p["id"] for p in listing.context["presets"]] == ["quarter"]
    assert listing.context["presets"][0]["rule"] == "minute 0, hour 12"
    assert post("/exports/quarter/delete").status_code == 303
    assert "quarter" not in json.loads(config_path.read_text()).get("exports", {})
    assert client.get("/exports/quarter").status_code == 404


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"preset_id": "a/b"}, "preset_id"),
        ({"preset_id": "new"}, "preset_id"),
        ({"font_color": "not-a-colour"}, "font_color"),
        ({"quality": "0"}, "quality"),
        ({"minute": "75"}, "minute"),
        ({"date_from": "10/03/2026"}, "date_from"),
        ({"display_timezone": "Mars/Base"}, "display_timezone"),
        ({"font": "No Such Font 123"}, "font"),
        ({"collection": ""}, "collection"),
    ],
)
def test_bad_values_are_named_and_nothing_is_saved(post, runtime, fields, field) -> None:
    data = {**BASE_FORM, "preset_id": "p", "drawtimestamp": "on", **fields}
    response = post("/exports/new", data)
    assert response.status_code == 422
    assert response.template.name == "export_form.html"
    assert field in response.context["errors"], response.context["errors"]
    assert runtime.config.exports == {}


def test_duplicate_name_is_refused(post) -> None:
    assert create(post).status_code == 303
    again = create(post)
    assert again.status_code == 422 and "preset_id" in again.context["errors"]


def test_output_folders_outside_the_roots_are_refused(post, runtime, tmp_path) -> None:
    escaping = traversal_values(tmp_path)
    climbing = [v for v in escaping if ".." in v or v.startswith("/")]
    for field, values in (("output_dir", escaping), ("subdir", climbing)):
        for value in values:
            response = create(post, "p", **{field: value})
            assert response.status_code == 422, (field, value)
            assert field in response.context["errors"], (field, value)
    assert runtime.config.exports == {}


@pytest.mark.parametrize("segment", ["nope", *ENCODED_SEGMENTS])
def test_unknown_or_traversing_preset_id_is_404(client, post, segment) -> None:
    assert client.get(f"/exports/{segment}").status_code in (404, 422)
    assert post(f"/exports/{segment}/run").status_code in (404, 422)
    assert post(f"/exports/{segment}/delete").status_code in (404, 422)


def test_text_fields_come_back_escaped(client, post) -> None:
    response = create(post, "p", watermark_text=XSS, timestamp_format=XSS, prefix="<b>x")
    assert response.status_code == 303
    html = client.get("/exports/p").text
    assert XSS not in html and "<b>x" not in html
    assert "&lt;script&gt;" in html
    bad = create(post, "q", font_color=XSS)
    assert bad.status_code == 422 and XSS not in bad.text


@BOTH_BACKENDS
def test_selection_preview_counts_gaps_and_video_length(client, runtime) -> None:
    demo_frames(runtime, count=10, step=timedelta(minutes=15))  # 09:00 .. 11:15
    params = {**BASE_FORM, "minute": "*/30", "tolerance": "60", "fps": "2",
              "date_from": "2026-03-10", "date_to": "2026-03-10"}  # fmt: skip
    response = client.get("/exports/preview", params=params)
    assert response.template.name == "partials/_selection_preview.html"
    summary = response.context["summary"]
    assert summary["targets"] == 48 and summary["chosen"] == 5  # 09:00, 09:30 ... 11:00
    assert summary["gaps"] == 43
    assert summary["video_seconds"] == 2.5
    assert response.context["first"].hour == 9 and response.context["last"].hour == 11
    bad = client.get("/exports/preview", params={**params, "minute": "99"})
    assert bad.context["error"] and "minute" in bad.context["error"]
    none = client.get("/exports/preview", params={**params, "collection": ""})
    assert none.context["error"]


def test_quality_filters_are_saved_and_shown_again(client, post, config_path) -> None:
    response = create(post, "clean", min_luma="20", drop_frozen="on", best_of_day="12:00")
    assert response.status_code == 303
    saved = json.loads(config_path.read_text())["exports"]["clean"]
    assert saved["min_luma"] == 20 and saved["drop_frozen"] is True
    assert saved["best_of_day"] == "12:00" and saved["drop_duplicates"] is False
    values = client.get("/exports/clean").context["values"]
    assert values["min_luma"] == "20" and values["drop_frozen"] is True
    assert values["max_luma"] == "" and values["best_in_window"] is False
    bad = create(post, "dim", best_of_day="noon")
    assert bad.status_code == 422 and bad.context["errors"].get("best_of_day")


@BOTH_BACKENDS
def test_selection_preview_counts_what_each_filter_drops(client, runtime) -> None:
    demo_frames(runtime, count=10, step=timedelta(minutes=15))  # 09:00 .. 11:15
    conn = runtime.index._conn
    with conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM frames ORDER BY utc")]
        conn.execute("UPDATE frames SET luma = 100, contrast = 30, clip_high = 0")
        conn.executemany("UPDATE frames SET luma = 4 WHERE id = ?", [(i,) for i in ids[:3]])
        conn.execute("UPDATE frames SET clip_high = 0.9 WHERE id = ?", (ids[9],))
        conn.execute("UPDATE frames SET hash_distance = 0 WHERE id = ?", (ids[5],))
    params = {**BASE_FORM, "date_from": "2026-03-10", "date_to": "2026-03-10"}
    plain = client.get("/exports/preview", params=params)
    assert plain.context["summary"]["chosen"] == 10 and plain.context["dropped"] is None
    # filters off: the suggested ones are previewed, and change nothing
    suggested = plain.context["suggested"]
    assert suggested["total"] == 4 and suggested["of"] == 10
    assert dict(suggested["rows"]) == {"dark": 3, "blank": 0, "overexposed": 1, "frozen runs": 0}
    assert "Suggested filters (off) would drop 4 of 10 frames" in plain.text
    on = client.get(
        "/exports/preview", params={**params, "min_luma": "20", "drop_duplicates": "on"}
    )
    assert on.context["summary"]["chosen"] == 6
    assert on.context["dropped"]["rows"] == [("dark", 3), ("duplicates", 1)]
    assert on.context["suggested"] is None
    assert "Filters drop 4 of 10 frames" in on.text
    bad = client.get("/exports/preview", params={**params, "max_clip_high": "3"})
    assert "clipped highlights" in bad.context["error"]


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@BOTH_BACKENDS
def test_overlay_preview_is_a_processed_real_frame(client, runtime) -> None:
    demo_frames(runtime, count=1)
    partial = client.get("/exports/overlay", params={**BASE_FORM, "drawtimestamp": "on"})
    assert partial.template.name == "partials/_overlay_preview.html"
    assert partial.context["src"].startswith("/exports/overlay.jpg?")
    stamped = client.get(partial.context["src"])
    assert stamped.status_code == 200 and stamped.headers["content-type"] == "image/jpeg"
    plain = client.get("/exports/overlay.jpg", params=BASE_FORM)
    a, b = _image(stamped.content), _image(plain.content)
    assert a.size == b.size
    corner = (a.width * 2 // 3, a.height * 2 // 3, a.width, a.height)  # bottom-right: the stamp
    diff = sum(abs(x - y) for x, y in zip(a.crop(corner).tobytes(), b.crop(corner).tobytes(),
                                          strict=True))  # fmt: skip
    assert diff > 1000
    resized = client.get("/exports/overlay.jpg", params={**BASE_FORM, "width": "32"})
    assert _image(resized.content).width == 32
    bad = client.get(
        "/exports/overlay.jpg", params={**BASE_FORM, "drawtimestamp": "on", "font_color": "no"}
    )
    assert bad.status_code == 422


def test_overlay_preview_without_frames_says_so_and_polls(client, runtime) -> None:
    response = client.get("/exports/overlay", params=BASE_FORM)
    assert "no frames" in response.context["error"]
    _tag, root = HxAttrs(response.text).root()  # it looks again until a first frame arrives
    assert root["hx-get"] == "/exports/overlay" and root["hx-trigger"] == "every 3s"
    demo_frames(runtime, count=1)
    found = client.get("/exports/overlay", params=BASE_FORM)
    assert found.context["src"] and "hx-trigger" not in HxAttrs(found.text).root()[1]


@BOTH_BACKENDS
def test_run_exports_frames_with_a_job_card_and_history(client, post, runtime) -> None:
    demo_frames(runtime, count=6, step=timedelta(minutes=10))
    assert create(post, minute="*/20", tolerance="30").status_code == 303
    response = post("/exports/quarter/run", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.template.name == "partials/_media_job.html"
    job = wait_job(runtime, response.context["job"].id)
    assert job.state == "done", job.error
    out = Path(job.result["output_dir"])
    assert out == (runtime.config.root_paths[0] / "exports" / "quarter").resolve()  # its own
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"{n:06d}.jpg" for n in (1, 2, 3)]
    card = client.get(f"/exports/jobs/{job.id}")
    _tag, root = HxAttrs(card.text).root()
    assert "hx-trigger" not in root and card.headers["HX-Trigger"] == "export-finished"
    assert "3 frames written" in card.text
    history = client.get("/exports/history")
    assert history.template.name == "partials/_export_history.html"
    assert [j.id for j in history.context["jobs"]] == [job.id]
    assert client.get("/exports/history", params={"per_page": 7}).status_code == 422
    plain = post("/exports/quarter/run", {"replace": "on"})  # no htmx: back to the list
    assert plain.status_code == 303 and plain.headers["location"] == "/exports"
    wait_job(runtime, max(j.id for j in runtime.jobs.list(5)))


def test_run_with_video_queues_a_render(client, post, runtime) -> None:
    demo_frames(runtime, count=4)
    assert create(post, drawtimestamp="on").status_code == 303
    response = post("/exports/quarter/run", {"make_video": "on", "codec": "h264", "fps": "4"},
                    headers={"HX-Request": "true"})  # fmt: skip
    job = wait_job(runtime, response.context["job"].id)
    assert job.state == "done", job.error
    assert job.params["video"] == {"codec": "h264", "fps": 4.0}
    video = wait_job(runtime, job.result["video_job"])
    assert video.kind == "render" and video.state == "done", video.error
    output = Path(video.result["output"])
    assert output.is_file() and manifest_path(output).is_file()
    assert video.result["frames"] == 4 and video.result["fps"] == 4.0
    bad = post("/exports/quarter/run", {"make_video": "on", "codec": "nope", "replace": "on"})
    assert bad.status_code == 422


def test_cancel_endpoint_returns_the_card(client, post, runtime) -> None:
    import threading

    release = threading.Event()
    job_id = runtime.jobs.submit("export", "Export slow", lambda p, c: release.wait(10) and {},
                                 steps=("select", "process"), params={})  # fmt: skip
    try:
        running = client.get(f"/exports/jobs/{job_id}")
        _tag, root = HxAttrs(running.text).root()
        assert root["hx-get"] == f"/exports/jobs/{job_id}" and "sse:job-" in root["hx-trigger"]
        assert any(a.get("hx-post") == f"/exports/jobs/{job_id}/cancel"
                   for a in HxAttrs(running.text).with_attr("hx-post"))  # fmt: skip
        cancelled = post(f"/exports/jobs/{job_id}/cancel")
        assert cancelled.template.name == "partials/_media_job.html"
    finally:
        release.set()
    assert wait_job(runtime, job_id).state in ("cancelled", "done")


def test_posts_need_the_csrf_token(client, post) -> None:
    assert create(post).status_code == 303
    for url in ("/exports/new", "/exports/quarter", "/exports/quarter/run",
                "/exports/quarter/delete", "/exports/jobs/1/cancel"):  # fmt: skip
        assert client.post(url, data=BASE_FORM).status_code == 403, url
        wrong = client.post(url, data={**BASE_FORM, "csrf_token": "nope"})
        assert wrong.status_code == 403, url


# -- one preset never replaces another's output ---------------------------------------------------


def _run(post, runtime, preset_id: str, **form: str):  # type: ignore[no-untyped-def]
    response = post(f"/exports/{preset_id}/run", form, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    job = wait_job(runtime, response.context["job"].id)
    assert job.state == "done", job.error
    return job


def test_two_presets_with_default_folders_keep_both_outputs(client, post, runtime) -> None:
    demo_frames(runtime, count=12, step=timedelta(minutes=10))
    assert create(post, "hourly", minute="0", tolerance="30").status_code == 303
    assert create(post, "every frame").status_code == 303
    a = _run(post, runtime, "hourly")
    b = _run(post, runtime, "every frame")
    folder_a, folder_b = Path(a.result["output_dir"]), Path(b.result["output_dir"])
    assert folder_a.name == "hourly" and folder_b.name == "every frame"
    assert a.result["written"] == 2 and b.result["written"] == 12
    assert len(list(folder_a.glob("*.jpg"))) == 2  # B did not replace A's frames
    assert len(list(folder_b.glob("*.jpg"))) == 12


def test_two_presets_in_one_folder_are_refused_naming_both(post, runtime, config_path) -> None:
    assert create(post, "sunrise", output_dir="timelapse/shared").status_code == 303
    response = create(post, "sunset", output_dir="timelapse/shared")
    assert response.status_code == 422
    message = response.context["errors"]["output_dir"]
    assert "'sunrise'" in message and "'sunset'" in message and "shared" in message
    assert "sunset" not in json.loads(config_path.read_text())["exports"]
    # another preset's default folder, named explicitly: also refused
    assert create(post, "hourly", minute="0").status_code == 303
    clash = create(post, "quarter", output_dir="timelapse/exports/hourly")
    assert clash.status_code == 422 and "'hourly'" in clash.context["errors"]["output_dir"]
    # an edit that moves a preset into a taken folder: refused too
    assert create(post, "quarter").status_code == 303
    moved = post("/exports/quarter", {**BASE_FORM, "output_dir": "timelapse/shared"})
    assert moved.status_code == 422 and "'sunrise'" in moved.context["errors"]["output_dir"]


def test_a_run_that_would_replace_an_export_needs_the_replace_choice(client, post, runtime) -> None:
    demo_frames(runtime, count=6, step=timedelta(minutes=10))
    assert create(post, minute="*/20", tolerance="30").status_code == 303
    page = client.get("/exports/quarter")
    assert page.context["replaces"] is None and 'name="replace"' not in page.text
    first = _run(post, runtime, "quarter")
    folder = Path(first.result["output_dir"])
    before = sorted(p.name for p in folder.iterdir())
    page = client.get("/exports/quarter")
    replaces = page.context["replaces"]
    assert replaces.count == 3 and replaces.written is not None
    assert "3 frames exported on" in page.text and 'name="replace"' in page.text
    refused = post("/exports/quarter/run", {}, headers={"HX-Request": "true"})
    assert refused.status_code == 409
    assert "3 frames exported on" in refused.json()["detail"]
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing ran
    second = _run(post, runtime, "quarter", replace="on")
    assert second.params["replaces"] == 3 and second.result["written"] == 3


@BOTH_BACKENDS
def test_the_preview_counts_a_dead_cameras_frames(client, post, runtime, config_path) -> None:
    from datetime import UTC, datetime

    from pylapse.tasks.metrics import fill_metrics
    from tests.pylapse.dead_sequence import write_dead_sequence

    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    write_dead_sequence(folder, datetime(2026, 3, 10, 6, tzinfo=UTC), timedelta(minutes=10),
                        prefix="demo-")  # fmt: skip
    runtime.index.scan("demo", folder, UTC)
    fill_metrics(runtime.index, "demo")
    params = {**BASE_FORM, "date_from": "2026-03-10", "date_to": "2026-03-10"}
    default = client.get("/exports/preview", params=params)
    assert default.context["summary"]["chosen"] == 31
    assert default.context["summary"]["left_out"] == {"frozen": 7, "blank": 2}
    assert default.context["dropped"] is None  # no filter was asked for
    line = "7 frames from a frozen camera and 2 blank frames left out: a dead camera's frames"
    assert line in default.text
    kept = client.get("/exports/preview", params={**params, "keep_dead_frames": "on"})
    assert kept.context["summary"]["chosen"] == 40 and not kept.context["left_out"]
    assert 'id="dead-left-out"' not in kept.text
    # the form's checkbox is saved in the preset and shown again
    assert create(post, "all-of-it", keep_dead_frames="on").status_code == 303
    assert json.loads(config_path.read_text())["exports"]["all-of-it"]["keep_dead_frames"]
    assert client.get("/exports/all-of-it").context["values"]["keep_dead_frames"] is True
    form = client.get("/exports/new").text
    assert 'name="keep_dead_frames"' in form
