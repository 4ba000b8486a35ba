"""Exports of real image files: order, names, skips, links, and never losing the previous export."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path

import piexif
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageChops

from pylapse import timeutil
from pylapse.export import staging as export_swap
from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.export.staging import JOURNAL, MANIFEST, ExportError, NameSet, digits_for, output_name
from pylapse.imaging.overlay import TimestampOverlay
from pylapse.index.frame import Frame
from pylapse.progress import Cancelled
from tests.conftest import shared_testdata

REPO = Path(__file__).resolve().parents[3]
TOKYO = 9 * 3600
START = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def _frames(folder: Path, count: int, size=(160, 120)) -> list[tuple[Path, datetime]]:
    """``count`` JPEGs, 10 minutes apart, red channel = 20 x position (to check order)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(count):
        path = folder / f"cam-{i:03d}.jpg"
        Image.new("RGB", size, (20 * i, 60, 90)).save(path, quality=95)
        frames.append(
            (path, timeutil.from_utc((START + timedelta(minutes=10 * i)).timestamp(), TOKYO))
        )
    return frames


def _reds(folder: Path) -> list[int]:
    out = []
    for path in sorted(folder.glob("*.jpg")):
        with Image.open(path) as image:
            out.append(image.getpixel((2, 2))[0])
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _staging_left(out: Path) -> list[str]:
    return [p.name for p in out.parent.iterdir() if ".pylapse-staging-" in p.name]


def test_frames_written_numbered_in_time_order_with_progress(tmp_path):
    frames = _frames(tmp_path / "src", 12)
    shuffled = frames[:]
    random.Random(4).shuffle(shuffled)
    reports = []
    result = run_export(
        shuffled,
        tmp_path / "out",
        ExportOptions(width=80, drawtimestamp=True, prefix="Timelapse "),
        progress=reports.append,
    )
    out = tmp_path / "out"
    names = sorted(p.name for p in out.glob("*.jpg"))
    assert names == [f"Timelapse {i:06d}.jpg" for i in range(1, 13)]
    reds = _reds(out)
    assert reds == sorted(reds) and reds[-1] - reds[0] > 200  # time order, not input order
    with Image.open(out / names[0]) as first:
        assert first.size == (80, 60)
    assert (result.written, result.skipped, result.linked) == (12, [], 0)
    assert result.output_dir == out
    assert json.loads((out / MANIFEST).read_text())["files"] == {
        "prefix": "Timelapse ",
        "ext": "jpg",
        "count": 12,
    }
    assert reports[-1].stage == "process" and reports[-1].done == reports[-1].total == 12
    assert reports[-1].rate and reports[-1].rate > 0
    assert _staging_left(out) == []


def test_names_keep_time_order_past_99999():
    assert output_name("", 1, 10, "jpg") == "000001.jpg"
    assert output_name("", 100000, 100000, "jpg") == "100000.jpg"
    assert digits_for(999_999) == 6 and digits_for(1_000_000) == 7
    count = 3_150_000  # a year at a 10-second cadence
    numbers = [1, 9, 10, 99_999, 100_000, 100_001, 999_999, 1_000_000, 3_150_000]
    names = [output_name("Timelapse ", n, count, "jpg") for n in numbers]
    assert sorted(names) == names
    assert names[0] == "Timelapse 0000001.jpg"
    names_set = NameSet("Timelapse ", "jpg", count)
    assert names[-1] in names_set and "Timelapse 3150001.jpg" not in names_set


def test_corrupt_frames_are_skipped_reported_and_numbering_has_no_holes(tmp_path):
    frames = _frames(tmp_path / "src", 8)
    truncated, empty = frames[2][0], frames[5][0]
    truncated.write_bytes(truncated.read_bytes()[:300])
    empty.write_bytes(b"")
    missing = (tmp_path / "src" / "gone.jpg", frames[7][1] + timedelta(minutes=1))
    reports = []
    result = run_export(
        [*frames, missing], tmp_path / "out", ExportOptions(width=80), progress=reports.append
    )
    assert reports[-1].message == "3 unreadable frame(s) skipped"
    assert result.written == 6
    assert [p for p, _ in result.skipped] == [truncated, empty, missing[0]]
    assert all(reason for _, reason in result.skipped)
    assert "not found" in result.skipped[2][1]
    summary = result.summary()
    assert (summary["written"], summary["skipped"]) == (6, 3)
    assert summary["skipped_frames"][0] == {"path": str(truncated), "reason": result.skipped[0][1]}
    out = tmp_path / "out"
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"{i:06d}.jpg" for i in range(1, 7)]
    reds = _reds(out)
    assert reds == sorted(reds)


