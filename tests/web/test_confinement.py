"""Files the dashboard sends (frames, thumbnails, the overlay preview, videos) must lie inside the
storage roots at the moment they are sent: a frame replaced by a symlink out of the roots after
it was indexed is refused, whether or not the link's target exists, and what was checked is
what is sent. Rescans do not index links out of the roots and say so."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from media_support import BERLIN, demo_frames, jpeg, wait_job, write_frames
from web_support import TestClient

from web import files, render_form
from web.routes import api as api_routes
from web.routes import videos as video_routes

SECRET = b"root:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the storage root with a secret and a picture that are not the user's."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "passwd").write_bytes(SECRET)
    (folder / "private.jpg").write_bytes(jpeg(200, (80, 60)))
    return folder


def swap_for_link(path: Path, target: Path) -> None:
    path.unlink()
    path.symlink_to(target)


def first_frame(runtime: Any) -> Any:
    return runtime.index.frames("demo")[0]


def send(response: Any, headers: dict[str, str] | None = None) -> Any:
    """Send an already built response through a bare ASGI app (the moment of sending)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await response(scope, receive, send)

    return TestClient(app).get("/", headers=headers)  # no lifespan: the app is one response


@pytest.mark.parametrize("target", ["passwd", "private.jpg", "missing.jpg"])
def test_a_frame_swapped_for_a_link_out_of_the_roots_is_refused(client, runtime, outside, target):
    demo_frames(runtime, count=2)
    frame = first_frame(runtime)
    assert client.get(f"/api/frames/{frame.id}/image").status_code == 200
    swap_for_link(frame.path, outside / target)
    for what in ("image", "thumb"):
        response = client.get(f"/api/frames/{frame.id}/{what}")
        # the same answer whether or not the target exists: no probing of the rest of the disk
        assert response.status_code == 403, (what, response.text)
        assert "inside the storage roots" in response.json()["detail"]
        assert SECRET not in response.content


def test_a_cached_thumbnail_is_refused_once_its_frame_points_out(client, runtime, outside):
    demo_frames(runtime, count=1)
    frame = first_frame(runtime)
    assert client.get(f"/api/frames/{frame.id}/thumb").status_code == 200  # now cached
    swap_for_link(frame.path, outside / "private.jpg")
    assert client.get(f"/api/frames/{frame.id}/thumb").status_code == 403


def test_a_day_folder_swapped_for_a_link_out_is_refused(client, runtime, outside):
    demo_frames(runtime, count=1)
    frame = first_frame(runtime)
    day = frame.path.parent
    moved = outside / "day"
    shutil.move(day, moved)
    day.symlink_to(moved)  # the same file name, now outside the roots
    assert client.get(f"/api/frames/{frame.id}/image").status_code == 403


def test_links_inside_the_roots_are_served(client, runtime, tmp_path):
    frames = demo_frames(runtime, count=2)
    elsewhere = runtime.config.root_paths[0] / "elsewhere.jpg"  # inside the storage root
    elsewhere.write_bytes(jpeg(90))
    swap_for_link(frames[0], elsewhere)
    frame = first_frame(runtime)
    image = client.get(f"/api/frames/{frame.id}/image")
    assert image.status_code == 200 and image.content == elsewhere.read_bytes()
    assert client.get(f"/api/frames/{frame.id}/thumb").status_code == 200


def test_what_was_checked_is_what_is_sent(runtime, outside):
    """A frame swapped between the check and the sending: the checked file goes out."""
    demo_frames(runtime, count=1)
    frame = first_frame(runtime)
    original = frame.path.read_bytes()
    response = api_routes.frame_image(frame.id, runtime)  # checked and opened here
    swap_for_link(frame.path, outside / "passwd")
    sent = send(response)
    assert sent.status_code == 200 and sent.content == original


def test_ranges_are_sent_from_the_open_file(runtime, tmp_path):
    path = runtime.config.root_paths[0] / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    handle = files.open_or_http_error(path, runtime.config.root_paths, "test")
    response = files.OpenFileResponse(handle, path, media_type="application/octet-stream")
    part = send(response, {"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == bytes(range(10, 20))
    assert handle.closed


def test_the_overlay_preview_reads_only_inside_the_roots(client, runtime, outside):
    demo_frames(runtime, count=1)
    frame = runtime.index.last("demo")
    swap_for_link(frame.path, outside / "private.jpg")
    response = client.get("/exports/overlay.jpg", params={"collection": "demo"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.slow
def test_a_video_swapped_while_it_is_sent_goes_out_as_checked(client, post, runtime, tmp_path):
    folder = runtime.config.root_paths[0] / "exports" / "demo" / "day"
    paths = write_frames(folder, datetime(2026, 3, 10, 9, tzinfo=BERLIN), 3, timedelta(minutes=1))
    for n, path in enumerate(paths, 1):
        path.rename(folder / f"{n:06d}.jpg")
    form = {"source": "export", "export_dir": str(folder), "codec": "h264", "timing": "fps",
            "fps": "5", "name": "clip", "pattern": "*.jpg"}  # fmt: skip
    assert post("/videos", form).status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="render")[0].id)
    assert job.state == "done", job.error
    video = Path(job.result["output"])
    original = video.read_bytes()
    other = tmp_path / "other.mp4"
    other.write_bytes(b"\0" * len(original))
    response = video_routes.video_download(job.id, runtime)  # checked and opened here
    swap_for_link(video, other)
    sent = send(response)
    assert sent.status_code == 200 and sent.content == original
    # asked again now, it is refused: the path leads out of the roots
    assert client.get(f"/videos/{job.id}/file").status_code == 404


def test_a_rescan_job_reports_links_out_of_the_roots(client, post, runtime, outside):
    demo_frames(runtime, count=2)
    frame = first_frame(runtime)
    link = frame.path.with_name("cam-2026-03-10T10-00-00+01.00.jpg")
    link.symlink_to(outside / "passwd")
    (frame.path.parent / "more").symlink_to(outside)
    response = post("/collections/demo/rescan")
    assert response.status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="scan")[0].id)
    assert job.state == "done", job.error
    assert job.result["links_outside"] == 2 and str(link) in job.result["outside_paths"]
    assert "pointing outside the storage roots not indexed" in job.result["problems"][0]
    assert link.name not in {f.name for f in runtime.index.frames("demo")}
    card = client.get(f"/collections/jobs/{job.id}")
    assert "pointing outside the storage roots" in card.text


