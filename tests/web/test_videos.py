"""Videos page: render form (export folder or collection selection), render jobs, playback with
HTTP Range, download, delete with its manifest, history, and the security rules."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from media_support import (
    BERLIN,
    ENCODED_SEGMENTS,
    XSS,
    HxAttrs,
    demo_frames,
    traversal_values,
    wait_job,
    write_frames,
)
from web_support import BOTH_BACKENDS

from pylapse.video.manifest import manifest_path


def export_folder(runtime, count: int = 5) -> Path:  # type: ignore[no-untyped-def]
    """A folder of numbered frames inside the first storage root, as an export writes."""
    folder = runtime.config.root_paths[0] / "exports" / "demo" / "day"
    paths = write_frames(folder, datetime(2026, 3, 10, 9, 0, tzinfo=BERLIN), count,
                         timedelta(minutes=1))  # fmt: skip
    for n, path in enumerate(paths, 1):
        shutil.move(path, folder / f"{n:06d}.jpg")
    return folder


def render(post, **fields: str):  # type: ignore[no-untyped-def]
    form = {"source": "export", "codec": "h264", "timing": "fps", "fps": "5", "name": "clip",
            "pattern": "*.jpg", **fields}  # fmt: skip
    return post("/videos", form)


def test_page_offers_the_codecs_this_ffmpeg_has(client, runtime) -> None:
    response = client.get("/videos")
    assert response.status_code == 200
    assert response.template.name == "videos.html"
    ctx = response.context
    names = [c.name for c in ctx["codecs"]]
    assert "h264" in names and ctx["ffmpeg_error"] == ""
    assert ctx["values"]["source"] == "collection"  # no export folder yet
    assert "demo" in ctx["collections"]
    export_folder(runtime)
    again = client.get("/videos")
    assert again.context["values"]["source"] == "export"
    assert any(d.endswith("exports/demo/day") for d in again.context["export_dirs"])
    form = HxAttrs(again.text)
    assert any(a.get("hx-post") == "/videos" for a in form.with_attr("hx-post"))


def test_render_from_an_export_folder_plays_with_range_and_deletes(client, post, runtime) -> None:
    folder = export_folder(runtime, count=5)
    response = render(post, export_dir=str(folder), size="640x360")
    assert response.status_code == 303  # no htmx: back to the page
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "done", job.error
    output = Path(job.result["output"])
    assert output == (runtime.config.root_paths[0] / "videos" / "clip.mp4").resolve()
    assert job.result["frames"] == 5 and job.result["fps"] == 5.0
    assert (job.result["width"], job.result["height"]) == (640, 360)
    page = client.get(f"/videos/{job.id}")
    assert page.template.name == "video.html"
    assert page.context["path"] == output and page.context["media_type"] == "video/mp4"
    assert page.context["manifest"]["frame_count"] == 5
    (video,) = [a for t, a in HxAttrs(page.text).elements if t == "video"]
    assert video["src"] == f"/videos/{job.id}/file"
    full = client.get(f"/videos/{job.id}/file")
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.content == output.read_bytes()
    assert full.headers["accept-ranges"] == "bytes"
    part = client.get(f"/videos/{job.id}/file", headers={"Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == output.read_bytes()[4:12] and part.content[:4] == b"ftyp"
    download = client.get(f"/videos/{job.id}/file", params={"download": 1})
    assert download.headers["content-disposition"].startswith("attachment")
    history = client.get("/videos/history")
    assert history.template.name == "partials/_video_history.html"
    assert [j.id for j in history.context["jobs"]] == [job.id]
    # delete: file and manifest go, the history entry stays
    deleted = post(f"/videos/{job.id}/delete")
    assert deleted.status_code == 303
    assert not output.exists() and not manifest_path(output).exists()
    assert client.get(f"/videos/{job.id}/file").status_code == 404
    assert client.get(f"/videos/{job.id}").context["path"] is None


@BOTH_BACKENDS
def test_render_from_a_collection_selection_with_a_duration(client, post, runtime) -> None:
    demo_frames(runtime, count=8, step=timedelta(minutes=15))
    response = post("/videos", {"source": "collection", "collection": "demo", "minute": "*/30",
                                "tolerance": "60", "codec": "h264", "timing": "duration",
                                "duration": "2", "name": "half-hours"},
                    headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200
    assert response.template.name == "partials/_render_form.html"
    started = response.context["started_job"]
    swaps = HxAttrs(response.text).with_attr("hx-swap-oob")
    assert swaps and swaps[0]["hx-swap-oob"] == "afterbegin:#render-jobs"
    assert f'id="media-job-{started.id}"' in response.text
    job = wait_job(runtime, started.id)
    assert job.state == "done", job.error
    assert job.result["frames"] == 4 and job.result["fps"] == 2.0  # 4 frames in 2 s
    assert job.params["source"] == "collection" and job.params["minute"] == "*/30"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"codec": "nope"}, "codec"),
        ({"fps": "0"}, "fps"),
        ({"fps": "fast"}, "fps"),
        ({"timing": "duration", "duration": ""}, "duration"),
        ({"size": "big"}, "size"),
        ({"crf": "99"}, "crf"),
        ({"name": "../up"}, "name"),
        ({"name": "a/b"}, "name"),
        ({"pattern": "../*.jpg"}, "pattern"),
        ({"source": "collection", "collection": "nope"}, "collection"),
        ({"source": "collection", "collection": "demo", "minute": "75"}, "selection"),
    ],
)
def test_bad_values_are_named(post, runtime, fields, field) -> None:
    folder = export_folder(runtime, count=1)
    response = render(post, export_dir=str(folder), **fields)
    assert response.status_code == 422
    assert response.template.name == "videos.html"
    assert field in response.context["errors"], response.context["errors"]
    assert runtime.jobs.count(kind="render") == 0


def test_paths_outside_the_roots_are_refused(post, runtime, tmp_path) -> None:
    folder = export_folder(runtime, count=1)
    for value in traversal_values(tmp_path):
        for field in ("export_dir", "output_dir"):
            fields = {"export_dir": str(folder), field: value}
            response = render(post, **fields)
            assert response.status_code == 422, (field, value)
            assert field in response.context["errors"], (field, value)
    assert runtime.jobs.count(kind="render") == 0


def test_form_values_come_back_escaped(post) -> None:
    response = render(post, export_dir=XSS, output_dir=XSS)
    assert response.status_code == 422
    assert XSS not in response.text and "&lt;script&gt;" in response.text


@pytest.mark.parametrize("segment", ["abc", "999999", *ENCODED_SEGMENTS])
def test_unknown_or_traversing_video_id(client, post, segment) -> None:
    for url in (f"/videos/{segment}", f"/videos/{segment}/file"):
        assert client.get(url).status_code in (404, 422), url
    assert post(f"/videos/{segment}/delete").status_code in (404, 405, 422)


def test_a_job_of_another_kind_is_not_a_video(client, runtime) -> None:
    job_id = runtime.jobs.submit("export", "e", lambda p, c: {"output": "/etc/passwd"},
                                 steps=("process",), params={})  # fmt: skip
    wait_job(runtime, job_id)
    assert client.get(f"/videos/{job_id}").status_code == 404
    assert client.get(f"/videos/{job_id}/file").status_code == 404


def test_a_stored_path_outside_the_roots_is_never_served(client, post, runtime) -> None:
    job_id = runtime.jobs.submit("render", "r", lambda p, c: {"output": "/etc/passwd"},
                                 steps=("encode",), params={})  # fmt: skip
    wait_job(runtime, job_id)
    assert client.get(f"/videos/{job_id}/file").status_code == 404
    assert post(f"/videos/{job_id}/delete").status_code == 303
    assert Path("/etc/passwd").exists()


def test_posts_need_the_csrf_token(client) -> None:
    assert client.post("/videos", data={"source": "export"}).status_code == 403
    assert client.post("/videos/1/delete").status_code == 403
    assert client.post("/videos/jobs/1/cancel", headers={"X-CSRF-Token": "x"}).status_code == 403


def test_running_render_card_shows_rate_eta_and_cancel(client, post, runtime) -> None:
    import threading

    from pylapse.progress import Progress

    reported, release = threading.Event(), threading.Event()

    def encode(progress, cancel):  # type: ignore[no-untyped-def]
        progress(Progress("encode", 50, 200, rate=12.5, eta=12.0))
        reported.set()
        release.wait(10)
        return {}

    job_id = runtime.jobs.submit("render", "Render test", encode, steps=("select", "encode"),
                                 params={})  # fmt: skip
    try:
        assert reported.wait(10)
        card = client.get(f"/videos/jobs/{job_id}")
        assert card.template.name == "partials/_media_job.html"
        text = " ".join(card.text.split())
        assert "encode: 50 / 200" in text and "12.5 frames/s" in text and "12 s left" in text
        assert "62 %" in text  # select done (50 %) + a quarter of encode
        _tag, root = HxAttrs(card.text).root()
        assert root["hx-get"] == f"/videos/jobs/{job_id}"
        cancelled = post(f"/videos/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200
    finally:
        release.set()
    assert wait_job(runtime, job_id).state in ("cancelled", "done")


# --- a render never replaces a video silently; history entries point at their own file -------


def _row(html: str, job_id: int) -> str:
    start = html.index(f'<td class="mono small">{job_id}</td>')
    return html[start : html.index("</tr>", start)]


def _rendered(post, runtime, **fields: str):  # type: ignore[no-untyped-def]
    assert render(post, **fields).status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "done", job.error
    return job


def test_a_re_render_with_the_same_name_keeps_both_videos(client, post, runtime) -> None:
    folder = export_folder(runtime, count=5)
    first = _rendered(post, runtime, export_dir=str(folder))
    second = _rendered(post, runtime, export_dir=str(folder), fps="10")
    videos = runtime.config.root_paths[0].resolve() / "videos"
    assert Path(first.result["output"]) == videos / "clip.mp4"
    assert Path(second.result["output"]) == videos / "clip-2.mp4"
    assert second.params["output"] == str(videos / "clip.mp4") and not second.params["replace"]
    for job in (first, second):
        served = client.get(f"/videos/{job.id}/file")
        assert served.status_code == 200
        assert served.content == Path(job.result["output"]).read_bytes()
    history = client.get("/videos/history")
    assert history.context["files"] == {
        first.id: {"state": "ok", "by": None},
        second.id: {"state": "ok", "by": None},
    }
    for job in (first, second):
        row = _row(history.text, job.id)
        assert ">Play</a>" in row and "file-note" not in row


def test_replacing_makes_the_older_entry_say_so(client, post, runtime) -> None:
    folder = export_folder(runtime, count=5)
    first = _rendered(post, runtime, export_dir=str(folder))
    # the same frames and options: the same bytes, still another render
    second = _rendered(post, runtime, export_dir=str(folder), replace="on")
    output = Path(first.result["output"])
    assert second.result["output"] == str(output) and second.params["replace"]
    assert sorted(p.name for p in output.parent.iterdir()) == ["clip.mp4", "clip.mp4.json"]
    history = client.get("/videos/history")
    assert history.context["files"][first.id] == {"state": "replaced", "by": second.id}
    old_row = _row(history.text, first.id)
    assert ">Play</a>" not in old_row and f"the video of render #{second.id}" in old_row
    assert ">Play</a>" in _row(history.text, second.id)
    assert client.get(f"/videos/{first.id}/file").status_code == 404
    page = client.get(f"/videos/{first.id}")
    assert page.context["file_state"] == "replaced" and page.context["replaced_by"] == second.id
    assert page.context["path"] is None and "<video" not in page.text
    card = client.get(f"/videos/jobs/{first.id}")
    assert "File replaced" in card.text and ">Play</a>" not in card.text
    # deleting the old entry never deletes the newer render's file
    assert post(f"/videos/{first.id}/delete").status_code == 303
    assert output.exists() and client.get(f"/videos/{second.id}/file").status_code == 200


def test_an_entry_whose_file_is_gone_says_so(client, post, runtime) -> None:
    folder = export_folder(runtime, count=5)
    job = _rendered(post, runtime, export_dir=str(folder))
    Path(job.result["output"]).unlink()  # deleted outside pyLapse
    history = client.get("/videos/history")
    row = _row(history.text, job.id)
    assert "File missing" in row and ">Play</a>" not in row and "download" not in row
    card = client.get(f"/videos/jobs/{job.id}")
    assert "File missing" in card.text and ">Play</a>" not in card.text
    assert "Download" not in card.text
    page = client.get(f"/videos/{job.id}")
    assert page.context["file_state"] == "missing" and "File missing" in page.text
    assert client.get(f"/videos/{job.id}/file").status_code == 404


# --- one bad frame never kills a render ------------------------------------------------------


def bad_export_folder(runtime) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    """Six frames; a camera's 1x1 placeholder as the 3rd, a cut-off JPEG as the 5th."""
    from PIL import Image

    folder = export_folder(runtime, count=6)
    placeholder, cut = folder / "000003.jpg", folder / "000005.jpg"
    Image.new("RGB", (1, 1)).save(placeholder)
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])
    return folder, placeholder, cut


