"""pyLapse 0.2's public API through its old import path, written fresh from 0.2's documented
behaviour (its README, docstrings and signatures), on real frames and a real index."""

from __future__ import annotations

import inspect
import io
import re
import subprocess
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[3]

V02_ALL = [
    "Camera",
    "Collection",
    "Export",
    "ImageIO",
    "ImageSet",
    "get_default_font",
    "get_google_font",
    "get_system_fonts",
    "imageset_load",
    "list_available_fonts",
    "render_sequence_to_video",
    "save_image",
]


@pytest.fixture
def img_seq(monkeypatch, tmp_path):
    """``pyLapse.img_seq`` as a 0.2 script gets it (the warning is asserted elsewhere)."""
    monkeypatch.setenv("PYLAPSE_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.warns(DeprecationWarning) if "pyLapse" not in sys.modules else _nothing():
        import pyLapse.img_seq
    return pyLapse.img_seq


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def make_02_frames(
    folder: Path,
    prefix: str,
    start: datetime,
    count: int,
    step: timedelta,
    size: tuple[int, int] = (64, 48),
) -> list[Path]:
    """Real JPEGs named as 0.2's ``Camera.save_image`` named them, flat in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 140, 60)).save(buf, "JPEG", quality=85)
    paths = []
    for k in range(count):
        path = folder / f"{prefix}{start + k * step:%Y-%m-%dT%H-%M-%S}.jpg"
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths


def run_python(code_or_file: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
        "PYLAPSE_CACHE_DIR": str(cache),
        "PYTHONPATH": str(REPO),
        "TZ": "UTC",
    }
    return subprocess.run(
        [sys.executable, *code_or_file],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# --- the import path -----------------------------------------------------------------------------


def test_every_02_name_imports_with_one_warning_naming_the_new_import(tmp_path):
    code = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        f"    from pyLapse.img_seq import {', '.join(V02_ALL)}\n"
        "    from pyLapse.img_seq.collections import Collection as C2, Export as E2\n"
        "    from pyLapse.img_seq.cameras import Camera as K2\n"
        "    from pyLapse.img_seq.image import ImageIO as I2, save_image as S2\n"
        "    from pyLapse.img_seq.video import render_sequence_to_video as R2\n"
        "    from pyLapse.img_seq.fonts import get_default_font as F2\n"
        "    import pyLapse.img_seq, pylapse.compat\n"
        "assert (C2, E2, K2, I2, S2, R2, F2) == (Collection, Export, Camera, ImageIO, save_image,"
        " render_sequence_to_video, get_default_font)\n"
        "assert pyLapse.img_seq is pylapse.compat\n"
        "print(sorted(pyLapse.img_seq.__all__))\n"
        "for w in seen: print('W', w.category.__name__, w.filename, w.message)\n"
    )
    done = run_python(["-c", code], tmp_path, tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(V02_ALL)
    warned = [line for line in lines if line.startswith("W ")]
    assert len(warned) == 1, warned
    assert warned[0].startswith("W DeprecationWarning <string> ")  # the user's line, not ours
    assert "pylapse.compat" in warned[0] and "from pylapse import" in warned[0]


def test_a_plain_script_shows_the_warning_with_default_filters(tmp_path):
    (tmp_path / "old.py").write_text("from pyLapse.img_seq import Collection\n", encoding="utf-8")
    done = run_python(["old.py"], tmp_path, tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert "old.py:1: DeprecationWarning: pyLapse.img_seq is pyLapse 0.2's" in done.stderr


def test_the_distribution_ships_the_old_import_path():
    """A module, not a ``pyLapse/`` folder: that would be ``pylapse/`` itself on Windows/macOS."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    assert "pyLapse" in setuptools["py-modules"]
    assert (REPO / "pyLapse.py").is_file() and not (REPO / "pyLapse").exists()
    assert (REPO / "pylapse" / "compat" / "__init__.py").is_file()  # found by pylapse*


def test_signatures_and_defaults_are_02s(img_seq):
    def params(fn):
        return [
            (p.name, p.default if p.default is not inspect.Parameter.empty else "-")
            for p in inspect.signature(fn).parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ]

    assert params(img_seq.Camera) == [("name", "-"), ("image_url", "-"), ("location", None)]
    assert params(img_seq.Collection)[:6] == [
        ("name", "-"),
        ("export_dir", "-"),
        ("collection_dir", "-"),
        ("ext", "jpg"),
        ("mask", "*"),
        ("filematch", None),
    ]
    assert params(img_seq.Collection.add_export) == [
        ("self", "-"),
        ("name", "-"),
        ("subdir", "-"),
        ("prefix", ""),
        ("desc", ""),
    ]
    assert params(img_seq.render_sequence_to_video) == [
        ("input_dir", "-"),
        ("output_path", "-"),
        ("fps", 24),
        ("pattern", "*.jpg"),
        ("codec", "libx264"),
        ("pixel_fmt", "yuv420p"),
        ("ffmpeg_path", None),
        ("progress", True),
        ("progress_callback", None),
    ]
    save = dict(params(img_seq.save_image))
    assert (save["ext"], save["resize"], save["quality"], save["resolution"]) == (
        "jpg",
        False,
        50,
        (1920, 1080),
    )
    load = params(img_seq.imageset_load)
    assert load[1:4] == [("ext", "jpg"), ("mask", "*"), ("filematch", None)]


# --- Collection, ImageSet, Export ----------------------------------------------------------------


def test_collection_loads_its_images_by_day(img_seq, tmp_path):
    frames = tmp_path / "frames"
    make_02_frames(frames, "Out ", datetime(2016, 5, 1, 22, 0), 24, timedelta(minutes=10))
    (frames / "notes.txt").write_text("not a frame", encoding="utf-8")
    coll = img_seq.Collection("Outside", str(tmp_path / "seq"), str(frames))
    assert str(coll) == f"Collection: Outside, Location: {frames}, Images: 24"
    images = coll.images
    assert isinstance(images, img_seq.ImageSet)
    assert images.imagecount == 24 and len(images.images) == 24
    assert images.days == ["2016-05-01", "2016-05-02"]
    first_day = images.get_day_files("2016-05-01")
    assert len(first_day) == 12 and images.get_day_files(1) == images.imageindex["2016-05-02"]
    path, when = min(first_day.items(), key=lambda item: item[1])
    assert Path(path).name == "Out 2016-05-01T22-00-00.jpg" and when == datetime(2016, 5, 1, 22)
    assert when.tzinfo is None  # 0.2's index holds naive wall-clock times
    with pytest.raises(KeyError, match="2016-05-03"):
        images.get_day_files("2016-05-03")
    images.filter_images(hourlist=[23], minutelist=[0, 30])
    assert [Path(p).name[-13:] for p in images.filtered_images] == [
        "T23-00-00.jpg",
        "T23-30-00.jpg",
    ]
    again = img_seq.imageset_load(str(frames))
    assert again.imagecount == 24 and again.imageindex == images.imageindex


def test_export_writes_02_names_sizes_and_quality_and_keeps_other_files(img_seq, tmp_path):
    frames, out = tmp_path / "frames", tmp_path / "seq"
    make_02_frames(
        frames, "Cam ", datetime(2016, 5, 1, 11, 0), 3, timedelta(hours=1), size=(2400, 1350)
    )
    coll = img_seq.Collection("Cam", str(out), str(frames))
    coll.add_export("Hourly", "Hourly", "Cam Hourly", "every hour", hour="*", minute="0")
    coll.add_export("Plain", "Plain", desc="no prefix", minute="0")
    assert set(coll.exports) == {"Hourly", "Plain"}
    hourly = coll.exports["Hourly"]
    assert isinstance(hourly, img_seq.Export) and hourly.desc == "every hour"
    assert str(hourly).startswith(
        "Export: Hourly - Subdir: Hourly - Desc: every hour - Prefix: Cam Hourly - cron["
    )
    (out / "Hourly").mkdir(parents=True)
    (out / "Hourly" / "keep me.jpg").write_bytes(b"the user's own file")  # 0.2 deleted it
    coll.export("Hourly")
    names = sorted(p.name for p in (out / "Hourly").iterdir() if not p.name.startswith("."))
    assert names == [
        "Cam Hourly 00001.jpg",
        "Cam Hourly 00002.jpg",
        "Cam Hourly 00003.jpg",
        "keep me.jpg",
    ]
    reference = io.BytesIO()
    Image.new("RGB", (1920, 1080)).save(reference, "JPEG", quality=50)
    with Image.open(out / "Hourly" / "Cam Hourly 00001.jpg") as written:
        assert written.size == (1920, 1080)  # downsized to fit 1920x1080, as 0.2 did
        assert written.quantization == Image.open(reference).quantization  # quality 50
    coll.export_all(resize=False, quality=80, zeropadding=3)
    assert sorted(p.name for p in (out / "Plain").glob("*.jpg")) == [
        "Plain 001.jpg",  # no prefix: the folder's name, as 0.2 named them
        "Plain 002.jpg",
        "Plain 003.jpg",
    ]
    with Image.open(out / "Plain" / "Plain 001.jpg") as written:
        assert written.size == (2400, 1350)


def test_one_frame_per_target_and_no_next_midnight_frame(img_seq, tmp_path):
    frames, out = tmp_path / "frames", tmp_path / "seq"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1), 2 * 144, timedelta(minutes=10))
    coll = img_seq.Collection("Cam", str(out), str(frames))
    coll.add_export("Full", "Full", "Full", "All Day", hour="*", minute="0")
    result = coll.export("Full", resize=False)
    # 24 a day: 0.2 also took the next day's midnight frame for each day (26 here)
    assert result.written == 48
    assert len(list((out / "Full").glob("Full *.jpg"))) == 48


