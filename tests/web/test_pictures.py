"""Pictures page: the form starts a picture job, the made picture is listed with its thumbnail
and served by name from the pictures folder only; bad forms and requests without CSRF are
refused."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO

from media_support import HxAttrs, demo_frames, wait_job
from PIL import Image
from web_support import BOTH_BACKENDS

from pylapse.pictures.frames import decode_reduced

pytestmark = BOTH_BACKENDS  # every test here reads the index


def test_a_daystrip_made_from_the_page_is_listed_and_served(client, post, runtime) -> None:
    paths = demo_frames(runtime, count=12, step=timedelta(minutes=10))  # 09:00-10:50 Berlin
    page = client.get("/pictures")
    assert page.status_code == 200 and page.template.name == "pictures.html"
    assert ("pictures", "Pictures", "/pictures") in page.context["nav"]
    assert "demo" in page.context["collections"] and page.context["pictures"] == []
    assert any(a.get("hx-post") == "/pictures" for a in HxAttrs(page.text).with_attr("hx-post"))
    started = post("/pictures", {"kind": "daystrip", "collection": "demo", "date": "2026-03-10",
                                 "slot_width": "600", "scale": "2"},
                   headers={"HX-Request": "true"})  # fmt: skip
    assert started.status_code == 200
    assert started.template.name == "partials/_media_job.html"
    job = wait_job(runtime, started.context["job"].id)
    assert job.state == "done", job.error
    assert job.kind == "picture" and job.result["height"] == 144  # the day's 10-minute slots
    listed = client.get("/pictures/list")
    (picture,) = listed.context["pictures"]
    name = picture.path.name
    assert name == "demo-daystrip-2026-03-10.png"
    assert picture.path.parent == runtime.config.root_paths[0] / "pictures"
    full = client.get(f"/pictures/file/{name}")
    assert full.status_code == 200 and full.headers["content-type"] == "image/png"
    strip = Image.open(BytesIO(full.content))
    first = decode_reduced(paths[0], 2)  # 09:00 in the day of Berlin: slot 54
    assert strip.size == (first.width, 144)
    assert strip.crop((0, 53, first.width, 54)).tobytes() == bytes(3 * first.width)  # a gap
    assert (
        strip.crop((0, 54, first.width, 55)).tobytes()
        == first.crop((0, first.height // 2, first.width, first.height // 2 + 1)).tobytes()
    )
    thumb = client.get(f"/pictures/file/{name}?thumb=1")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    manifest = json.loads((picture.path.parent / f"{name}.json").read_text())
    assert manifest["collection"] == "demo" and len(manifest["frames"]) == 144
    assert f'src="/pictures/file/{name}?thumb=1"' in client.get("/pictures").text


def test_only_listed_pictures_are_served(client, runtime) -> None:
    folder = runtime.config.root_paths[0] / "pictures"
    folder.mkdir(parents=True)
    (folder / "loose.png").write_bytes(b"not listed: no manifest")
    for name in ("loose.png", "..%2Fcapture_config.json", "%2Fetc%2Fpasswd", "x.png.json"):
        assert client.get(f"/pictures/file/{name}").status_code == 404, name


def test_bad_forms_are_refused_naming_the_field(client, post, csrf) -> None:
    bad = post("/pictures", {"kind": "daystrip", "collection": "demo", "date": "10/03/2026"})
    assert bad.status_code == 422 and "is not a date" in bad.context["errors"]["date"]
    bad = post("/pictures", {"kind": "mosaic", "collection": "demo", "date": "2026-03-10"})
    assert bad.status_code == 422 and "kind" in bad.context["errors"]
    bad = post("/pictures", {"kind": "colormap", "collection": "demo", "date_from": "2026-03-10"})
    assert bad.status_code == 422 and "last day" in bad.context["errors"]["date_to"]
    bad = post("/pictures", {"kind": "keogram", "collection": "nope", "date": "2026-03-10"})
    assert bad.status_code == 422 and "nope" in bad.context["errors"]["collection"]
    bad = post("/pictures", {"kind": "daystrip", "collection": "demo", "date": "2026-03-10",
                             "scale": "3"}, headers={"HX-Request": "true"})  # fmt: skip
    assert bad.status_code == 422 and bad.headers["HX-Retarget"] == "#picture-form"
    assert "scale: 3" in bad.context["errors"]["form"]
    no_token = client.post("/pictures", data={"kind": "daystrip", "collection": "demo",
                                              "date": "2026-03-10"})  # fmt: skip
    assert no_token.status_code == 403