def test_without_processing_frames_are_hard_linked(tmp_path):
    frames = _frames(tmp_path / "src", 5)
    frames[3][0].write_bytes(frames[3][0].read_bytes()[:-200])  # no end-of-image marker
    result = run_export(frames, tmp_path / "out", ExportOptions())
    assert (result.written, result.linked) == (4, 4)
    assert [p for p, _ in result.skipped] == [frames[3][0]]
    first = tmp_path / "out" / "000001.jpg"
    assert first.stat().st_ino == frames[0][0].stat().st_ino


def test_linking_across_file_systems_falls_back_to_copying(tmp_path):
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system than the test folder")
    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        result = run_export(_frames(Path(shm), 3), tmp_path / "out", ExportOptions())
        assert result.linked == 3
        copied = tmp_path / "out" / "000001.jpg"
        assert copied.read_bytes() == (Path(shm) / "cam-000.jpg").read_bytes()


def test_png_export_stamps_the_display_zone_time_exactly(tmp_path):
    # Tokyo frames either side of the 2026 US spring change, stamped in Los Angeles time
    frames = _frames(tmp_path / "src", 1)
    utcs = [START.replace(minute=30).timestamp() + h * 3600 for h in (0, 1)]
    indexed = [  # as the frame index returns them: UTC plus the offset that applied
        Frame(i, "tokyo", frames[0][0], utc, TOKYO, None, None, None, None, None)
        for i, utc in enumerate(utcs)
    ]
    options = ExportOptions(
        ext="png",
        drawtimestamp=True,
        timestamp_format="%H:%M %Z",
        display_timezone="America/Los_Angeles",
        font_size=0.2,
    )
    run_export(indexed, tmp_path / "out", options)
    for number, expected in ((1, "01:30 PST"), (2, "03:30 PDT")):
        reference = Image.open(frames[0][0]).convert("RGB")
        TimestampOverlay(format=expected, size=0.2).apply(reference, indexed[0].time)
        with Image.open(tmp_path / "out" / f"{number:06d}.png") as written:
            assert ImageChops.difference(written.convert("RGB"), reference).getbbox() is None


def test_user_files_survive_and_the_old_export_is_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "holiday.jpg").write_bytes(b"my photo")
    run_export(_frames(tmp_path / "a", 12), out, ExportOptions(width=40))
    second = _frames(tmp_path / "b", 5, size=(100, 100))
    run_export(second, out, ExportOptions(width=50))
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["notes.txt", "holiday.jpg", MANIFEST, *(f"{i:06d}.jpg" for i in range(1, 6))]
    )
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "holiday.jpg").read_bytes() == b"my photo"
    with Image.open(out / "000001.jpg") as image:
        assert image.size == (50, 50)


def test_refuses_to_overwrite_a_file_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "000002.jpg").write_bytes(b"someone else's")
    with pytest.raises(ExportError, match="not written by a pyLapse export") as info:
        run_export(_frames(tmp_path / "src", 3), out, ExportOptions())
    assert "000002.jpg" in str(info.value)
    assert _snapshot(out) == {"000002.jpg": b"someone else's"}
    assert _staging_left(out) == []


def test_cancel_leaves_the_previous_export_intact(tmp_path):
    out = tmp_path / "out"
    frames = _frames(tmp_path / "src", 30)
    run_export(frames[:3], out, ExportOptions(width=40))
    before = _snapshot(out)
    cancel = threading.Event()

    def progress(p):
        if p.done > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        run_export(frames, out, ExportOptions(width=80), progress=progress, cancel=cancel)
    assert _snapshot(out) == before
    assert _staging_left(out) == []


