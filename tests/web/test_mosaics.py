"""Mosaics page: the form starts a mosaic job, the made video is listed with a player (here and
on the Videos page) and served by name from the mosaics folder only; bad forms and requests
without CSRF are refused; the Pictures page links here."""

from __future__ import annotations

import io
import json

from media_support import HxAttrs, demo_frames, wait_job
from PIL import Image
from web_support import BOTH_BACKENDS


@BOTH_BACKENDS
def test_a_grid_made_from_the_page_is_listed_and_served(client, post, runtime) -> None:
    demo_frames(runtime, count=6)  # 09:00-09:50 Berlin, one each 10 minutes
    page = client.get("/mosaics")
    assert page.status_code == 200 and page.template.name == "mosaics.html"
    assert "demo" in page.context["collections"] and page.context["mosaics"] == []
    assert any(a.get("hx-post") == "/mosaics" for a in HxAttrs(page.text).with_attr("hx-post"))
    assert 'href="/mosaics"' in client.get("/pictures").text
    started = post("/mosaics", {"kind": "grid", "collections": "demo", "date_from": "2026-03-10",
                                "date_to": "2026-03-10", "size": "128x72", "fps": "10",
                                "layout": "grid", "labels": "on"},
                   headers={"HX-Request": "true"})  # fmt: skip
    assert started.status_code == 200, started.text
    assert started.template.name == "partials/_media_job.html"
    job = wait_job(runtime, started.context["job"].id, timeout=120)
    assert job.state == "done", job.error
    assert job.kind == "mosaic" and job.result["frames"] == 6
    listed = client.get("/mosaics/list")
    ((video, manifest),) = listed.context["mosaics"]
    assert video.name == "grid-demo-2026-03-10_2026-03-10.mp4"
    assert video.parent == runtime.config.root_paths[0] / "mosaics"
    assert manifest["mosaic"]["collections"] == ["demo"]
    served = client.get(f"/mosaics/file/{video.name}")
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert served.content[4:8] == b"ftyp"
    assert f'src="/mosaics/file/{video.name}"' in client.get("/mosaics").text
    saved = json.loads(video.with_name(video.name + ".json").read_text())
    assert saved["mosaic"]["tile_frames"]["fresh"] == 6
    videos = client.get("/videos")  # the Videos page lists it too, with its player
    assert [v.name for v, _ in videos.context["mosaics"]] == [video.name]
    assert f'src="/mosaics/file/{video.name}"' in videos.text


def test_only_listed_mosaics_are_served(client, runtime) -> None:
    folder = runtime.config.root_paths[0] / "mosaics"
    folder.mkdir(parents=True)
    (folder / "loose.mp4").write_bytes(b"not listed: no manifest")
    (folder / "plain.mp4").write_bytes(b"a video, not a mosaic")
    (folder / "plain.mp4.json").write_text(json.dumps({"video": "plain.mp4"}))
    for name in ("loose.mp4", "plain.mp4", "..%2Fcapture_config.json", "x.mp4.json"):
        assert client.get(f"/mosaics/file/{name}").status_code == 404, name
    assert client.get("/videos").context["mosaics"] == []


def test_bad_forms_are_refused_naming_the_field(client, post) -> None:
    day = {"date_from": "2026-03-10", "date_to": "2026-03-10"}
    bad = post("/mosaics", {"kind": "ring", "collections": "demo", **day})
    assert bad.status_code == 422 and "kind" in bad.context["errors"]
    bad = post("/mosaics", {"kind": "grid", **day})
    assert bad.status_code == 422 and "none chosen" in bad.context["errors"]["collections"]
    bad = post("/mosaics", {"kind": "grid", "collections": "nope", **day})
    assert bad.status_code == 422 and "nope" in bad.context["errors"]["collections"]
    bad = post("/mosaics", {"kind": "grid", "collections": "demo", "date_from": "10/03/2026",
                            "date_to": "2026-03-10"})  # fmt: skip
    assert bad.status_code == 422 and "is not a date" in bad.context["errors"]["date_from"]
    bad = post("/mosaics", {"kind": "grid", "collections": "demo", "size": "big", **day})
    assert bad.status_code == 422 and "size 'big'" in bad.context["errors"]["size"]
    bad = post("/mosaics", {"kind": "sunset", "collections": "demo", "band": "9:1", **day},
               headers={"HX-Request": "true"})  # fmt: skip
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#mosaic-form"
    assert "band: '9:1'" in bad.context["errors"]["band"]
    no_token = client.post("/mosaics", data={"kind": "grid", "collections": "demo", **day})
    assert no_token.status_code == 403


def _png(color: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def test_a_photomosaic_from_an_uploaded_image(client, csrf, runtime) -> None:
    demo_frames(runtime, count=6)
    data = {"csrf_token": csrf, "collection": "demo", "tile": "8", "repeat": "", "opacity": "0"}
    started = client.post("/mosaics/photo", data=data,
                          files={"target": ("sky.png", _png((20, 80, 160)), "image/png")},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert started.status_code == 200, started.text
    job = wait_job(runtime, started.context["job"].id)
    assert job.state == "done", job.error
    assert job.params["kind"] == "photo" and job.result["tiles"] == 8 * 4
    listed = client.get("/pictures/list").context["pictures"]
    (picture,) = listed
    assert picture.manifest["kind"] == "photomosaic" and picture.path.name.startswith(
        "photomosaic-demo-"
    )
    target = picture.manifest["target"]
    assert target.startswith(str(runtime.config.data_path / "mosaic-targets"))
    made = Image.open(io.BytesIO(client.get(f"/pictures/file/{picture.path.name}").content))
    assert made.size == (64, 32)


def test_a_bad_upload_is_refused(client, csrf) -> None:
    base = {"csrf_token": csrf, "collection": "demo"}
    bad = client.post("/mosaics/photo", data=base,
                      files={"target": ("x.png", b"not an image", "image/png")})  # fmt: skip
    assert bad.status_code == 422 and "not an image" in bad.context["photo_errors"]["target"]
    bad = client.post("/mosaics/photo", data={**base, "tile": "2"},
                      files={"target": ("x.png", _png((1, 2, 3)), "image/png")})  # fmt: skip
    assert bad.status_code == 422 and "between 4 and 512" in bad.context["photo_errors"]["tile"]
    bad = client.post("/mosaics/photo", data={**base, "collection": "nope"},
                      files={"target": ("x.png", _png((1, 2, 3)), "image/png")})  # fmt: skip
    assert bad.status_code == 422 and "nope" in bad.context["photo_errors"]["collection"]
