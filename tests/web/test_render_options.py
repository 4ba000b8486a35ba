"""The Videos page's render options: deflicker, and stabilise only when this ffmpeg has vidstab
(otherwise hidden with the reason in a note, and refused if asked for anyway). Real ffmpeg."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from media_support import HxAttrs, wait_job
from test_videos import export_folder
from web_support import BOTH_BACKENDS, demo_config

from pylapse.ffmpeg import find_ffmpeg
from tests.pylapse.dead_sequence import BLANK, COUNT, FROZEN
from tests.pylapse.video.test_stabilise import lean_ffmpeg


@pytest.fixture
def config_path(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The demo config; ``"lean"`` as the parameter sets an ffmpeg without vidstab."""
    extra = {}
    if getattr(request, "param", None) == "lean":
        extra["ffmpeg_path"] = str(lean_ffmpeg(tmp_path))
    return demo_config(tmp_path, **extra)


def _form(folder: Path, **fields: str) -> dict[str, str]:
    return {"source": "export", "export_dir": str(folder), "codec": "h264", "timing": "fps",
            "fps": "5", "name": "clip", "pattern": "*.jpg", **fields}  # fmt: skip


def _inputs(html: str) -> set[str]:
    return {a.get("name", "") for t, a in HxAttrs(html).elements if t == "input"}


def test_the_form_offers_stabilise_and_deflicker_and_a_render_uses_them(
    client, post, runtime
) -> None:
    if find_ffmpeg().stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {find_ffmpeg().stabilise_support()}")
    page = client.get("/videos")
    assert page.context["stabilise_why_not"] is None
    assert {"stabilise", "deflicker", "deflicker_window", "deflicker_strength"} <= _inputs(
        page.text
    )
    assert 'id="stabilise-note"' not in page.text
    folder = export_folder(runtime)
    form = _form(folder, stabilise="on", deflicker="on", deflicker_window="7",
                 deflicker_strength="0.5")  # fmt: skip
    assert post("/videos", form).status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "done", job.error
    assert job.steps == ("select", "deflicker", "stabilise", "encode")
    manifest = json.loads(Path(job.result["manifest"]).read_text())
    options = manifest["options"]
    assert options["stabilise"] is True and options["deflicker"] is True
    assert (options["deflicker_window"], options["deflicker_strength"]) == (7, 0.5)
    assert "vidstabtransform" in " ".join(manifest["command"])
    assert manifest["deflicker"]["frames"] == 5  # each frame got its gain
    assert "<dt>Stabilised</dt>" in client.get(f"/videos/{job.id}").text


def test_a_plain_render_from_the_form_has_neither(client, post, runtime) -> None:
    folder = export_folder(runtime, 3)
    assert post("/videos", _form(folder)).status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "done", job.error
    assert job.steps == ("select", "encode")
    manifest = json.loads(Path(job.result["manifest"]).read_text())
    assert manifest["options"]["stabilise"] is False and manifest["options"]["deflicker"] is False
    assert manifest["stabilise_command"] is None and manifest["deflicker"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("deflicker_window", "2", "outside 3-1001"), ("deflicker_strength", "1.5", "outside 0-1")],
)
def test_bad_deflicker_settings_name_their_field(client, post, runtime, field, value, message):  # type: ignore[no-untyped-def]
    folder = export_folder(runtime, 2)
    response = post("/videos", _form(folder, deflicker="on", **{field: value}))
    assert response.status_code == 422
    assert message in response.context["errors"][field]
    assert runtime.jobs.list(1, kind="render") == []


@pytest.mark.parametrize("config_path", ["lean"], indirect=True)
def test_without_vidstab_the_field_is_hidden_with_the_reason_and_refused(
    client, post, runtime
) -> None:
    page = client.get("/videos")
    why = page.context["stabilise_why_not"]
    assert why is not None and "lacks vidstabdetect and vidstabtransform" in why
    assert "stabilise" not in _inputs(page.text)
    assert 'id="stabilise-note"' in page.text and "--enable-libvidstab" in page.text
    assert "deflicker" in _inputs(page.text)  # deflicker needs no special build
    folder = export_folder(runtime, 2)
    response = post("/videos", _form(folder, stabilise="on"))
    assert response.status_code == 422
    assert "stabilising is not available" in response.context["errors"]["stabilise"]
    assert "stabilising is not available" in response.text
    assert runtime.jobs.list(1, kind="render") == []


def _api(client, csrf):  # type: ignore[no-untyped-def]
    def send(body: object):  # type: ignore[no-untyped-def]
        return client.post("/api/renders", json=body, headers={"X-CSRF-Token": csrf})

    return send


def test_the_api_renders_with_deflicker_and_stabilise(client, csrf, runtime) -> None:
    if find_ffmpeg().stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {find_ffmpeg().stabilise_support()}")
    folder = export_folder(runtime, 4)
    started = _api(client, csrf)(
        {"export_dir": str(folder), "fps": 4, "deflicker": True, "deflicker_window": 5,
         "stabilise": True}
    )  # fmt: skip
    assert started.status_code == 202, started.text
    job = wait_job(runtime, started.json()["job_id"])
    assert job.state == "done", job.error
    assert job.steps == ("select", "deflicker", "stabilise", "encode")
    options = json.loads(Path(job.result["manifest"]).read_text())["options"]
    assert options["deflicker_window"] == 5 and options["stabilise"] is True


@pytest.mark.parametrize("config_path", ["lean"], indirect=True)
def test_the_api_refuses_stabilise_without_vidstab(client, csrf, runtime) -> None:
    folder = export_folder(runtime, 2)
    refused = _api(client, csrf)({"export_dir": str(folder), "stabilise": True})
    assert refused.status_code == 422
    [detail] = refused.json()["detail"]
    assert detail["field"] == "stabilise" and "lacks vidstabdetect" in detail["message"]
    bad = _api(client, csrf)({"export_dir": str(folder), "deflicker_window": 1})
    assert bad.status_code == 422
    assert runtime.jobs.list(1, kind="render") == []