def test_interrupted_swap_is_finished_by_the_next_export(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    run_export(_frames(tmp_path / "a", 6), out, ExportOptions(width=40))
    real_replace, moved = os.replace, []

    class Crash(BaseException):
        pass

    def dying_replace(src, dst):
        if ".pylapse-staging-" in os.fspath(src) and not os.fspath(src).endswith(".tmp"):
            if moved:
                raise Crash  # the process "dies" after moving one file in
            moved.append(src)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(Crash):
        run_export(_frames(tmp_path / "b", 3, size=(100, 100)), out, ExportOptions(width=50))
    monkeypatch.setattr(os, "replace", real_replace)
    assert (out / JOURNAL).is_file() and len(moved) == 1

    export_swap.recover(out)  # what the next export to this folder does first
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["keep.txt", MANIFEST, "000001.jpg", "000002.jpg", "000003.jpg"]
    )
    for name in ("000001.jpg", "000003.jpg"):
        with Image.open(out / name) as image:
            assert image.size == (50, 50)
    assert _staging_left(out) == []


_KILL_SCRIPT = """
import sys
from datetime import timedelta
from pathlib import Path
from pylapse import timeutil
from pylapse.export import ExportOptions, run_export

if __name__ == "__main__":
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    start = timeutil.from_utc(1_780_000_000, 9 * 3600)
    frames = [(src, start + timedelta(minutes=i)) for i in range(2000)]
    run_export(frames, out, ExportOptions(width=1000, drawtimestamp=True, quality=95))
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_kill_9_mid_export_leaves_the_previous_export_intact(tmp_path):
    out = tmp_path / "out"
    run_export(_frames(tmp_path / "old", 3), out, ExportOptions(width=40))
    before = _snapshot(out)
    source = tmp_path / "big.jpg"
    Image.effect_noise((2400, 1800), 40).convert("RGB").save(source, quality=90)
    script = tmp_path / "export_job.py"
    script.write_text(textwrap.dedent(_KILL_SCRIPT))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(source), str(out)], env=env, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            staged = [p for p in tmp_path.glob(".out.pylapse-staging-*/*.jpg")]
            if len(staged) >= 4 or proc.poll() is not None:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the export finished before it could be killed"
        assert len(staged) >= 4
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        # its pool workers notice their owner is gone and end by themselves
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(0.1)
        assert not _group_alive(proc.pid), "orphaned export workers kept running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its orphaned pool workers
        proc.wait(10)
    assert _snapshot(out) == before  # the previous export, byte for byte
    assert _staging_left(out), "the killed export's staging folder should still be there"

    result = run_export(_frames(tmp_path / "new", 2), out, ExportOptions(width=30))
    assert result.written == 2
    assert _staging_left(out) == []  # the stale staging folder was cleaned up
    assert sorted(p.name for p in out.glob("*.jpg")) == ["000001.jpg", "000002.jpg"]


def test_a_selection_is_exported_in_its_order(tmp_path):
    from pylapse.selection.selection import select_all

    frames = _frames(tmp_path / "src", 7)
    utcs = array("d", (t.timestamp() for _, t in frames))
    loads = []

    def loader(ids, utc_list):
        loads.append(len(ids))
        return [frames[i] for i in ids]

    selection = select_all(array("q", range(7)), utcs, timeutil.zone("Asia/Tokyo"), loader=loader)
    result = run_export(selection, tmp_path / "out", ExportOptions(width=40))
    assert result.written == 7 and sum(loads) == 7
    assert _reds(tmp_path / "out") == sorted(_reds(tmp_path / "out"))


def test_bad_requests_are_refused_before_anything_is_written(tmp_path):
    frames = _frames(tmp_path / "src", 2)
    with pytest.raises(ExportError, match="no frames"):
        run_export([], tmp_path / "out")
    with pytest.raises(ExportError, match="inside the export folder"):
        run_export(frames, tmp_path / "src")
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["cam-000.jpg", "cam-001.jpg"]
    assert not (tmp_path / "out").exists()
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ExportError, match="cannot write beside"):
        run_export(frames, tmp_path / "a-file" / "out")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ext": "gif"}, "accepted: jpg, png, webp"),
        ({"anchor": "upper-left"}, "is not one of: top-left"),
        ({"drawtimestamp": True, "font": "/nonexistent/font.ttf"}, "does not exist"),
        ({"resize_mode": "squash", "width": 10, "height": 10}, "resize_mode 'squash'"),
        ({"prefix": "../x"}, "path separator"),
        ({"quality": 101}, "quality must be 1-100"),
    ],
)
def test_bad_options_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ExportOptions(**kwargs)


def test_options_from_a_preset_mapping():
    options = ExportOptions.from_mapping({"prefix": "Day ", "hour": "*/2", "width": None})
    assert options.prefix == "Day " and options.width is None
    assert ExportOptions.from_mapping({}, drawtimestamp=True).drawtimestamp
    with pytest.raises(TypeError, match=r"unknown export option.*drawtimestmp"):
        ExportOptions.from_mapping({}, drawtimestmp=True)


def test_an_export_uses_every_core_it_may_run_on_unless_told(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4}, raising=False)
    assert ExportOptions().workers == 5  # as 0.2's pool did; a preset never pins it
    assert ExportOptions(workers=1).workers == 1
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert ExportOptions().workers == 3


def test_export_preset_mirrors_the_options():
    """Every option can be saved in a preset, with the same default (workers is per machine)."""
    from dataclasses import MISSING, fields

    from pylapse.config.presets import ExportPreset

    for f in fields(ExportOptions):
        if f.name == "workers":
            continue
        assert f.name in ExportPreset.model_fields, f"ExportPreset lacks {f.name!r}"
        default = ExportPreset.model_fields[f.name].default
        assert f.default is not MISSING and default == f.default, f.name
    preset = ExportPreset(width=640, drawtimestamp=True, anchor="top-left")
    options = ExportOptions.from_mapping(preset)
    assert (options.width, options.drawtimestamp, options.anchor) == (640, True, "top-left")


@given(count=st.integers(1, 50_000_000), numbers=st.lists(st.integers(1, 50_000_000), max_size=30))
def test_output_names_sort_like_their_numbers(count, numbers):
    numbers = sorted({n for n in numbers if n <= count} | {1, count})
    names = NameSet("Timelapse ", "jpg", count)
    rendered = [names.name(n) for n in numbers]
    assert sorted(rendered) == rendered
    assert all(r in names for r in rendered)
    assert names.name(count + 1) not in names and "Timelapse 1.jpg" not in names


def test_real_camera_frames_export_stamped_and_watermarked(tmp_path):
    folder = REPO.parent / "shared" / "testdata" / "sequence-real" / "frames"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (shared test data lives beside the repo in ../shared)")
    paths = sorted(folder.glob("*.jpg"))[:20]
    frames = [(p, timeutil.from_utc(START.timestamp() + i, TOKYO)) for i, p in enumerate(paths)]
    stamped = ExportOptions(
        width=384,
        drawtimestamp=True,
        timestamp_format="%H:%M:%S",
        backdrop="box",
        anchor="top-left",
        watermark_text="pyLapse",
        watermark_anchor="bottom-right",
    )
    result = run_export(frames, tmp_path / "stamped", stamped)
    plain = run_export(frames, tmp_path / "plain", ExportOptions(width=384))
    assert (result.written, plain.written, result.skipped) == (20, 20, [])
    with (
        Image.open(tmp_path / "stamped" / "000020.jpg") as a,
        Image.open(tmp_path / "plain" / "000020.jpg") as b,
    ):
        assert a.size == b.size == (384, 288)
        changed = ImageChops.difference(a.convert("L"), b.convert("L")).point(
            lambda v: 255 if v > 40 else 0
        )
        w, h = a.size
        assert changed.crop((0, 0, w // 2, h // 3)).getbbox()  # the stamp, top-left
        assert changed.crop((w // 2, 2 * h // 3, w, h)).getbbox()  # the watermark
        assert changed.crop((w // 2, 0, w, h // 2)).getbbox() is None  # nothing elsewhere


def test_previous_export_says_what_a_run_would_replace(tmp_path):
    from pylapse.export.staging import MANIFEST, previous_export

    folder = tmp_path / "out"
    assert previous_export(folder) is None  # nothing there yet
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps({
        "files": {"prefix": "", "ext": "jpg", "count": 277},
        "written": "2026-12-01T13:02:00+00:00"}))  # fmt: skip
    found = previous_export(folder)
    assert found is not None and found.count == 277
    assert found.written == datetime(2026, 12, 1, 13, 2, tzinfo=UTC)
    assert found.describe().startswith("277 frames exported on ")
    assert str(folder) in found.describe()
    (folder / MANIFEST).write_text(json.dumps({"files": {"prefix": "", "ext": "jpg", "count": 1}}))
    assert previous_export(folder).describe() == f"1 frame exported in {folder}"
    (folder / MANIFEST).write_text("not json")
    assert previous_export(folder) is None


def _png_with_huge_exif(path: Path) -> None:
    """A PNG frame whose EXIF (a 100 KB maker note, like a DNG's private data) is too large
    for a JPEG's EXIF segment."""
    exif = piexif.dump({
        "0th": {piexif.ImageIFD.Make: b"Cam Co"},
        "Exif": {
            piexif.ExifIFD.DateTimeOriginal: b"2025:08:10 19:02:53",
            piexif.ExifIFD.OffsetTimeOriginal: b"+03:00",
            piexif.ExifIFD.MakerNote: b"\x01" * 100_000,
        },
    })  # fmt: skip
    Image.new("RGB", (64, 48), (10, 200, 30)).save(path, "PNG", exif=exif)


def test_a_frame_whose_exif_is_too_large_for_a_jpeg_exports_with_its_time(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    path = src / "cam-000.png"
    _png_with_huge_exif(path)
    with Image.open(path) as image:
        assert len(image.getexif().tobytes()) > 65_527  # the case: it would not fit
    when = timeutil.from_utc(START.timestamp(), TOKYO)
    result = run_export([(path, when)], tmp_path / "out", ExportOptions(width=32))
    assert result.written == 1 and not result.skipped
    [out] = sorted((tmp_path / "out").glob("*.jpg"))
    with Image.open(out) as image:
        sub = image.getexif().get_ifd(ExifTags.IFD.Exif)
    assert sub[ExifTags.Base.DateTimeOriginal] == "2025:08:10 19:02:53"
    assert sub[ExifTags.Base.OffsetTimeOriginal] == "+03:00"
    assert ExifTags.Base.MakerNote not in sub


def test_a_real_dng_exports(tmp_path):
    dng = shared_testdata("exif-real") / "nikon_z9_offset+0300.dng"
    when = timeutil.from_utc(START.timestamp(), TOKYO)
    result = run_export([(dng, when)], tmp_path / "out", ExportOptions(width=64))
    assert result.written == 1 and not result.skipped


def test_heic_and_dng_frames_export_at_full_preview_size_with_their_time(tmp_path):
    real = shared_testdata("exif-real")
    heic, dng = real / "iphone11pro_offset-0400.heic", real / "nikon_z9_offset+0300.dng"
    when = [timeutil.from_utc((START + timedelta(minutes=m)).timestamp(), TOKYO) for m in (0, 10)]
    result = run_export(
        [(heic, when[0]), (dng, when[1])], tmp_path / "out", ExportOptions(width=600)
    )
    assert result.written == 2 and not result.skipped
    first, second = sorted((tmp_path / "out").glob("*.jpg"))
    with Image.open(first) as image:
        assert image.size == (600, 800)  # the phone's portrait frame, decoded by pillow-heif
        assert image.getexif().get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] == (
            "-04:00"
        )
    with Image.open(second) as image:
        # the DNG's 640 px embedded preview, not the 256 px thumbnail Pillow opens by itself
        assert image.size == (600, 398)
        sub = image.getexif().get_ifd(ExifTags.IFD.Exif)
        assert sub[ExifTags.Base.DateTimeOriginal] == "2025:08:10 19:02:53"