def test_bad_frames_are_skipped_and_listed_in_the_history(client, post, runtime) -> None:
    folder, placeholder, cut = bad_export_folder(runtime)
    job = _rendered(post, runtime, export_dir=str(folder))
    assert job.result["frames"] == 4 and job.result["skipped"] == 2
    (one, reason_one), (two, reason_two) = job.result["skipped_frames"]
    assert (one, two) == (str(placeholder.resolve()), str(cut.resolve()))
    assert reason_one.startswith("1x1, not the video's 64x36")
    assert reason_two.startswith("cut off or damaged")
    row = _row(client.get("/videos/history").text, job.id)
    assert "2 frames skipped" in row and "000003.jpg: 1x1" in row and "000005.jpg" in row
    card = client.get(f"/videos/jobs/{job.id}")
    assert "2 frames skipped" in card.text and ">Play</a>" in card.text
    assert "000003.jpg" in client.get(f"/videos/{job.id}").text


def test_with_fit_the_placeholder_is_scaled_in(client, post, runtime) -> None:
    folder, _placeholder, cut = bad_export_folder(runtime)
    job = _rendered(post, runtime, export_dir=str(folder), other_sizes="fit")
    assert job.result["frames"] == 5 and job.result["fitted"] == 1
    assert [path for path, _ in job.result["skipped_frames"]] == [str(cut.resolve())]
    response = render(post, export_dir=str(folder), other_sizes="stretch")
    assert response.status_code == 422 and "other_sizes" in response.context["errors"]


