"""Saving pictures: image + manifest written atomically; a failed save keeps the old picture."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from pylapse.pictures.kinds import PictureError
from pylapse.pictures.manifest import list_pictures, manifest_path, save_picture, thumbnail_path


def test_save_writes_the_image_its_manifest_and_a_thumbnail(tmp_path) -> None:
    image = Image.new("RGB", (900, 30), (10, 20, 30))
    saved = save_picture(image, tmp_path / "a.png", {"kind": "daystrip"}, thumbnail=True)
    with Image.open(saved.path) as back:
        assert back.size == (900, 30) and back.getpixel((5, 5)) == (10, 20, 30)
    record = json.loads(manifest_path(saved.path).read_text())
    assert record["kind"] == "daystrip" and record["width"] == 900 and record["file"] == "a.png"
    with Image.open(thumbnail_path(saved.path)) as thumb:
        assert thumb.size == (320, 11)
    assert [p.path.name for p in list_pictures(tmp_path)] == ["a.png"]
    # a listing gives the summary: the frame list is counted, not carried
    save_picture(
        image, tmp_path / "a.png", {"kind": "daystrip", "frames": [[1.0, "f"], [2.0, None]]}
    )
    (listed,) = list_pictures(tmp_path)
    assert listed.manifest["frame_count"] == 1 and "frames" not in listed.manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.png.thumb.jpg", "a.png", "a.png.json"]


def test_a_failed_save_keeps_the_earlier_picture(tmp_path) -> None:
    save_picture(Image.new("RGB", (4, 4), (1, 2, 3)), tmp_path / "a.jpg", {"kind": "keogram"})
    before = (tmp_path / "a.jpg").read_bytes()
    with pytest.raises(OSError):
        save_picture(Image.new("RGBA", (4, 4)), tmp_path / "a.jpg", {"kind": "keogram"})
    assert (tmp_path / "a.jpg").read_bytes() == before
    assert json.loads((tmp_path / "a.jpg.json").read_text())["kind"] == "keogram"
    with pytest.raises(PictureError, match="must end in one of"):
        save_picture(Image.new("RGB", (4, 4)), tmp_path / "a.gif", {})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg", "a.jpg.json"]


def test_listing_skips_foreign_json_and_missing_images(tmp_path) -> None:
    (tmp_path / "other.json").write_text('{"x": 1}')
    (tmp_path / "gone.png.json").write_text('{"pylapse_picture": 1}')
    (tmp_path / "broken.json").write_text("{")
    assert list_pictures(tmp_path) == []
    assert list_pictures(tmp_path / "none") == []