def test_only_regular_files_are_sent(runtime):
    fifo = runtime.config.root_paths[0] / "pipe.jpg"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(HTTPException) as caught:
        files.open_or_http_error(fifo, runtime.config.root_paths, "pipe")
    assert caught.value.status_code == 404


@pytest.mark.parametrize("link", ["on", ""])  # frames linked into the export, or re-encoded
def test_an_export_skips_a_frame_swapped_for_a_link_out(post, runtime, outside, link):
    frames = demo_frames(runtime, count=3)
    form = {"preset_id": "all", "collection": "demo", "ext": "jpg", "quality": "90", "link": link,
            "width": "" if link else "32"}  # fmt: skip
    assert post("/exports/new", form).status_code == 303
    swap_for_link(frames[0], outside / "private.jpg")
    assert post("/exports/all/run").status_code == 303
    job = wait_job(runtime, runtime.jobs.list(1, kind="export")[0].id)
    assert job.state == "done", job.error
    assert job.result["written"] == 2 and job.result["skipped"] == 1
    (skip,) = job.result["skipped_frames"]
    assert skip["path"] == str(frames[0]) and "not inside the storage roots" in skip["reason"]
    exported = sorted(Path(job.result["output_dir"]).glob("*.jpg"))
    assert all(p.read_bytes() != (outside / "private.jpg").read_bytes() for p in exported)


def test_a_render_of_an_export_folder_leaves_links_out_of_the_roots_out(runtime, outside):
    folder = runtime.config.root_paths[0] / "exports" / "demo"
    folder.mkdir(parents=True)
    (folder / "000001.jpg").write_bytes(jpeg(10))
    (folder / "000002.jpg").symlink_to(outside / "private.jpg")
    plan = render_form.plan_render(runtime, {"source": "export", "export_dir": str(folder),
                                              "name": "clip", "pattern": "*.jpg"})  # fmt: skip
    assert [Path(f.path).name for f in plan["frames"]()] == ["000001.jpg"]


def test_a_camera_folder_outside_the_roots_set_by_hand_is_served(client, runtime, config_path):
    # the dashboard only sets folders inside the roots; the config file's owner may choose others
    tmp_path = config_path.parent
    raw = json.loads(config_path.read_text())
    far = tmp_path / "far"
    raw["cameras"]["far"] = {**raw["cameras"]["demo"], "name": "Far", "output_dir": str(far)}
    config_path.write_text(json.dumps(raw))
    assert "far" in runtime.config.cameras  # the hand edit is picked up
    write_frames(far, datetime(2026, 3, 10, 9, tzinfo=BERLIN), 1, timedelta(minutes=1))
    runtime.index.scan("far", far, BERLIN)
    (frame,) = runtime.index.frames("far")
    assert client.get(f"/api/frames/{frame.id}/image").status_code == 200
    assert client.get(f"/api/frames/{frame.id}/thumb").status_code == 200
    (tmp_path / "outside.jpg").write_bytes(jpeg(1))
    swap_for_link(frame.path, tmp_path / "outside.jpg")  # out of its folder and the roots
    assert client.get(f"/api/frames/{frame.id}/image").status_code == 403


def test_a_render_of_a_collection_leaves_a_frame_swapped_for_a_link_out(post, runtime, outside):
    frames = demo_frames(runtime, count=4)
    swap_for_link(frames[1], outside / "private.jpg")  # after it was indexed
    response = post("/videos", {"source": "collection", "collection": "demo", "codec": "h264",
                                "timing": "fps", "fps": "5", "name": "all"},
                    headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 200, response.text
    job = wait_job(runtime, response.context["started_job"].id)
    assert job.state == "done", job.error
    assert job.result["frames"] == 3 and job.result["skipped"] == 1
    ((path, reason),) = job.result["skipped_frames"]
    assert path == str(frames[1]) and "inside the storage roots" in reason