def test_the_video_page_says_what_was_done(client, post, runtime) -> None:
    folder = export_folder(runtime, 4)
    assert post("/videos", _form(folder, deflicker="on")).status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "done", job.error
    page = client.get(f"/videos/{job.id}")
    assert "<dt>Deflicker</dt>" in page.text and "of 4 frames evened out" in page.text
    assert "<dt>Stabilised</dt>" not in page.text


@pytest.fixture
def dead_demo(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The demo camera's frames of 10 March 2026: a frozen run and blank frames among live ones
    (tests.pylapse.dead_sequence), scanned and scored; the render form's fields selecting them."""
    from datetime import UTC, datetime, timedelta

    from pylapse.tasks.metrics import fill_metrics
    from tests.pylapse.dead_sequence import write_dead_sequence

    folder = runtime.config.resolve(runtime.config.cameras["demo"].output_dir)
    write_dead_sequence(folder, datetime(2026, 3, 10, 6, tzinfo=UTC), timedelta(minutes=10),
                        prefix="demo-")  # fmt: skip
    runtime.index.scan("demo", folder, UTC)
    fill_metrics(runtime.index, "demo")
    return {"source": "collection", "collection": "demo", "date_from": "2026-03-10",
            "date_to": "2026-03-10", "codec": "h264", "timing": "fps", "fps": "10"}  # fmt: skip


ALIVE = COUNT - len(FROZEN) - len(BLANK)


@BOTH_BACKENDS
def test_a_collection_render_leaves_a_dead_cameras_frames_out_unless_told(
    client, post, runtime, dead_demo
) -> None:
    """Frozen runs and blank pictures stay out of a render of a collection by default, as out of
    an export; the form's Keep a dead camera's frames puts them back."""
    assert 'name="keep_dead_frames"' in client.get("/videos").text
    frames = {}
    for name, extra in (("default", {}), ("kept", {"keep_dead_frames": "on"})):
        assert post("/videos", {**dead_demo, "name": name, **extra}).status_code == 303
        job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
        assert job.state == "done", job.error
        frames[name] = job.result["frames"]
        assert job.params.get("keep_dead_frames", False) is bool(extra)
    assert frames == {"default": ALIVE, "kept": COUNT}


@BOTH_BACKENDS
def test_the_render_form_previews_what_the_dead_camera_rule_leaves_out(
    client, runtime, dead_demo
) -> None:
    def box() -> dict[str, str | None]:
        page = client.get("/videos")
        [attrs] = [a for _t, a in HxAttrs(page.text).elements if a.get("id") == "render-preview"]
        return attrs

    # the export form's preview, fed the render form's selection fields (and its fps); with no
    # export folder yet the form is drawn for a collection, and asks for it at once
    first = box()
    assert first["hx-get"] == "/exports/preview"
    assert first["hx-include"] == "closest [data-source=collection], #render-fps"
    assert (first["hx-trigger"] or "").startswith("load, change from:closest fieldset")
    export_folder(runtime, 1)  # drawn for an export folder: asked only when the fields change
    assert "load" not in (box()["hx-trigger"] or "")
    selection = {k: dead_demo[k] for k in ("collection", "date_from", "date_to", "fps")}
    default = client.get("/exports/preview", params={**selection, "hour": "", "minute": ""})
    assert default.template.name == "partials/_selection_preview.html"
    assert default.context["summary"]["chosen"] == ALIVE  # what the render renders
    line = "7 frames from a frozen camera and 2 blank frames left out: a dead camera's frames"
    assert line in default.text and 'id="dead-left-out"' in default.text
    kept = client.get("/exports/preview", params={**selection, "keep_dead_frames": "on"})
    assert kept.context["summary"]["chosen"] == COUNT and 'id="dead-left-out"' not in kept.text


def _api_collection(client, csrf, **fields):  # type: ignore[no-untyped-def]
    body = {"collection": "demo", "date_from": "2026-03-10", "date_to": "2026-03-10", "fps": 10}
    return _api(client, csrf)({**body, **fields})


def test_the_api_renders_a_collection_without_its_dead_frames_unless_told(
    client, csrf, runtime, dead_demo
) -> None:
    frames = {}
    for kept in (False, True):
        started = _api_collection(client, csrf, **({"keep_dead_frames": True} if kept else {}))
        assert started.status_code == 202, started.text
        job = wait_job(runtime, started.json()["job_id"])
        assert job.state == "done", job.error
        frames[kept] = job.result["frames"]
        assert job.params.get("keep_dead_frames", False) is kept
    assert frames == {False: ALIVE, True: COUNT}


def test_the_api_refuses_a_bad_keep_dead_frames(client, csrf, runtime, dead_demo) -> None:
    bad = _api_collection(client, csrf, keep_dead_frames="maybe")
    assert bad.status_code == 422
    [detail] = bad.json()["detail"]
    assert detail["loc"] == ["body", "keep_dead_frames"]
    assert "valid boolean" in detail["msg"] and detail["input"] == "maybe"
    folder = export_folder(runtime, 2)  # a folder's frames are all rendered: nothing to keep
    refused = _api(client, csrf)({"export_dir": str(folder), "keep_dead_frames": True})
    assert refused.status_code == 422
    [detail] = refused.json()["detail"]
    assert detail["field"] == "keep_dead_frames" and "a collection's frames" in detail["message"]
    assert runtime.jobs.list(1, kind="render") == []
