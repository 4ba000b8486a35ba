"""Thumbnails and day-player previews made in the background after capture and after scans, on
real files and a real index; capture never waits for them."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from pylapse.capture.camera import on_saved
from pylapse.config.file import load_config
from pylapse.imaging import thumbs
from pylapse.imaging.thumbmaker import ThumbMaker
from pylapse.index.store import FrameIndex
from pylapse.runtime import Runtime


def _sizes(cache: Path, frame: thumbs.FrameFile) -> dict[str, tuple[int, int]]:
    made = {}
    for size in thumbs.SIZES:
        path = thumbs.thumbnail_path(cache, frame, size)
        if path.is_file():
            with Image.open(path) as image:
                made[size] = image.size
    return made


def _photo(path: Path, size=(2400, 1600), colour=(40, 120, 200)) -> Path:  # type: ignore[no-untyped-def]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, "JPEG", quality=85)
    return path


@pytest.fixture
def index(tmp_path: Path):
    with FrameIndex(tmp_path / "pylapse.db") as idx:
        yield idx


def test_a_captured_frame_gets_its_thumb_and_preview(tmp_path: Path) -> None:
    config = {
        "data_dir": "data",
        "storage_roots": ["frames"],
        "min_free_mb": 0,
        "cameras": {
            "demo": {
                "name": "Demo", "type": "synthetic", "output_dir": "frames/demo",
                "capture_width": 1920, "capture_height": 1080,
                "schedules": [{"id": "rare", "month": 1, "day": 1, "hour": 3, "minute": 17}],
            }
        },
    }  # fmt: skip
    (tmp_path / "frames").mkdir()
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(config))
    with Runtime(load_config(path), config_path=path, jobs=False) as runtime:
        result = runtime.grab_now("demo")
        assert runtime.thumbs.wait_idle(30)
        frame = runtime.index.get(result.frame_id or 0)
        assert frame is not None
        assert _sizes(runtime.data_path / "thumbs", frame) == {
            "thumb": (400, 225),
            "preview": (960, 540),
        }
        assert runtime.thumbs.made == 2 and runtime.thumbs.failed == 0


def test_frames_a_scan_indexes_get_their_pictures(index: FrameIndex, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    _photo(folder / "2026-01-01" / "cam 2026-01-01 08-00-00.jpg")
    index.scan("cam", folder, "UTC", verify=True)  # indexed before the maker started: not its
    maker = ThumbMaker(tmp_path / "thumbs", lambda: [folder], feed=index, poll_seconds=0.05)
    maker.start()
    try:
        for hour in (9, 10, 11):
            _photo(folder / "2026-01-01" / f"cam 2026-01-01 {hour:02d}-00-00.jpg")
        index.scan("cam", folder, "UTC", verify=True)
        assert maker.wait_idle(30)
        frames = index.frames("cam")
        assert len(frames) == 4
        made = {f.path.name[15:17]: _sizes(tmp_path / "thumbs", f) for f in frames}
        pictures = {"thumb": (400, 267), "preview": (960, 640)}
        assert made == {"08": {}, "09": pictures, "10": pictures, "11": pictures}
    finally:
        maker.stop()


def test_a_full_queue_never_holds_up_capture(index: FrameIndex, tmp_path: Path) -> None:
    gate = threading.Event()
    folder = tmp_path / "frames"

    def slow_roots() -> list[Path]:  # the maker is stuck on its first frame until the gate opens
        gate.wait(30)
        return [folder]

    class CaptureOnly:  # reads captured frames by id, finds no newly indexed ones
        def newest_id(self) -> int:
            return 0

        def frames_after(self, after: int, limit: int) -> list[thumbs.FrameFile]:
            return []

        def get(self, frame_id: int) -> thumbs.FrameFile | None:
            return index.get(frame_id)

    maker = ThumbMaker(
        tmp_path / "thumbs", slow_roots, feed=CaptureOnly(), capacity=2, poll_seconds=60
    )
    maker.start()
    stop_hook = on_saved(index, maker.submit)
    try:
        from pylapse.capture.camera import Camera, Grab

        camera = Camera("Cam", "http://camera.invalid/shot.jpg", output_dir=folder)
        started = time.monotonic()
        results = []
        for second in range(8):
            photo = _photo(tmp_path / "in.jpg", (640, 480), (second * 20, 90, 60))
            when = datetime(2026, 1, 1, 12, 0, second, tzinfo=UTC)
            results.append(camera.save(Grab(photo.read_bytes(), when), index))
        elapsed = time.monotonic() - started
        assert all(r.frame_id for r in results)
        assert maker.dropped >= 5  # one in hand, two queued, the rest left for on request
        assert elapsed < 5  # the gate is shut for 30 s: capture did not wait for it
        gate.set()
        assert maker.wait_idle(30)
        cache = tmp_path / "thumbs"
        with_pictures = [r for r in results if thumbs.cached(cache, index.get(r.frame_id or 0),
                                                              roots=[folder])]  # fmt: skip
        assert 1 <= len(with_pictures) <= 3
        # the others are made when asked for
        left = next(r for r in results if r not in with_pictures)
        frame = index.get(left.frame_id or 0)
        assert frame is not None
        assert thumbs.thumbnail(cache, frame, roots=[folder], size="preview").is_file()
    finally:
        stop_hook()
        gate.set()
        maker.stop()


def test_a_replaced_file_gets_new_pictures_and_a_restart_reuses_made_ones(
    index: FrameIndex, tmp_path: Path
) -> None:
    folder = tmp_path / "frames"
    cache = tmp_path / "thumbs"
    path = _photo(folder / "f.jpg", (1600, 1200), (250, 0, 0))
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    stat = path.stat()
    frame_id = index.add_frame("cam", path, when, size=stat.st_size, mtime=stat.st_mtime)
    maker = ThumbMaker(cache, lambda: [folder], feed=index, poll_seconds=60)
    maker.start()
    try:
        assert maker.submit(frame_id) and maker.wait_idle(30)
        old = index.get(frame_id)
        assert old is not None and maker.made == 2
        # the file is replaced (another picture, another size and mtime) and indexed again
        time.sleep(0.01)
        _photo(path, (800, 1200), (0, 0, 250))
        stat = path.stat()
        assert index.add_frame("cam", path, when, size=stat.st_size, mtime=stat.st_mtime) == (
            frame_id
        )
        assert maker.submit(frame_id) and maker.wait_idle(30)
        new = index.get(frame_id)
        assert new is not None and maker.made == 4
        assert _sizes(cache, new) == {"thumb": (400, 600), "preview": (800, 1200)}
        assert thumbs.thumbnail_path(cache, new) != thumbs.thumbnail_path(cache, old)
        with Image.open(thumbs.thumbnail_path(cache, new)) as image:
            assert image.getpixel((200, 300))[2] > 200  # blue: the new file, not the old
    finally:
        maker.stop()
    again = ThumbMaker(cache, lambda: [folder], feed=index, poll_seconds=60)
    again.start()
    try:
        assert again.submit(frame_id) and again.wait_idle(30)
        assert again.made == 0 and again.failed == 0  # found on disk after the "restart"
    finally:
        again.stop()


def test_a_frame_outside_the_roots_or_gone_is_left_for_on_request(
    index: FrameIndex, tmp_path: Path
) -> None:
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    kept = _photo(outside / "f.jpg")
    gone = inside / "gone.jpg"
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    ids = [index.add_frame("cam", p, when, size=1, mtime=1.0) for p in (kept, gone)]
    maker = ThumbMaker(tmp_path / "thumbs", lambda: [inside], feed=index, poll_seconds=60)
    maker.start()
    try:
        for frame_id in ids:
            assert maker.submit(frame_id)
        assert maker.wait_idle(30)
        assert maker.made == 0 and maker.failed == 2 and maker.running
        assert not (tmp_path / "thumbs").exists() or not list((tmp_path / "thumbs").rglob("*.jpg"))
    finally:
        maker.stop()


def test_an_unknown_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="huge"):
        ThumbMaker(tmp_path, lambda: [tmp_path], sizes=("thumb", "huge"))


def test_a_big_scan_gets_pictures_for_its_newest_frames_only(
    index: FrameIndex, tmp_path: Path
) -> None:
    folder = tmp_path / "frames"
    maker = ThumbMaker(
        tmp_path / "thumbs", lambda: [folder], feed=index, backlog=3, sizes=("thumb",)
    )
    maker.start()
    try:
        for hour in range(6):
            _photo(folder / f"cam 2026-01-01 {hour:02d}-00-00.jpg", (800, 600))
        index.scan("cam", folder, "UTC")
        assert maker.wait_idle(30)
        frames = sorted(index.frames("cam"), key=lambda f: f.id)
        made = [bool(_sizes(tmp_path / "thumbs", f)) for f in frames]
        assert made == [False, False, False, True, True, True]  # the rest: made on request
    finally:
        maker.stop()