def test_the_form_offers_both_choices(client) -> None:
    page = client.get("/videos")
    form = HxAttrs(page.text)
    assert {"name": "replace", "type": "checkbox"}.items() <= next(
        a for a in form.with_attr("name") if a["name"] == "replace"
    ).items()
    options = [a["value"] for t, a in form.elements if t == "option" and a.get("value") in
               ("skip", "fit")]  # fmt: skip
    assert options == ["skip", "fit"] and page.context["values"].get("replace") is None


def test_a_video_imported_without_size_or_frame_count_shows_no_none(client, runtime) -> None:
    # pyLapse 0.2 recorded neither the size nor the frame count of its videos (issue 13 import)
    from pylapse.jobs.history import FinishedJob, add_finished

    video = runtime.config.root_paths[0] / "videos" / "old.mp4"
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    stat = video.stat()
    result = {"output": str(video), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    [job_id] = add_finished(runtime.db_path, [
        FinishedJob("render", "Render from 0.2", 1_700_000_000.0, ("select", "encode"),
                    params={"output": str(video), "imported_from": "pyLapse 0.2"},
                    result=result),
    ])  # fmt: skip
    for page in (f"/videos/{job_id}", "/videos"):
        response = client.get(page)
        assert response.status_code == 200
        assert "None" not in response.text, page
    assert "codec not recorded" in client.get(f"/videos/{job_id}").text


def test_the_speed_choice_shows_the_rate_of_its_last_render_here(client, post, runtime) -> None:
    before = client.get("/videos")
    choices = {c.speed.name: c for c in before.context["speeds"]}
    assert list(choices) == ["draft", "final"] and choices["draft"].frames_per_s is None
    assert "Fast draft" in before.text and "no render at this speed yet" in before.text
    folder = export_folder(runtime, count=5)
    job = _rendered(post, runtime, export_dir=str(folder), speed="draft", size="640x360")
    assert job.params["speed"] == "draft"
    after = client.get("/videos")
    draft = next(c for c in after.context["speeds"] if c.speed.name == "draft")
    assert draft.frames_per_s == pytest.approx(5 / job.result["elapsed"])
    assert draft.size == "640×360"
    assert f"{draft.frames_per_s:.1f} frames/s at 640×360" in after.text
    final = next(c for c in after.context["speeds"] if c.speed.name == "final")
    assert final.frames_per_s is None  # a draft's rate is never shown as the final's
    (selected,) = [a for t, a in HxAttrs(after.text).elements
                   if t == "option" and a.get("value") == "draft"]  # fmt: skip
    assert "selected" not in selected
    bad = render(post, export_dir=str(folder), speed="ludicrous")
    assert bad.status_code == 422 and "speed" in bad.context["errors"]