def test_export_built_by_hand_on_an_imageset_runs_into_its_subdir(img_seq, tmp_path):
    frames = tmp_path / "frames"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1, 11, 50), 5, timedelta(minutes=10))
    images = img_seq.imageset_load(str(frames))
    noon = img_seq.Export("Noon", "noon", images, prefix="Noon", desc="1 a day", hour=12, minute=0)
    assert noon.get_next_fire_time(None, datetime(2016, 5, 1, 11, tzinfo=noon.timezone)).hour == 12
    noon.run(str(tmp_path / "out"), resize=False)
    assert [p.name for p in (tmp_path / "out" / "noon").glob("*.jpg")] == ["Noon 00001.jpg"]


def test_writer_options_draw_the_stamp_where_02_did(img_seq, tmp_path):
    frames = tmp_path / "frames"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1, 12), 1, timedelta(hours=1), (400, 300))
    coll = img_seq.Collection("Cam", str(tmp_path / "seq"), str(frames))
    coll.add_export("One", "one", "One")
    coll.export(
        "One",
        drawtimestamp=True,
        timestampcolor=(255, 0, 0),
        timestampfontsize=40,
        timestamppos=(0, 0),
        quality=95,
    )
    with Image.open(tmp_path / "seq" / "one" / "One 00001.jpg") as written:
        rgb = written.convert("RGB")
        top_left = [rgb.getpixel((x, y)) for x in range(0, 200) for y in range(0, 40)]
        bottom = [rgb.getpixel((x, y)) for x in range(0, 400) for y in range(200, 300)]
    assert any(r > 200 and g < 80 and b < 80 for r, g, b in top_left)  # red text, top left
    assert not any(r > 200 and g < 80 and b < 80 for r, g, b in bottom)


