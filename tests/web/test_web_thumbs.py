"""Frame thumbnails: made once, cached by frame id + mtime + size, small, errors explained."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from pylapse.index.store import FrameIndex
from web import thumbs


@pytest.fixture
def index(tmp_path: Path):
    with FrameIndex(tmp_path / "pylapse.db") as idx:
        yield idx


def _frame(index: FrameIndex, folder: Path, size=(1920, 1080)):  # type: ignore[no-untyped-def]
    path = folder / "frame.jpg"
    Image.new("RGB", size, (200, 120, 40)).save(path, "JPEG", quality=90)
    stat = path.stat()
    when = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    frame_id = index.add_frame("cam", path, when, size=stat.st_size, mtime=stat.st_mtime)
    return index.get(frame_id)


def test_a_thumbnail_is_made_once_and_reused(index, tmp_path: Path) -> None:
    frame = _frame(index, tmp_path)
    cache = tmp_path / "thumbs"
    first = thumbs.thumbnail(cache, frame, roots=[tmp_path])
    assert first.parent == cache / f"{frame.id // 1000:05d}"
    assert first.name.startswith(f"{frame.id}-")
    with Image.open(first) as image:
        assert image.size == (400, 225)
    stamp = first.stat().st_mtime_ns
    assert thumbs.thumbnail(cache, frame, roots=[tmp_path]) == first
    assert first.stat().st_mtime_ns == stamp


def test_a_replaced_frame_gets_a_new_thumbnail(index, tmp_path: Path) -> None:
    frame = _frame(index, tmp_path)
    cache = tmp_path / "thumbs"
    old = thumbs.thumbnail(cache, frame, roots=[tmp_path])
    replaced = _frame(index, tmp_path, size=(640, 480))  # re-added: same id, new file
    assert replaced.id == frame.id
    new = thumbs.thumbnail(cache, replaced, roots=[tmp_path])
    assert new != old
    with Image.open(new) as image:
        assert image.size == (400, 300)


def test_a_missing_or_broken_frame_is_explained(index, tmp_path: Path) -> None:
    frame = _frame(index, tmp_path)
    frame.path.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(thumbs.ThumbnailError, match="cannot make a thumbnail"):
        thumbs.thumbnail(tmp_path / "thumbs", frame, roots=[tmp_path])
    frame.path.unlink()
    with pytest.raises(thumbs.ThumbnailError):
        thumbs.thumbnail(tmp_path / "thumbs", frame, roots=[tmp_path])


def test_thumbnail_from_bytes() -> None:
    buffer = BytesIO()
    Image.new("RGB", (100, 50)).save(buffer, "PNG")
    data = thumbs.make_thumbnail(BytesIO(buffer.getvalue()))
    assert data[:3] == b"\xff\xd8\xff"


def test_the_cache_stays_within_its_budget(index, tmp_path: Path) -> None:
    """Opening a new bucket (a thousand ids) drops the least recently filled ones."""
    source = tmp_path / "frames"
    source.mkdir()
    frame = _frame(index, source)
    cache = tmp_path / "thumbs"
    first = thumbs.thumbnail(cache, frame, roots=[tmp_path])  # bucket 00000
    os.utime(first.parent, (1, 1))  # filled long ago
    later = replace(frame, id=frame.id + 1000)  # the same picture, in bucket 00001
    second = thumbs.thumbnail(cache, later, budget=first.stat().st_size, roots=[tmp_path])
    assert second.is_file()
    assert not first.parent.exists()  # over budget: the older bucket went
    third = thumbs.thumbnail(
        cache, replace(frame, id=frame.id + 2000), budget=10**9, roots=[tmp_path]
    )
    assert second.is_file() and third.is_file()  # within budget: nothing removed


@pytest.mark.parametrize(
    ("orientation", "upright"), [(1, (400, 200)), (6, (400, 800)), (8, (400, 800)), (3, (400, 200))]
)
def test_thumbnails_are_upright_as_exif_orientation_says(tmp_path, orientation, upright) -> None:
    # the pixels are stored 800x400 with the left half red; the camera says how to turn them
    pixels = Image.new("RGB", (800, 400), (0, 0, 255))
    pixels.paste((255, 0, 0), (0, 0, 400, 400))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.jpg"
    pixels.save(path, "JPEG", quality=95, exif=exif)
    with Image.open(BytesIO(thumbs.make_thumbnail(path))) as image:
        assert image.size == upright
        red_corner = {1: (0, 0), 6: (0, 0), 8: (0, image.height - 1), 3: (image.width - 1, 0)}
        r, g, b = image.convert("RGB").getpixel(red_corner[orientation])
        assert r > 200 and b < 60, (orientation, (r, g, b))


@pytest.mark.parametrize(
    ("name", "size"),
    [("iphone11pro_offset-0400.heic", (400, 533)), ("nikon_z9_offset+0300.dng", (400, 265))],
)
def test_heic_and_dng_frames_get_thumbnails(name: str, size: tuple[int, int]) -> None:
    from tests.conftest import shared_testdata

    path = shared_testdata("exif-real") / name
    data = thumbs.make_thumbnail(path, width=400)
    with Image.open(BytesIO(data)) as image:
        # the phone's portrait frame upright; the DNG from its 640 px preview, not the
        # 256 px thumbnail Pillow opens by itself (which would come out at 256 wide)
        assert image.format == "JPEG" and image.size == size
    with path.open("rb") as handle:  # as the server reads it, through an open handle
        assert thumbs.make_thumbnail(handle, width=400) == data
