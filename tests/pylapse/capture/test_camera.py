"""Camera: grab, validate, name, EXIF, resize and save atomically, against a real HTTP camera."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import piexif
import pytest
from PIL import Image

from pylapse import storage
from pylapse.capture.camera import Camera, image_metrics
from pylapse.config.cameras import CameraConfig
from pylapse.imaging import quality
from pylapse.sources.base import GrabError
from tests.servers.camera_server import CameraServer

pytestmark = pytest.mark.network

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def server():
    with CameraServer(frame_size=(320, 240)) as cam:
        yield cam


def _camera(server, tmp_path: Path, path: str = "/shot.jpg", **fields) -> Camera:
    fields.setdefault("timezone", "Asia/Tokyo")
    cfg = CameraConfig(name="Porch", url=server.url(path), output_dir=str(tmp_path), **fields)
    return Camera("Porch", config=cfg, camera_id="porch", output_dir=tmp_path)


def _exif_time(path: Path) -> tuple[bytes, bytes]:
    exif = piexif.load(str(path))["Exif"]
    return exif[piexif.ExifIFD.DateTimeOriginal], exif[piexif.ExifIFD.OffsetTimeOriginal]


def _all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_original_api_saves_one_frame(server, tmp_path):
    webcam = Camera("Front Porch", server.url("/shot.jpg"))
    path = webcam.save_image(tmp_path, prefix="FrontPorch ")
    assert path.exists() and path.name.startswith("FrontPorch ")
    assert path.parent.parent == tmp_path  # <output>/<YYYY-MM-DD>/<name>
    assert Image.open(path).size == (320, 240)
    stamp, offset = _exif_time(path)  # the name and the EXIF carry the same wall-clock time
    day, clock = stamp.decode().split(" ")
    expected = f"FrontPorch {day.replace(':', '-')}T{clock.replace(':', '-')}"
    assert path.name.startswith(expected)
    assert path.name.endswith(offset.decode().replace(":", ".") + ".jpg")


def test_capture_names_and_stamps_the_scheduled_time(server, tmp_path):
    camera = _camera(server, tmp_path, prefix="cam-")
    when = datetime(2026, 2, 9, 14, 30, 0, tzinfo=TOKYO)
    result = camera.capture(when)
    assert result.path == tmp_path / "2026-02-09" / "cam-2026-02-09T14-30-00+09.00.jpg"
    assert result.time == when
    assert _exif_time(result.path) == (b"2026:02:09 14:30:00", b"+09:00")
    assert (result.width, result.height) == (320, 240)
    assert result.size == result.path.stat().st_size
    assert 0 < result.luma < 255
    # a UTC fire time is still named on the camera's wall clock
    utc = datetime(2026, 2, 9, 6, 0, 0, tzinfo=ZoneInfo("UTC"))
    assert camera.capture(utc).path.name == "cam-2026-02-09T15-00-00+09.00.jpg"
    assert not [p for p in _all_files(tmp_path) if p.name.endswith(storage.TEMP_SUFFIX)]


def test_resize_and_quality_at_capture(server, tmp_path):
    camera = _camera(server, tmp_path, resize=True, resize_width=160, quality=40)
    result = camera.capture(datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO))
    with Image.open(result.path) as img:
        assert img.size == (160, 120)  # aspect kept
    assert (result.width, result.height) == (160, 120)
    assert _exif_time(result.path)[0] == b"2026:05:01 08:00:00"
    plain = _camera(server, tmp_path / "plain").capture(datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO))
    assert result.size < plain.size


def test_png_source_saved_as_jpeg(server, tmp_path):
    result = _camera(server, tmp_path, path="/shot.png").capture(
        datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO)
    )
    assert result.path.suffix == ".jpg"
    assert result.path.read_bytes().startswith(b"\xff\xd8")
    assert _exif_time(result.path)[0] == b"2026:05:01 08:00:00"


def test_source_exif_time_is_kept(server, tmp_path):
    """A camera that stamps its own DateTimeOriginal keeps it (we add ours only when absent)."""
    img = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2020:01:01 00:00:00"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())

    class Fixed:
        def grab(self, when=None):
            return buf.getvalue()

        def close(self):
            pass

    cfg = CameraConfig(name="x", type="synthetic", output_dir=str(tmp_path), timezone="UTC")
    camera = Camera("x", config=cfg, output_dir=tmp_path, source=Fixed())
    result = camera.capture(datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    assert piexif.load(str(result.path))["Exif"][piexif.ExifIFD.DateTimeOriginal] == (
        b"2020:01:01 00:00:00"
    )


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/html", "HTML"),
        ("/truncated.jpg", "truncated"),
        ("/half.jpg", "the image data ends early"),
        ("/error500", "500"),
        ("/empty", "empty"),
    ],
)
def test_faults_write_nothing(server, tmp_path, path, reason):
    camera = _camera(server, tmp_path, path=path)
    with pytest.raises((GrabError, storage.InvalidImage)) as info:
        camera.capture(datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO))
    assert reason.lower() in str(info.value).lower()
    assert _all_files(tmp_path) == []


@pytest.mark.parametrize("path", ["/padded.jpg", "/progressive.jpg"])
def test_padded_and_progressive_jpegs_are_saved_as_sent(server, tmp_path, path):
    camera = _camera(server, tmp_path / "out", path=path)
    result = camera.capture(datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO))
    assert (result.width, result.height) == (320, 240)
    assert Image.open(result.path).size == (320, 240)


def test_grab_returns_validated_bytes_and_time(server, tmp_path):
    camera = _camera(server, tmp_path)
    when = datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO)
    grab = camera.grab(when)
    assert grab.time == when
    assert grab.data.startswith(b"\xff\xd8") and grab.info.width == 320
    assert _all_files(tmp_path) == []  # grabbing saves nothing


def test_capture_adds_an_index_row(server, tmp_path):
    index_mod = pytest.importorskip("pylapse.index.store")
    index = index_mod.FrameIndex(tmp_path / "pylapse.db")
    try:
        camera = _camera(server, tmp_path / "out")
        when = datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO)
        result = camera.capture(when, index)
        frame = index.get(result.frame_id)
        assert frame.path == result.path
        assert frame.time == when
        assert (frame.width, frame.height, frame.size) == (320, 240, result.size)
        assert frame.luma == pytest.approx(result.luma)
        assert index.count("porch") == 1
    finally:
        index.close()


def test_capture_scores_frames_and_measures_the_hash_distance(server, tmp_path):
    index_mod = pytest.importorskip("pylapse.index.store")
    index = index_mod.FrameIndex(tmp_path / "pylapse.db")
    try:
        camera = _camera(server, tmp_path / "out", path="/static.jpg")
        first = camera.capture(datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO), index)
        second = camera.capture(datetime(2026, 5, 1, 8, 5, tzinfo=TOKYO), index)
        assert first.scores is not None and first.hash_distance is None  # nothing before it
        assert second.hash_distance == 0  # a frozen camera: the same picture again
        frame = index.get(second.frame_id)
        assert frame.dhash == first.scores.dhash and frame.hash_distance == 0
        assert frame.sharpness is not None and frame.sharpness > 0
        assert frame.contrast == pytest.approx(second.stddev)
        assert frame.clip_high is not None and frame.clip_low is not None
        # scored by this method: nothing for pylapse metrics --rescore-old
        assert index.count_old_scores("porch", quality.VERSION) == 0
        assert index.count_old_scores("porch", quality.VERSION + 1) == 2
        # a camera made anew (a restart) takes the previous hash from the index
        blank = _camera(server, tmp_path / "out", path="/blank.jpg")
        third = blank.capture(datetime(2026, 5, 1, 8, 10, tzinfo=TOKYO), index)
        assert third.scores is not None and third.scores.contrast < 1
        expected = quality.hash_distance(first.scores.dhash, third.scores.dhash)
        assert third.hash_distance == expected
        assert index.get(third.frame_id).hash_distance == expected
        assert third.luma_yesterday is None  # nothing a day earlier
        # a day later, the frame nearest the same time yesterday (08:10) gives its luma
        later = camera.capture(datetime(2026, 5, 2, 8, 12, tzinfo=TOKYO), index)
        assert later.luma_yesterday == pytest.approx(third.luma)
    finally:
        index.close()


def test_metrics_tell_blank_from_busy():
    flat = image_metrics(Image.new("RGB", (640, 480), (128, 128, 128)))
    assert flat.stddev < 1 and flat.luma == pytest.approx(128, abs=1)
    busy = image_metrics(Image.linear_gradient("L").resize((640, 480)))
    assert busy.stddev > 30


def test_camera_needs_a_url():
    with pytest.raises(ValueError, match="url"):
        Camera("nothing")


def test_preview_stream_yields_live_jpegs(server, tmp_path):
    camera = _camera(server, tmp_path, path="/shot.jpg")
    stream = camera.preview_stream()
    try:
        frames = [next(stream), next(stream)]
    finally:
        stream.close()
    assert all(f.startswith(b"\xff\xd8") for f in frames)
    assert frames[0] != frames[1]  # two different pictures, not one repeated
    assert _all_files(tmp_path) == []  # previews are never saved


# --- layout: pyLapse 0.2 files keep saving flat -------------------------------------------------


def _v02_config(server, tmp_path: Path, **top):
    from pylapse.config.file import load_config

    raw = {
        "cameras": {
            "camera_1": {
                "name": "Camera 1",
                "url": server.url("/shot.jpg"),
                "output_dir": "frames/camera1",
                "prefix": "Camera1 ",
                "timezone": "Asia/Tokyo",
                "schedules": [{"id": "day", "hour": "6-20", "minute": "*"}],
            }
        },
        "max_retries": 2,
        **top,
    }
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return load_config(path)


def test_a_0_2_config_captures_flat_into_output_dir_as_0_2_did(server, tmp_path):
    from pylapse.index.store import FrameIndex

    config = _v02_config(server, tmp_path)
    camera = Camera.from_config("camera_1", config.cameras["camera_1"], config)
    days = [datetime(2026, 2, 9, 23, 59, tzinfo=TOKYO), datetime(2026, 2, 10, 0, 1, tzinfo=TOKYO)]
    paths = [camera.capture(when).path for when in days]
    out = tmp_path / "frames" / "camera1"
    assert paths == [
        out / "Camera1 2026-02-09T23-59-00+09.00.jpg",
        out / "Camera1 2026-02-10T00-01-00+09.00.jpg",
    ]
    assert [p.name for p in out.iterdir()] == sorted(p.name for p in paths)  # no day folders
    index = FrameIndex(tmp_path / "pylapse.db")  # the flat folder indexes with its times
    try:
        index.scan("camera_1", out, TOKYO)
        assert [f.time for f in index.frames("camera_1")] == days
    finally:
        index.close()


def test_a_layout_in_the_file_or_the_camera_chooses_day_folders(server, tmp_path):
    when = datetime(2026, 2, 9, 12, 0, tzinfo=TOKYO)
    config = _v02_config(server, tmp_path, layout="day_folders")
    camera = Camera.from_config("camera_1", config.cameras["camera_1"], config)
    assert camera.capture(when).path.parent.name == "2026-02-09"
    flat_top = _v02_config(server, tmp_path, layout="flat")
    own = flat_top.cameras["camera_1"].model_copy(update={"layout": "day_folders"})
    assert Camera.from_config("camera_1", own, flat_top).path_for(when).parent.name == "2026-02-09"
    assert (
        Camera.from_config("camera_1", flat_top.cameras["camera_1"], flat_top).path_for(when).parent
        == tmp_path / "frames" / "camera1"
    )


BERLIN = ZoneInfo("Europe/Berlin")


def test_the_repeated_hour_never_overwrites_a_frame(server, tmp_path):
    # 2026-10-25 02:30 happens twice in Berlin: first at +02:00, then, an hour later, at +01:00.
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)
    second = first.replace(fold=1)
    plain = _camera(server, tmp_path, timezone="Europe/Berlin", layout="flat",
                    filename_format="{timestamp:%Y%m%d_%H%M%S}.{ext}",
                    allow_ambiguous_names=True)  # fmt: skip
    a, b = plain.capture(first).path, plain.capture(second).path
    assert (a.name, b.name) == ("20261025_023000.jpg", "20261025_023000-2.jpg")
    assert _exif_time(a) == (b"2026:10:25 02:30:00", b"+02:00")  # the first is still there
    assert _exif_time(b) == (b"2026:10:25 02:30:00", b"+01:00")
    # a later scan of the folder tells them apart: the -2 is a counter, the EXIF has the offset
    index_mod = pytest.importorskip("pylapse.index.store")
    with index_mod.FrameIndex(tmp_path / "scan.db") as index:
        index.scan("plain", tmp_path, "Europe/Berlin", extensions=[".jpg"])
        times = {f.path.name: f.time.isoformat() for f in index.frames("plain")}
    assert times == {a.name: first.isoformat(), b.name: "2026-10-25T02:30:00+01:00"}
    # the default names carry the offset, so the two 02:30s are told apart by name
    named = _camera(server, tmp_path / "named", timezone="Europe/Berlin", layout="flat")
    assert [named.capture(w).path.name for w in (first, second)] == [
        "2026-10-25T02-30-00+02.00.jpg",
        "2026-10-25T02-30-00+01.00.jpg",
    ]
    assert not [p for p in _all_files(tmp_path) if p.name.endswith(storage.TEMP_SUFFIX)]


def test_capture_stores_sky_metrics_over_the_camera_region(server, tmp_path):
    from pylapse.index.store import FrameIndex

    with FrameIndex(tmp_path / "pylapse.db") as index:
        whole = _camera(server, tmp_path / "out")
        top = _camera(server, tmp_path / "top", metrics_region={"top": 0, "bottom": 60})
        when = datetime(2026, 5, 1, 8, 0, tzinfo=TOKYO)
        a, b = whole.capture(when, index), top.capture(when)
        assert a.sky is not None and b.sky is not None
        assert a.sky.mean != b.sky.mean  # the camera's picture is not one colour top to bottom
        utc, offset, colours = index.sky_colours("porch", 0, 2e9, "mean")
        assert list(utc) == [when.timestamp()] and list(offset) == [9 * 3600]
        assert tuple(colours[0]) == a.sky.mean
        frame_max = index.sky_colours("porch", 0, 2e9, "max")[2][0]
        assert tuple(frame_max) == a.sky.max