def test_save_image_names_the_file_for_its_time_and_returns_02s_message(img_seq, tmp_path):
    image = Image.new("RGB", (3000, 2000), (10, 20, 30))
    message = img_seq.save_image(
        image, str(tmp_path), datetime(2016, 5, 1, 7, 30), prefix="Porch ", resize=True
    )
    path = tmp_path / "Porch 2016-05-01T07-30-00.jpg"
    assert message == f"Saved {path}"
    with Image.open(path) as saved:
        assert saved.size == (1620, 1080)
    shifted = img_seq.save_image(
        Image.new("RGB", (40, 30)),
        str(tmp_path),
        datetime(2016, 5, 1, 7, 30, tzinfo=__import__("datetime").UTC),
        prefix="Tokyo ",
        timezone="Asia/Tokyo",
    )
    assert shifted.endswith("Tokyo 2016-05-01T16-30-00+09.00.jpg")


# --- video and fonts -----------------------------------------------------------------------------


def test_render_sequence_to_video_returns_the_path(img_seq, tmp_path):
    frames = tmp_path / "seq"
    frames.mkdir()
    for k in range(12):
        Image.new("RGB", (64, 48), (k * 20, 40, 90)).save(frames / f"Seq {k + 1:05d}.jpg")
    seen = []
    out = img_seq.render_sequence_to_video(
        str(frames),
        str(tmp_path / "out.mp4"),
        fps=12,
        progress=False,
        progress_callback=lambda done, total, msg: seen.append((done, total)),
    )
    assert out == str(tmp_path / "out.mp4") and (tmp_path / "out.mp4").stat().st_size > 0
    assert seen and seen[-1] == (12, 12)
    with pytest.raises(ValueError):
        img_seq.render_sequence_to_video(str(frames), str(tmp_path / "x.mp4"), pattern="*.png")
    with pytest.raises(FileNotFoundError):
        img_seq.render_sequence_to_video(str(tmp_path / "nowhere"), str(tmp_path / "x.mp4"))


