"""The photomosaic: tile vectors cached and refreshed incrementally (a refresh after adding and
deleting frames equals a rebuild), each cell the frame nearest in colour (solid colours make it
exact), the repeat limit, the opacity blend, and the saved picture with its manifest."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pylapse.collection import Collection
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.mosaic.photo import cell_vectors, nearest, photomosaic
from pylapse.mosaic.tilecache import refresh_vectors
from pylapse.pictures.manifest import list_pictures, thumbnail_path
from pylapse.progress import Cancelled, Progress
from pylapse.tasks.photomosaic import codebook_frames, photo_picture, photo_video, queue_photo
from tests.pylapse.mosaic.mosaic_support import decode_video, near, write_frame

START = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def palette(k: int) -> tuple[int, int, int]:
    """Twenty-odd colours far apart from each other."""
    return ((k * 97) % 256, (k * 53 + 40) % 256, (k * 181 + 90) % 256)


@pytest.fixture
def frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Collection]:
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    for k in range(20):
        write_frame(tmp_path / "c", START + timedelta(minutes=k), palette(k), "c-")
    collection = Collection("C", None, tmp_path / "c", timezone="UTC")
    yield collection
    collection.close()


def _vectors(collection: Collection, folder: Path, seen: list[Progress] | None = None):
    frames = list(collection.select().iter_frames())
    return refresh_vectors(frames, folder, collection.key, progress=seen.append if seen else None)


def test_a_refresh_after_adding_and_deleting_equals_a_rebuild(frames, tmp_path: Path) -> None:
    cache = tmp_path / "tiles"
    first = _vectors(frames, cache)
    assert len(first) == 20 and (cache / "C-4.npz").is_file()
    assert np.allclose(first.vectors[3].reshape(-1, 3), palette(3), atol=3)
    for k in (20, 21, 22):
        write_frame(tmp_path / "c", START + timedelta(minutes=k), palette(k), "c-")
    gone = sorted((tmp_path / "c").rglob("*.jpg"))[:2]
    for path in gone:
        path.unlink()
    frames.refresh()
    seen: list[Progress] = [Progress("x", 0, 0)]
    again = _vectors(frames, cache, seen)
    assert max(p.total for p in seen if p.stage == "vectors") == 3  # only the new frames
    rebuilt = _vectors(frames, tmp_path / "fresh")
    assert len(again) == 21
    assert again.ids.tolist() == rebuilt.ids.tolist()
    assert again.paths.tolist() == rebuilt.paths.tolist()
    assert np.array_equal(again.vectors, rebuilt.vectors)
    assert str(gone[0]) not in again.paths.tolist()


def test_an_unreadable_cache_is_rebuilt(frames, tmp_path: Path) -> None:
    cache = tmp_path / "tiles"
    cache.mkdir()
    (cache / "C-4.npz").write_bytes(b"not a cache")
    assert len(_vectors(frames, cache)) == 20


def _target(cells: list[int], tile: int, cols: int) -> Image.Image:
    rows = len(cells) // cols
    image = Image.new("RGB", (cols * tile, rows * tile))
    for i, k in enumerate(cells):
        r, g, b = palette(k)
        near = (min(255, r + 6), max(0, g - 5), b)  # not the exact colour: the nearest wins
        image.paste(near, ((i % cols) * tile, (i // cols) * tile, (i % cols + 1) * tile,
                           (i // cols + 1) * tile))  # fmt: skip
    return image


def test_each_cell_is_the_frame_nearest_in_colour(frames, tmp_path: Path) -> None:
    vectors = _vectors(frames, tmp_path / "tiles")
    wanted = [5, 0, 19, 7, 7, 12]
    made = photomosaic(_target(wanted, 16, 3), vectors, 16)
    assert made.grid == (2, 3) and made.image.size == (48, 32)
    by_color = {palette(k): k for k in range(20)}
    for i, k in enumerate(wanted):
        pixel = made.image.getpixel(((i % 3) * 16 + 8, (i // 3) * 16 + 8))
        nearest_k = min(by_color.values(), key=lambda j: sum(abs(a - b)
                        for a, b in zip(palette(j), pixel, strict=True)))  # fmt: skip
        assert nearest_k == k, (i, pixel)


def test_the_repeat_limit_spreads_the_choices(frames, tmp_path: Path) -> None:
    vectors = _vectors(frames, tmp_path / "tiles")
    target = _target([4] * 6, 8, 3)
    free = photomosaic(target, vectors, 8)
    assert len(set(free.choices.tolist())) == 1
    limited = photomosaic(target, vectors, 8, repeat=2)
    counts = np.bincount(limited.choices, minlength=len(vectors))
    assert counts.max() == 2 and len(set(limited.choices.tolist())) == 3
    assert free.choices[0] in limited.choices
    with pytest.raises(ValueError, match="cannot fill 6 tiles"):
        nearest(cell_vectors(target, 8, 4)[0], vectors.vectors[:2], repeat=1)


def test_nearest_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(3)
    codebook = rng.uniform(0, 255, (500, 48)).astype(np.float32)
    cells = rng.uniform(0, 255, (700, 48)).astype(np.float32)
    brute = np.argmin(((cells[:, None, :] - codebook[None, :, :]) ** 2).sum(-1), axis=1)
    assert np.array_equal(nearest(cells, codebook), brute)


def test_the_opacity_blend(frames, tmp_path: Path) -> None:
    vectors = _vectors(frames, tmp_path / "tiles")
    target = Image.new("RGB", (16, 16), (255, 255, 255))
    plain = photomosaic(target, vectors, 16)
    blended = photomosaic(target, vectors, 16, opacity=0.5)
    p, b = plain.image.getpixel((8, 8)), blended.image.getpixel((8, 8))
    assert all(abs(y - (x + 255) / 2) <= 1 for x, y in zip(p, b, strict=True))


def test_the_picture_is_saved_with_its_manifest_or_not_at_all(frames, tmp_path: Path) -> None:
    target = tmp_path / "target.png"
    _target([1, 2, 3, 4], 10, 2).save(target)
    out = tmp_path / "pictures" / "mosaic.png"
    result = photo_picture(frames, target, out, tmp_path / "tiles", tile=10, thumbnail=True)
    assert result["tiles"] == 4 and result["codebook"] == 20
    manifest = json.loads(out.with_name("mosaic.png.json").read_text())
    assert manifest["kind"] == "photomosaic" and len(manifest["frames"]) == 4
    assert [p.path for p in list_pictures(out.parent)] == [out]
    cancel = threading.Event()

    def stop(p: Progress) -> None:
        if p.stage == "tiles":
            cancel.set()

    other = tmp_path / "pictures" / "other.png"
    with pytest.raises(Cancelled):
        photo_picture(frames, target, other, tmp_path / "tiles", stop, cancel, tile=10)
    assert not other.exists() and not other.with_name("other.png.json").exists()


def test_a_photomosaic_job(frames, tmp_path: Path) -> None:
    target = tmp_path / "target.png"
    _target([1, 2, 3, 4], 10, 2).save(target)
    out = tmp_path / "job.png"
    runner = JobRunner(tmp_path / "jobs.db", workers=1, queue_size=4)
    runner.start()
    try:
        updates = runner.subscribe()
        job = queue_photo(runner, frames, target, out, tmp_path / "tiles", tile=10)
        record = runner.wait(job, timeout=60)
    finally:
        runner.shutdown()
    assert record.state is JobState.DONE, record.error
    assert record.kind == "mosaic" and record.params["kind"] == "photo"
    seen: list[str] = []
    while not updates.empty():
        step = updates.get().step
        if step and step not in seen:
            seen.append(step)
    assert seen == ["select", "vectors", "match", "tiles", "save"]
    assert out.is_file() and thumbnail_path(out).is_file()


def test_a_video_mosaic_rebuilds_every_frame_and_a_gif_is_offered(frames, tmp_path: Path) -> None:
    out = tmp_path / "warp" / "photo.mp4"
    cache = tmp_path / "tiles"
    result = photo_video(frames, "2026-03-10", "2026-03-10", out, cache, size=(160, 120),
                         tile=8, render={"fps": 10})  # fmt: skip
    video = decode_video(out)
    assert result["frames"] == len(video) == 20
    for k, frame in enumerate(video):  # a solid frame's own tiles are the nearest to it
        assert near(frame[60, 80].tolist(), palette(k)), k
    manifest = json.loads(out.with_name("photo.mp4.json").read_text())["mosaic"]
    assert manifest["kind"] == "photo-video" and manifest["tiles_used"] == 20
    gif = tmp_path / "warp" / "photo.gif"
    photo_video(frames, "2026-03-10", "2026-03-10", gif, cache, size=(80, 60), tile=8)
    with Image.open(gif) as made:
        assert made.format == "GIF" and made.n_frames == 20
    assert sorted(p.name for p in gif.parent.iterdir()) == [
        "photo.gif", "photo.gif.json", "photo.mp4", "photo.mp4.json"]  # fmt: skip


def test_the_codebook_is_bounded_and_spread_over_the_collection(frames, tmp_path: Path) -> None:
    every = list(frames.select().iter_frames())
    picked = codebook_frames(frames, 7)
    assert [f.id for f in picked] == [f.id for f in every if f.id % 3 == 0]
    assert 6 <= len(picked) <= 7
    assert codebook_frames(frames) == every
    target = tmp_path / "target.png"
    _target([1, 2, 3, 4], 10, 2).save(target)
    result = photo_picture(frames, target, tmp_path / "small.png", tmp_path / "t", tile=10,
                           codebook=5)  # fmt: skip
    assert result["codebook"] == len([f for f in every if f.id % 4 == 0])
    with pytest.raises(ValueError, match="codebook: 0"):
        codebook_frames(frames, 0)
