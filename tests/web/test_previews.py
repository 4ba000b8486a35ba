"""The preview size the day player loads: ``GET /api/frames/{id}/thumb?size=preview``."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from PIL import Image
from web_support import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS  # every test here reads the index


def _big_frame(runtime, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    folder = tmp_path / "timelapse" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "big.jpg"
    Image.new("RGB", (3000, 2000), (30, 140, 200)).save(path, "JPEG", quality=90)
    stat = path.stat()
    when = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    return runtime.index.add_frame("demo", path, when, size=stat.st_size, mtime=stat.st_mtime)


def test_the_preview_size_is_960_wide_and_the_thumb_400(client, runtime, tmp_path) -> None:
    frame_id = _big_frame(runtime, tmp_path)
    sizes = {}
    for params in ({}, {"size": "thumb"}, {"size": "preview"}):
        response = client.get(f"/api/frames/{frame_id}/thumb", params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        with Image.open(BytesIO(response.content)) as image:
            sizes[params.get("size", "default")] = image.size
    assert sizes == {"default": (400, 267), "thumb": (400, 267), "preview": (960, 640)}
    cached = sorted(p.name for p in (runtime.data_path / "thumbs").rglob("*.jpg"))
    assert len(cached) == 2 and any(n.endswith("-p960.jpg") for n in cached)


def test_an_unknown_size_is_a_422_naming_the_choices(client, runtime, tmp_path) -> None:
    frame_id = _big_frame(runtime, tmp_path)
    response = client.get(f"/api/frames/{frame_id}/thumb", params={"size": "huge"})
    assert response.status_code == 422
    assert "preview" in response.text and "size" in response.text


def test_a_preview_of_a_missing_frame_is_a_404(client) -> None:
    assert client.get("/api/frames/424242/thumb", params={"size": "preview"}).status_code == 404