def test_font_helpers(img_seq):
    default = img_seq.get_default_font()
    assert Path(default).is_file()
    listed = img_seq.list_available_fonts()
    assert {"name", "path", "source"} <= set(listed[0])
    assert any(f["path"] == default and f["source"] == "bundled" for f in listed)
    assert all(f["source"] == "system" for f in img_seq.get_system_fonts())
    assert [f["name"] for f in listed] == sorted((f["name"] for f in listed), key=str.lower)


def test_google_font_without_network_is_none(img_seq, monkeypatch):
    import httpx

    def refuse(*args, **kwargs):
        raise httpx.ConnectError("no network here")

    monkeypatch.setattr(httpx.Client, "get", refuse)
    assert img_seq.get_google_font("Open Sans") is None


def test_filematch_without_named_groups_says_how_to_fix_it(img_seq, tmp_path):
    make_02_frames(tmp_path / "f", "x", datetime(2016, 5, 1), 1, timedelta(hours=1))
    with pytest.raises(ValueError, match=r"\(\?P<year>"):
        positional = re.compile(r"(\d+)")
        img_seq.Collection("x", str(tmp_path), str(tmp_path / "f"), "jpg", "*", positional)


# --- Camera -------------------------------------------------------------------------------------


@pytest.mark.network
def test_camera_fetches_and_saves_from_a_real_http_camera(img_seq, tmp_path):
    from tests.servers.camera_server import CameraServer

    with CameraServer() as cam:
        porch = img_seq.Camera("Porch", cam.url("/shot.jpg"), location="Front")
        assert (porch.name, porch.location, porch.imageurl) == ("Porch", "Front", cam.url())
        assert repr(porch) == "<Camera: Porch>"
        image = porch.fetch_image()
        assert isinstance(image, Image.Image) and image.size[0] > 0
        message = porch.save_image(str(tmp_path / "out"), prefix="Porch ")
        (saved,) = (tmp_path / "out").iterdir()  # flat: no day folder, as 0.2 saved
        assert message == f"Saved {saved}"
        assert re.fullmatch(r"Porch \d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.jpg", saved.name)
        porch.imageurl = cam.url("/mjpeg")  # a stream: its first frame, as 0.2 read it
        assert porch.fetch_image().size == image.size
        assert cam.hits("/shot.jpg") == 2 and cam.hits("/mjpeg") == 1


def test_camera_url_is_checked_and_its_password_never_printed(img_seq):
    cam = img_seq.Camera("Yard", "http://admin:hunter2@192.0.2.7:8080/photoaf.jpg")
    assert "hunter2" not in str(cam) and str(cam).startswith("Camera: Yard http://")
    assert "192.0.2.7:8080/photoaf.jpg" in str(cam)
    assert cam.imageurl == "http://admin:hunter2@192.0.2.7:8080/photoaf.jpg"  # kept for use
    for bad in ("ftp://192.0.2.7/x.jpg", "not a url", ""):
        with pytest.raises(ValueError, match="does not appear to be an image URL"):
            img_seq.Camera("Yard", bad)
    with pytest.raises(ValueError):
        cam.imageurl = "file:///etc/passwd"
    assert cam.imageurl.startswith("http://admin:")  # unchanged by the refused value
    with pytest.raises(ValueError) as refused:
        cam.imageurl = "rtsp://admin:hunter2@192.0.2.7/live"
    assert "hunter2" not in str(refused.value)


