"""Removing cameras and collections without losing frames: a removed camera's collection stays
browsable and exportable; a removed collection leaves its files unless deleting them was asked
for, after a preview of the count and size, and then only its own files go."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from media_support import BERLIN, demo_frames, wait_job, write_frames
from web_support import BOTH_BACKENDS, csrf_token

from pylapse.config.file import load_config
from pylapse.config.presets import ExportPreset


def _preset(app, name: str, collection: str) -> None:  # type: ignore[no-untyped-def]
    preset = ExportPreset(collection=collection, minute="*/20", tolerance=60)
    app.state.config_editor.apply(lambda config: config.exports.__setitem__(name, preset))


def _imported(runtime, post, count: int = 5) -> tuple[Path, list[Path]]:  # type: ignore[no-untyped-def]
    folder = runtime.config.root_paths[0] / "imports" / "balcony"
    paths = write_frames(
        folder, datetime(2025, 6, 1, 18, 0, tzinfo=BERLIN), count, timedelta(hours=2)
    )
    response = post("/collections", {"name": "Balcony", "path": "imports/balcony",
                                     "timezone": "Europe/Berlin"})  # fmt: skip
    assert response.status_code == 303, response.text
    scan = next(j for j in runtime.jobs.list(10) if j.kind == "scan")
    assert wait_job(runtime, scan.id).result["total"] == count
    return folder, paths


# -- removing a camera ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["page", "api"])
@BOTH_BACKENDS
def test_a_removed_camera_keeps_its_collection_browsable_and_exportable(
    client, post, runtime, app, config_path, how
) -> None:
    paths = demo_frames(runtime, count=6)
    _preset(app, "every-20", "demo")
    if how == "page":
        response = post("/cameras/demo/delete")
        assert response.status_code == 303
        flash = client.get(response.headers["location"])
        assert "Demo camera" in flash.text and "/collections/demo" in flash.text
    else:
        headers = {"X-CSRF-Token": csrf_token(client)}
        assert client.delete("/api/cameras/demo", headers=headers).status_code == 204
    assert "demo" not in runtime.config.cameras
    kept = runtime.config.collections["demo"]
    assert (kept.path, kept.timezone, kept.camera) == ("timelapse/demo", "Europe/Berlin", None)
    assert kept.name == "Demo camera"
    load_config(config_path)  # the saved file passes the cross-checks

    page = client.get("/collections/demo")
    assert page.status_code == 200 and page.context["c"].count == 6
    assert not page.context["c"].missing and page.context["c"].camera is None
    api = {c["id"]: c for c in client.get("/api/collections").json()}
    assert api["demo"]["count"] == 6
    run = post("/exports/every-20/run", headers={"HX-Request": "true"})
    assert run.status_code == 200, run.text
    job = wait_job(runtime, run.context["job"].id)
    assert job.state == "done", job.error
    assert job.result["written"] == 3
    assert all(p.exists() for p in paths)


@BOTH_BACKENDS
def test_a_camera_with_a_named_collection_keeps_it_with_its_frames(
    client, post, runtime, app, config_path
) -> None:
    from pylapse.config.models import CollectionConfig

    demo_frames(runtime, count=4)
    named = CollectionConfig(name="Garden", path="timelapse/demo", camera="demo",
                             timezone="Europe/Berlin")  # fmt: skip
    app.state.config_editor.apply(lambda c: c.collections.__setitem__("garden", named))
    _preset(app, "garden-noon", "garden")
    assert client.get("/collections/garden").context["c"].count == 4
    assert post("/cameras/demo/delete").status_code == 303
    saved = json.loads(config_path.read_text())
    assert "demo" not in saved["cameras"] and "demo" not in saved.get("collections", {})
    assert "camera" not in saved["collections"]["garden"]
    assert client.get("/collections/garden").context["c"].count == 4
    assert set(runtime.collections()) == {"garden"}
    assert runtime.config.exports["garden-noon"].collection == "garden"


def test_a_camera_without_frames_leaves_no_collection(client, post, runtime) -> None:
    assert post("/cameras/demo/delete").status_code == 303
    assert runtime.config.collections == {} and runtime.collections() == {}


def test_a_new_camera_cannot_take_the_id_of_a_kept_collection(client, post, runtime) -> None:
    demo_frames(runtime, count=2)
    post("/cameras/demo/delete")
    form = {"camera_id": "demo", "name": "Demo again", "type": "synthetic",
            "output_dir": "timelapse/demo2", "timezone": "Europe/Berlin"}  # fmt: skip
    response = post("/cameras/new", data=form)
    assert response.status_code == 422
    assert "collection" in response.context["errors"]["camera_id"]
    assert runtime.config.collections["demo"].camera is None


# -- removing a collection -----------------------------------------------------------------------


def test_remove_from_pylapse_only_leaves_the_files(client, post, runtime, app) -> None:
    folder, paths = _imported(runtime, post)
    _preset(app, "balcony-evening", "balcony")
    page = client.get("/collections/balcony/remove")
    assert page.status_code == 200 and page.template.name == "collection_remove.html"
    assert page.context["presets"] == ["balcony-evening"]
    assert "balcony-evening" in page.text and str(folder) in page.text
    assert page.context["preview"] is None  # no disk work unless deleting is asked for

    refused = post("/collections/balcony/remove", {"files": "keep"})
    assert refused.status_code == 422 and "balcony-evening" in refused.context["error"]
    assert "balcony" in runtime.config.collections

    done = post("/collections/balcony/remove", {"files": "keep", "remove_presets": "on"})
    assert done.status_code == 303 and done.headers["location"].startswith("/collections?")
    listing = client.get(done.headers["location"])
    assert "Balcony" in listing.text and "stay in" in listing.text
    assert "balcony" not in runtime.config.collections
    assert "balcony-evening" not in runtime.config.exports
    assert runtime.index.count("balcony") == 0
    assert all(p.exists() for p in paths)
    assert client.get("/collections/balcony").status_code == 404


@BOTH_BACKENDS
def test_remove_with_delete_previews_then_deletes_only_its_own_files(client, post, runtime) -> None:
    demo_paths = demo_frames(runtime, count=3)
    folder, paths = _imported(runtime, post)
    notes = folder / "notes.txt"
    notes.write_text("shot from the balcony")
    keep_day = paths[-1].parent
    (keep_day / "edited.psd").write_bytes(b"not a frame")
    total = sum(p.stat().st_size for p in paths)

    preview = client.get("/collections/balcony/remove", params={"delete_files": "1"})
    p = preview.context["preview"]
    assert (p.files, p.bytes, p.estimated) == (5, total, False)
    assert "5 files" in preview.text

    unconfirmed = post("/collections/balcony/remove", {"files": "delete", "expect_files": "5"})
    assert unconfirmed.status_code == 422 and unconfirmed.context["preview"].files == 5
    stale = post("/collections/balcony/remove",
                 {"files": "delete", "expect_files": "4", "confirm": "on"})  # fmt: skip
    assert stale.status_code == 422 and "5" in stale.context["error"]
    assert all(p.exists() for p in paths) and "balcony" in runtime.config.collections

    done = post("/collections/balcony/remove",
                {"files": "delete", "expect_files": "5", "confirm": "on"})  # fmt: skip
    assert done.status_code == 303
    job = next(j for j in runtime.jobs.list(5) if j.kind == "delete")
    job = wait_job(runtime, job.id)
    assert job.state == "done", job.error
    assert job.result["deleted"] == 5 and job.result["bytes"] == total
    assert not any(p.exists() for p in paths)
    assert notes.exists() and (keep_day / "edited.psd").exists()  # not frames of the index
    assert folder.is_dir() and keep_day.is_dir()
    assert [d for d in folder.iterdir() if d.is_dir()] == [keep_day]  # empty day folders went
    assert all(p.exists() for p in demo_paths) and runtime.index.count("demo") == 3
    assert runtime.index.count("balcony") == 0
    assert "balcony" not in runtime.config.collections
    card = client.get(f"/collections/jobs/{job.id}")
    assert card.status_code == 200 and "5 files deleted" in card.text


def test_a_collection_a_camera_fills_cannot_be_removed(client, post, runtime) -> None:
    paths = demo_frames(runtime, count=2)
    page = client.get("/collections/demo/remove")
    assert page.status_code == 200 and "remove the camera first" in page.text
    assert page.context["blockers"]
    refused = post("/collections/demo/remove", {"files": "keep"})
    assert refused.status_code == 422 and "camera" in refused.context["error"]
    assert runtime.index.count("demo") == 2 and all(p.exists() for p in paths)


def test_deleting_is_refused_for_a_missing_folder_but_forgetting_works(
    client, post, runtime
) -> None:
    folder, _paths = _imported(runtime, post, count=2)
    folder.rename(folder.with_name("unplugged"))
    page = client.get("/collections/balcony/remove", params={"delete_files": "1"})
    assert "gone or not mounted" in page.context["preview"].problem
    refused = post("/collections/balcony/remove",
                   {"files": "delete", "expect_files": "2", "confirm": "on"})  # fmt: skip
    assert refused.status_code == 422 and "balcony" in runtime.config.collections
    assert post("/collections/balcony/remove", {"files": "keep"}).status_code == 303
    assert runtime.index.count("balcony") == 0


@BOTH_BACKENDS
def test_the_api_previews_and_removes(client, post, runtime, app) -> None:
    _folder, paths = _imported(runtime, post, count=3)
    _preset(app, "balcony-evening", "balcony")
    headers = {"X-CSRF-Token": csrf_token(client)}
    plan = client.get("/api/collections/balcony/removal", params={"delete_files": "true"}).json()
    assert plan["presets"] == ["balcony-evening"] and plan["blockers"] == []
    assert plan["files"]["files"] == 3
    assert plan["files"]["bytes"] == sum(p.stat().st_size for p in paths)
    url = "/api/collections/balcony"
    assert client.delete(url, params={"delete_files": "true"}).status_code == 403  # no token
    presets = client.delete(url, params={"delete_files": "true", "expect_files": 3},
                            headers=headers)  # fmt: skip
    assert presets.status_code == 409 and "balcony-evening" in presets.json()["detail"]
    unconfirmed = client.delete(url, params={"delete_files": "true", "remove_presets": "true"},
                                headers=headers)  # fmt: skip
    assert unconfirmed.status_code == 422 and "expect_files" in unconfirmed.json()["detail"]
    done = client.delete(url, headers=headers, params={"delete_files": "true",
                         "remove_presets": "true", "expect_files": 3})  # fmt: skip
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["presets_removed"] == ["balcony-evening"] and body["delete_job"]
    assert wait_job(runtime, body["delete_job"]).result["deleted"] == 3
    assert not any(p.exists() for p in paths)
    assert client.delete(url, headers=headers).status_code == 404


def test_removal_posts_need_the_csrf_token(client, post, runtime) -> None:
    _imported(runtime, post, count=1)
    client.get("/")
    assert client.post("/collections/balcony/remove", data={"files": "keep"}).status_code == 403
    forged = {"files": "keep", "csrf_token": "forged"}
    assert client.post("/collections/balcony/remove", data=forged).status_code == 403
    assert "balcony" in runtime.config.collections


@BOTH_BACKENDS
def test_a_new_collection_never_shows_a_removed_ones_thumbnails(client, post, runtime) -> None:
    from media_support import jpeg

    _imported(runtime, post, count=2)
    old = runtime.index.first("balcony")
    old_thumb = client.get(f"/api/frames/{old.id}/thumb").content
    assert post("/collections/balcony/remove", {"files": "keep"}).status_code == 303
    garden = runtime.config.root_paths[0] / "imports" / "garden"
    for path in write_frames(garden, datetime(2025, 7, 1, 9, 0, tzinfo=BERLIN), 2,
                             timedelta(hours=1)):  # fmt: skip
        path.write_bytes(jpeg(230, (64, 36)))  # another picture
    assert post("/collections", {"name": "Garden", "path": "imports/garden"}).status_code == 303
    scan = next(j for j in runtime.jobs.list(10) if j.kind == "scan")
    wait_job(runtime, scan.id)
    new = runtime.index.first("garden")
    if runtime.config.index_url is None:  # PostgreSQL's identity never gives an id twice
        assert new.id == old.id  # SQLite hands out the freed row ids again: the case here
    assert client.get(f"/api/frames/{new.id}/thumb").content != old_thumb
