"""A collection whose folder disappeared (deleted, renamed, a disk not mounted) while the app runs:
shown as missing everywhere, its index rows kept, and back to normal when the folder returns."""

from __future__ import annotations

from datetime import datetime, timedelta

from media_support import BERLIN, demo_frames, wait_job, write_frames
from web_support import BOTH_BACKENDS, csrf_token

pytestmark = BOTH_BACKENDS  # every test here reads the index

GONE = "is gone or not mounted"


def _imported(runtime, post, count: int = 5):  # type: ignore[no-untyped-def]
    """A collection over a folder of frames (like a USB disk of an old project), indexed."""
    folder = runtime.config.root_paths[0] / "usb" / "balcony"
    write_frames(folder, datetime(2025, 6, 1, 12, 0, tzinfo=BERLIN), count, timedelta(hours=3))
    response = post("/collections", {"name": "Balcony", "path": "usb/balcony",
                                     "timezone": "Europe/Berlin"})  # fmt: skip
    assert response.status_code == 303, response.text
    scan = next(j for j in runtime.jobs.list(10) if j.kind == "scan")
    assert wait_job(runtime, scan.id).result["total"] == count
    return folder


def test_a_folder_deleted_while_the_app_runs_shows_as_missing(client, post, runtime) -> None:
    folder = _imported(runtime, post)
    away = folder.with_name("balcony-unplugged")
    folder.rename(away)  # the disk is unplugged (or the folder renamed)

    listing = client.get("/collections")
    assert listing.status_code == 200
    row = {r.id: r for r in listing.context["collections"]}["balcony"]
    assert row.missing and GONE in row.problem and str(folder) in row.problem
    card = listing.text.split('id="coll-balcony"')[1].split("</article>")[0]
    assert "missing" in card and str(folder) in card
    assert "/api/frames/" not in card  # no broken thumbnail

    page = client.get("/collections/balcony")
    assert page.status_code == 200
    assert page.context["c"].missing
    assert page.context["frames"] == [] and not page.context.get("weeks")
    assert GONE in page.text and str(folder) in page.text
    assert "/api/frames/" not in page.text
    day = client.get("/collections/balcony/day", params={"day": "2025-06-01"})
    assert day.context["frames"] == [] and GONE in day.text
    assert GONE in client.get("/collections/balcony/summary").text

    api = {c["id"]: c for c in client.get("/api/collections").json()}
    assert api["balcony"]["status"] == "missing"
    assert GONE in api["balcony"]["problem"] and str(folder) in api["balcony"]["problem"]
    assert api["demo"]["status"] == "ok" and api["demo"]["problem"] is None
    frames = client.get("/api/collections/balcony/frames")
    assert frames.status_code == 409 and GONE in frames.json()["detail"]

    dashboard = client.get("/")
    assert [m.id for m in dashboard.context["missing_collections"]] == ["balcony"]
    assert GONE in dashboard.text and str(folder) in dashboard.text

    # a rescan refuses instead of emptying the index
    rescan = post("/collections/balcony/rescan", headers={"HX-Request": "true"})
    failed = wait_job(runtime, rescan.context["job"].id)
    assert failed.state == "failed" and "kept" in failed.error
    assert runtime.index.count("balcony") == 5

    away.rename(folder)  # plugged back in
    back = client.get("/collections/balcony")
    assert not back.context["c"].missing and back.context["c"].count == 5
    assert len(back.context["frames"]) > 0 and "/api/frames/" in back.text
    assert client.get("/api/collections/balcony/frames").json()["total"] == 5
    assert client.get("/").context["missing_collections"] == []


def test_an_empty_mount_point_is_missing_too_and_keeps_the_rows(client, runtime) -> None:
    demo_frames(runtime, count=3)
    folder = runtime.config.resolve("timelapse/demo")
    away = folder.with_name("demo-on-the-disk")
    folder.rename(away)
    folder.mkdir()  # what an unmounted disk leaves behind: its empty mount point
    page = client.get("/collections/demo")
    assert page.context["c"].missing and "empty" in page.context["c"].problem
    assert "/api/frames/" not in page.text
    headers = {"X-CSRF-Token": csrf_token(client)}
    job = client.post("/collections/demo/rescan", headers={**headers, "HX-Request": "true"})
    assert wait_job(runtime, job.context["job"].id).state == "failed"
    assert runtime.index.count("demo") == 3
    folder.rmdir()
    away.rename(folder)
    assert not client.get("/collections/demo").context["c"].missing


def test_a_missing_collection_cannot_be_exported(client, post, runtime, app) -> None:
    from pylapse.collection import Collection
    from pylapse.config.presets import ExportPreset
    from pylapse.selection.targets import SelectionError

    folder = _imported(runtime, post, count=3)
    preset = ExportPreset(collection="balcony", hour="*/3", minute=0)
    app.state.config_editor.apply(lambda config: config.exports.__setitem__("every-3h", preset))
    coll = Collection.from_config(runtime.config, "balcony", runtime.index)
    assert len(coll.select()) == 3
    folder.rename(folder.with_name("gone"))
    try:
        coll.select()
    except SelectionError as exc:
        assert GONE in str(exc) and "kept" in str(exc)
    else:  # pragma: no cover - the assertion message
        raise AssertionError("a selection of a missing folder must say the folder is missing")
    run = post("/exports/every-3h/run", headers={"HX-Request": "true"})
    job = wait_job(runtime, run.context["job"].id)
    assert job.state == "failed" and GONE in job.error