def test_a_02_export_folder_is_taken_over_and_only_its_own_files_replaced(img_seq, tmp_path):
    """0.2 cleared ``*.jpg`` before each export: its old sequence is replaced here too (once
    the new one is complete), but a user's own file in the folder survives."""
    frames, out = tmp_path / "frames", tmp_path / "seq"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1, 11, 0), 3, timedelta(hours=1))
    old = out / "Hourly"
    old.mkdir(parents=True)
    for n in range(1, 6):  # what a 0.2 run of this export left: five frames
        (old / f"Cam Hourly {n:05d}.jpg").write_bytes(b"old 0.2 frame")
    (old / "poster.jpg").write_bytes(b"the user's own")
    coll = img_seq.Collection("Cam", str(out), str(frames))
    coll.add_export("Hourly", "Hourly", "Cam Hourly", minute="0")
    coll.export("Hourly", resize=False)
    assert exported_names(old) == [
        "Cam Hourly 00001.jpg",
        "Cam Hourly 00002.jpg",
        "Cam Hourly 00003.jpg",
        "poster.jpg",
    ]
    assert (old / "Cam Hourly 00001.jpg").read_bytes() != b"old 0.2 frame"
    assert (old / "poster.jpg").read_bytes() == b"the user's own"


def test_a_folder_that_is_not_one_02_export_is_never_overwritten(img_seq, tmp_path):
    from pylapse.export.staging import ExportError

    frames, out = tmp_path / "frames", tmp_path / "seq"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1, 11, 0), 3, timedelta(hours=1))
    (out / "Hourly").mkdir(parents=True)
    for n in (1, 3):  # a gap: not what one export wrote
        (out / "Hourly" / f"Cam Hourly {n:05d}.jpg").write_bytes(b"someone's")
    coll = img_seq.Collection("Cam", str(out), str(frames))
    coll.add_export("Hourly", "Hourly", "Cam Hourly", minute="0")
    with pytest.raises(ExportError, match="was not written by a pyLapse export"):
        coll.export("Hourly", resize=False)
    assert (out / "Hourly" / "Cam Hourly 00001.jpg").read_bytes() == b"someone's"


def exported_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_imageio_writes_an_index_in_time_order_with_02_names(img_seq, tmp_path):
    frames = tmp_path / "frames"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1, 12), 4, timedelta(minutes=30))
    images = img_seq.imageset_load(str(frames))
    seen = []
    result = img_seq.ImageIO(workers=1).write_imageset(
        images.imageindex,
        str(tmp_path / "Sequence"),
        resize=False,
        progress_callback=lambda done, total, msg: seen.append((done, total)),
    )
    assert result is None  # as 0.2
    assert exported_names(tmp_path / "Sequence") == [f"Sequence {n:05d}.jpg" for n in (1, 2, 3, 4)]
    assert seen[-1] == (4, 4)
    stamped = img_seq.ImageIO.timestamp_image(
        Image.new("RGB", (200, 100)), datetime(2016, 5, 1, 12), size=30, color=(0, 255, 0)
    )
    greens = [stamped.getpixel((x, y)) for x in range(200) for y in range(40)]
    assert any(g > 200 and r < 80 for r, g, _ in greens)


def test_export_dates_bound_the_days_and_running_keeps_the_collections_export(img_seq, tmp_path):
    frames, out = tmp_path / "frames", tmp_path / "seq"
    make_02_frames(frames, "Cam ", datetime(2016, 5, 1), 3 * 24, timedelta(hours=1))
    coll = img_seq.Collection("Cam", str(out), str(frames))
    coll.add_export("Noon", "noon", "Noon", hour="12", minute="0")
    declared = coll.exports["Noon"]
    declared.run(str(out), resize=False)
    assert coll.exports["Noon"] is declared
    assert len(exported_names(out / "noon")) == 3
    bounded = img_seq.Export(
        "Mid",
        "mid",
        coll.images,
        "Mid",
        hour=12,
        minute=0,
        start_date="2016-05-02",
        end_date="2016-05-02",
    )
    bounded.run(str(out), resize=False)
    assert exported_names(out / "mid") == ["Mid 00001.jpg"]
    assert set(coll.exports) == {"Noon"}
