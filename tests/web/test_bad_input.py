"""No 500 on bad input: ids and offsets beyond SQLite's integers, paths of thousands of
characters, font and watermark files that are not fonts or lie outside the storage roots (one
answer whether or not they exist: no probing of the server's disk), JSON nested absurdly deep.
Each is refused with a 4xx that names what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from media_support import demo_frames

HUGE = str(2**63)  # one past SQLite's largest integer
NEGATIVE = str(-(2**63) - 1)
LONG = "a" * 5000
DEEP = 100_000


@pytest.mark.parametrize(
    "url",
    [
        "/api/frames/{n}", "/api/frames/{n}/image", "/api/frames/{n}/thumb", "/api/jobs/{n}",
        "/api/jobs?offset={n}", "/api/collections/demo/frames?offset={n}", "/jobs/{n}",
        "/videos/{n}", "/videos/{n}/file", "/videos/jobs/{n}", "/collections/jobs/{n}",
        "/exports/jobs/{n}", "/collections?job={n}",
    ],
)  # fmt: skip
@pytest.mark.parametrize("number", [HUGE, NEGATIVE])
def test_ids_and_offsets_beyond_the_index_are_422(client, url: str, number: str) -> None:
    response = client.get(url.format(n=number))
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"][-1] in ("frame_id", "job_id", "offset", "job")


@pytest.mark.parametrize(
    "url", ["/api/jobs/{n}/cancel", "/jobs/{n}/cancel", "/videos/{n}/delete",
            "/videos/jobs/{n}/cancel", "/exports/jobs/{n}/cancel"],
)  # fmt: skip
def test_posts_with_huge_ids_are_422(post, url: str) -> None:
    assert post(url.format(n=HUGE)).status_code == 422


def test_pages_beyond_the_last_show_the_last(client) -> None:
    for url in ("/collections/demo", "/collections/demo/day", "/videos/history",
                "/exports/history", "/dashboard/log"):  # fmt: skip
        assert client.get(url, params={"page": HUGE}).status_code == 200, url


@pytest.mark.parametrize(
    "url,form,field",
    [
        ("/collections", {"name": "x", "path": LONG}, "path"),
        ("/collections", {"name": "x", "path": "a/" * 2400}, "path"),
        ("/collections", {"name": "x", "path": "b" * 300}, "path"),  # one name over 255 bytes
        ("/videos", {"source": "export", "export_dir": LONG}, "export_dir"),
        ("/videos", {"source": "export", "export_dir": "x", "output_dir": LONG}, "output_dir"),
        ("/exports/new", {"preset_id": "p", "collection": "demo", "output_dir": LONG},
         "output_dir"),
    ],
)  # fmt: skip
def test_paths_of_thousands_of_characters_are_refused(post, url, form, field) -> None:
    response = post(url, form)
    assert response.status_code == 422, response.text[:300]
    assert field in response.context["errors"], response.context["errors"]
    assert "too long" in response.context["errors"][field] or "outside" in str(
        response.context["errors"][field]
    )


def test_long_paths_in_queries_and_path_parameters(client) -> None:
    assert client.get("/settings/browse", params={"path": LONG}).status_code == 422
    assert client.get("/settings/browse", params={"path": "a/" * 2000}).status_code == 403
    assert client.get(f"/collections/{LONG}").status_code == 404
    assert client.get(f"/api/collections/{LONG}/frames").status_code == 404
    assert client.get(f"/api/cameras/{LONG}").status_code == 404
    assert (
        client.get(
            "/exports/overlay.jpg",
            params={"collection": "demo", "font": LONG, "drawtimestamp": "on"},
        ).status_code
        == 422
    )


# -- fonts and watermarks --------------------------------------------------------------------------

STAMPED = {"collection": "demo", "drawtimestamp": "on"}


def _font_answer(client, font: str) -> tuple[int, str]:
    response = client.get("/exports/overlay.jpg", params={**STAMPED, "font": font})
    return response.status_code, response.json()["detail"].replace(font, "<font>")


def test_a_font_path_outside_the_roots_says_nothing_about_the_disk(client, runtime, tmp_path):
    demo_frames(runtime, count=1)
    there = tmp_path / "secret.ttf"
    there.write_bytes(b"not a font at all")
    answers = {_font_answer(client, font) for font in (
        "/etc/passwd", "/etc/no-such-file", str(there), str(tmp_path / "gone.ttf"),
        "/etc/../etc/passwd", str(tmp_path / "timelapse" / ".." / "secret.ttf"),
    )}  # fmt: skip
    assert len(answers) == 1, answers  # one answer, whatever is or is not there
    ((status, detail),) = answers
    assert status == 422 and "must lie inside a storage root" in detail
    partial = client.get("/exports/overlay", params={**STAMPED, "font": "/etc/passwd"})
    assert "must lie inside a storage root" in partial.context["error"]


def test_a_file_in_the_roots_that_is_not_a_font_is_a_clear_422(client, runtime):
    demo_frames(runtime, count=1)
    fake = runtime.config.root_paths[0] / "fake.ttf"
    fake.write_bytes(b"\x00\x01 not a font")
    response = client.get("/exports/overlay.jpg", params={**STAMPED, "font": str(fake)})
    assert response.status_code == 422
    assert "fake.ttf" in response.json()["detail"] and "cannot be read" in response.json()["detail"]
    missing = client.get("/exports/overlay.jpg",
                         params={**STAMPED, "font": str(fake.with_name("gone.ttf"))})  # fmt: skip
    assert missing.status_code == 422 and "does not exist" in missing.json()["detail"]


def test_installed_fonts_by_name_or_file_and_the_built_in_one_work(client, runtime):
    from pylapse.imaging.fonts import DEFAULT_FONT, DEFAULT_FONT_NAME, system_fonts

    demo_frames(runtime, count=1)
    fonts = [f for f in system_fonts() if f != DEFAULT_FONT_NAME]
    for font in ["", str(DEFAULT_FONT), *fonts[:1], *(str(system_fonts()[f]) for f in fonts[:1])]:
        response = client.get("/exports/overlay.jpg", params={**STAMPED, "font": font})
        assert response.status_code == 200, (font, response.text)


def test_saving_a_preset_with_a_font_outside_the_roots_is_refused(post, runtime) -> None:
    form = {"preset_id": "p", "collection": "demo", "drawtimestamp": "on", "font": "/etc/passwd"}
    response = post("/exports/new", form)
    assert response.status_code == 422
    assert "must lie inside a storage root" in response.context["errors"]["font"]
    assert "p" not in runtime.config.exports


@pytest.mark.parametrize("image", ["/etc/passwd", "/etc/no-such-file.png"])
def test_a_watermark_outside_the_roots_is_refused_alike(post, runtime, config_path, image) -> None:
    demo_frames(runtime, count=1)
    raw = json.loads(config_path.read_text())
    raw["exports"] = {"marked": {"collection": "demo", "watermark_image": image}}  # by hand
    config_path.write_text(json.dumps(raw))
    response = post("/exports/marked/run")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"watermark_image: {image!r}: a watermark image must lie inside a storage root "
        f"({runtime.config.root_paths[0]})"
    )


def test_a_watermark_that_is_not_an_image_is_a_clear_422(post, runtime, config_path) -> None:
    demo_frames(runtime, count=1)
    fake = runtime.config.root_paths[0] / "mark.png"
    fake.write_text("not a picture")
    raw = json.loads(config_path.read_text())
    raw["exports"] = {"marked": {"collection": "demo", "watermark_image": str(fake)}}
    config_path.write_text(json.dumps(raw))
    response = post("/exports/marked/run")
    assert response.status_code == 422 and "not a readable image" in response.json()["detail"]


# -- deep JSON -------------------------------------------------------------------------------------


def test_a_camera_nested_absurdly_deep_is_refused(client, csrf) -> None:
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    deep = "[" * DEEP + "]" * DEEP
    assert client.put("/api/cameras/x", content=deep, headers=headers).status_code == 400
    # deep enough to recurse later, shallow enough for the JSON parser
    body = {"name": "x", "type": "synthetic", "output_dir": "timelapse/x", "_note": []}
    nested = json.dumps(body).replace("[]", "[" * 900 + "]" * 900)
    response = client.put("/api/cameras/x", content=nested, headers=headers)
    assert response.status_code == 422
    assert "nested more than 64 levels deep" in response.json()["detail"][0]["message"]


@pytest.mark.parametrize("depth", [DEEP, 900])
def test_a_config_file_nested_deep_is_reported_not_a_500(client, post, config_path: Path, depth):
    text = config_path.read_text()
    if depth == DEEP:
        config_path.write_text("[" * depth + "]" * depth)
    else:  # a comment the JSON parser accepts, nested deep enough to break copying and saving
        config_path.write_text(text[:-2] + ',"_deep": ' + "[" * depth + "]" * depth + "}")
    saved = post("/settings", {"max_retries": "3"})
    assert saved.status_code == 422
    assert "not saved" in saved.text.lower() or "nested" in saved.text
    assert client.get("/settings").status_code == 200
    reloaded = post("/settings/reload")
    assert "nested" in reloaded.text


# -- other form values a page turns into work --------------------------------------------------


@pytest.mark.parametrize(
    "query,image",
    [
        ({"width": "1000000000", "height": "1000000000", "resize_mode": "exact"}, 422),
        ({"width": "16384", "height": "16384", "resize_mode": "exact"}, 200),  # drawn smaller
        ({"drawtimestamp": "on", "display_timezone": LONG}, 422),
        ({"date_from": "0001-01-01"}, 200),  # the overlay does not select; the preview says
        ({"date_to": "9999-12-31"}, 200),
    ],
)
def test_export_previews_refuse_what_they_cannot_draw(client, runtime, query, image) -> None:
    demo_frames(runtime, count=1)
    params = {"collection": "demo", **query}
    assert client.get("/exports/overlay.jpg", params=params).status_code == image
    overlay = client.get("/exports/overlay", params=params)
    assert overlay.status_code == 200 and bool(overlay.context["error"]) == (image == 422)
    preview = client.get("/exports/preview", params=params)
    assert preview.status_code == 200
    if image == 422 or "date_from" in query or "date_to" in query:
        assert preview.context["error"], preview.text[:300]


@pytest.mark.parametrize("dates", [{"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}])
def test_a_render_from_the_first_or_last_calendar_day_is_a_field_error(post, runtime, dates):
    demo_frames(runtime, count=2)
    form = {"source": "collection", "collection": "demo", "codec": "h264", "timing": "fps",
            "fps": "5", "name": "clip", **dates}  # fmt: skip
    response = post("/videos", form)
    assert response.status_code == 422
    assert "years 1-9999" in response.context["errors"]["selection"]
