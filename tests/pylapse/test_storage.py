"""pylapse.storage on real files: atomic writes, image validation, day folders, confinement."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from pylapse import storage, timeutil
from pylapse.storage import InvalidImage, PathNotAllowed
from pylapse.storage.files import write_slot
from tests.servers.camera_server import cut_jpeg

REPO = Path(__file__).resolve().parents[2]


def encoded(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buf, fmt)
    return buf.getvalue()


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- atomic_write ----------------------------------------------------------------------------


def test_atomic_write_creates_and_replaces(tmp_path):
    target = tmp_path / "sub" / "frame.jpg"
    storage.atomic_write(target, b"first")
    storage.atomic_write(target, lambda handle: handle.write(b"second"))
    assert target.read_bytes() == b"second"
    assert visible(target.parent) == ["frame.jpg"]  # no temp file left behind
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_writer_failing_midway_leaves_the_old_file(tmp_path):
    target = tmp_path / "config.json"
    target.write_bytes(b"old and complete")

    def writer(handle):
        handle.write(b"new but ")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        storage.atomic_write(target, writer)
    assert target.read_bytes() == b"old and complete"
    assert visible(tmp_path) == ["config.json"]


def test_a_crash_before_the_rename_leaves_the_old_file(tmp_path):
    """A real process dies half-way through writing: the target is untouched; the temp file it
    leaves is hidden, never taken for a frame, and swept later."""
    target = tmp_path / "frame.jpg"
    target.write_bytes(b"old")
    script = (
        "import os, sys\n"
        "from pylapse import storage\n"
        "def writer(handle):\n"
        "    handle.write(b'half a fra')\n"
        "    handle.flush()\n"
        "    os._exit(9)  # no cleanup, no rename: like a power cut or a kill -9\n"
        "storage.atomic_write(sys.argv[1], writer)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script, str(target)], env=env, check=False)
    assert done.returncode == 9
    assert target.read_bytes() == b"old"
    leftovers = [p for p in tmp_path.iterdir() if p != target]
    assert len(leftovers) == 1
    assert leftovers[0].name.startswith(".frame.jpg.")
    assert leftovers[0].name.endswith(storage.TEMP_SUFFIX)
    assert storage.sweep_temp(tmp_path) == leftovers
    assert visible(tmp_path) == ["frame.jpg"]


def _writer_stuck_in_the_write(target: Path) -> subprocess.Popen[str]:
    """A real process in the middle of atomic_write(target): half its bytes written, waiting."""
    script = (
        "import sys, time\n"
        "from pylapse import storage\n"
        "def writer(handle):\n"
        "    handle.write(b'half a pic')\n"
        "    handle.flush()\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
        "storage.atomic_write(sys.argv[1], writer)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL: no cleanup runs
    proc.wait(timeout=10)
    assert proc.stdout is not None
    proc.stdout.close()


def test_a_killed_writers_temp_file_goes_with_the_next_write_of_its_target(tmp_path):
    """Temp names say whose target they are; a write removes what killed writers of the same
    target left, never the file of a writer still at work, nor other targets' files."""
    target, other = tmp_path / "day.png", tmp_path / "other.png"
    killed = _writer_stuck_in_the_write(target)
    alive = _writer_stuck_in_the_write(target)
    try:
        killed_other = _writer_stuck_in_the_write(other)
        _kill(killed_other)
        _kill(killed)
        temps = sorted(p.name for p in tmp_path.iterdir())
        assert len(temps) == 3 and not target.exists()
        for name in temps:
            assert re.fullmatch(r"\.(day|other)\.png\.pylapse-write-\d\.[\w-]+\.tmp", name), name
        storage.atomic_write(target, b"new")  # the dead writer's slot is taken over
        left = sorted(p.name for p in tmp_path.iterdir())
        assert target.read_bytes() == b"new" and len(left) == 3  # the live one's stays
        assert [n for n in left if n.startswith(".other")] == [t for t in temps if "other" in t]
    finally:
        _kill(alive)
    storage.atomic_write(target, b"newer")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".day")) == []
    assert target.read_bytes() == b"newer"
    storage.atomic_write(other, b"x")
    assert visible(tmp_path) == ["day.png", "other.png"]


def test_the_longest_name_a_folder_takes_is_written_atomically(tmp_path):
    target = tmp_path / ("n" * 251 + ".png")  # 255 bytes: no room for a temp suffix
    storage.atomic_write(target, b"first")
    storage.atomic_write(target, b"second")
    assert target.read_bytes() == b"second" and visible(tmp_path) == [target.name]


def test_sweep_temp_removes_only_temp_files(tmp_path):
    (tmp_path / ".frame.jpg.abc.tmp").write_bytes(b"x")
    (tmp_path / "frame.jpg").write_bytes(b"x")
    (tmp_path / "notes.tmp").write_bytes(b"x")  # not ours: not hidden
    assert [p.name for p in storage.sweep_temp(tmp_path)] == [".frame.jpg.abc.tmp"]
    assert visible(tmp_path) == ["frame.jpg", "notes.tmp"]
    assert storage.sweep_temp(tmp_path / "missing") == []


def test_sweep_temp_leaves_a_live_writers_slot(tmp_path):
    # Another capture host sharing the folder may be writing this frame right now: its write
    # slot is locked, and removing it would lose the frame it is about to place.
    live = write_slot(tmp_path / "frame.jpg", 0)
    dead = write_slot(tmp_path / "other.jpg", 0)
    fd = storage.lock_file(live)  # held through a second open file, as another process would
    try:
        dead.write_bytes(b"left by a killed writer")
        assert storage.sweep_temp(tmp_path) == [dead]
        assert live.exists() and not dead.exists()
    finally:
        storage.unlock_file(live, fd)
    assert not live.exists()


# --- validate_image --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_complete_images_are_accepted(fmt):
    info = storage.validate_image(encoded(fmt))
    assert (info.format, info.width, info.height) == (fmt, 64, 48)
    assert info.image.size == (64, 48)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", r"empty response \(0 bytes\)"),
        (b"<!DOCTYPE html><html><body>401 Unauthorized</body></html>", "text/HTML page"),
        (b"\n  <html><h1>Camera busy</h1></html>", "text/HTML page"),
        (b'{"error": "no frame"}', "text/HTML page"),
        (b"GIF89a\x01\x00\x01\x00", r"not a JPEG or PNG image \(starts with b'GIF89a"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "not a JPEG or PNG image"),
    ],
)
def test_things_that_are_not_images_are_refused(data, reason):
    with pytest.raises(InvalidImage, match=reason):
        storage.validate_image(data)


def test_a_truncated_jpeg_is_refused():
    data = encoded("JPEG")
    with pytest.raises(InvalidImage, match=r"truncated JPEG: no end-of-image marker \(\d+ bytes\)"):
        storage.validate_image(data[: len(data) // 2])


def _noisy_jpeg(size: tuple[int, int] = (96, 64)) -> bytes:
    """A JPEG made here with detail in every block (so no cut can land in a run of zeros)."""
    import random

    rng = random.Random(5)
    image = Image.frombytes(
        "RGB", size, bytes(rng.randrange(256) for _ in range(3 * size[0] * size[1]))
    )
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.parametrize(
    "padding", [b"\x00", bytes(4096), b"\r\n", b"\r\n\r\n", b" \x00\r\n", b"\n"]
)
def test_a_jpeg_padded_after_its_end_marker_is_accepted(padding):
    # cameras and proxies pad a frame with zeros or line ends after FF D9
    for data in (encoded("JPEG"), _noisy_jpeg()):
        info = storage.validate_image(data + padding)
        assert info.format == "JPEG" and info.image.size == Image.open(io.BytesIO(data)).size


def test_a_jpeg_body_cut_anywhere_before_its_end_marker_is_refused():
    data = _noisy_jpeg()
    for cut in range(3, len(data) - 1):  # every cut keeps the JPEG signature, loses FF D9
        with pytest.raises(InvalidImage, match="JPEG"):
            storage.validate_image(data[:cut])
    # ... and when closed with an FF D9 again, cut well inside the image data. Known gap: a cut
    # within about the last 100 bytes still passes (the check's run-out bits decode as the last
    # block or two), so no fraction near 1 here.
    for fraction in (0.01, 0.25, 0.5, 0.75):
        with pytest.raises(InvalidImage, match="JPEG"):
            storage.validate_image(cut_jpeg(data, fraction))
    assert storage.validate_image(data).image.size == (96, 64)


@pytest.mark.parametrize(
    "page",
    [
        b"<?xml version='1.0'?><Fault>401</Fault>",
        b"<HTML><BODY>Not Found</BODY></HTML>",
        b"\r\n\r\n<!doctype html>",
        b"<",
    ],
)
def test_a_text_page_is_refused_as_one(page):
    with pytest.raises(InvalidImage) as caught:
        storage.validate_image(page)
    assert str(caught.value) == f"got a text/HTML page instead of an image ({len(page)} bytes)"


def _real_jpeg() -> bytes:
    """A real camera-like frame (768x576, 4:2:0, 1,728 MCUs) from the shared test data."""
    from tests.conftest import shared_testdata

    return (shared_testdata("sequence-real") / "frames" / "vtest_010.jpg").read_bytes()


def _jpeg(size: tuple[int, int] = (640, 480), **options) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(_real_jpeg())).resize(size).save(buf, "JPEG", quality=85, **options)
    return buf.getvalue()


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.9, 0.995])
def test_a_jpeg_cut_inside_its_image_data_but_ending_in_ff_d9_is_refused(fraction):
    """The camera's answer looks complete (headers, FF D9 at the end) but the compressed data
    stops early: libjpeg would fill the missing rows grey and only warn."""
    data = cut_jpeg(_real_jpeg(), fraction)
    assert data.endswith(b"\xff\xd9")
    with pytest.raises(InvalidImage, match=r"^truncated JPEG: the image data ends early") as info:
        storage.validate_image(data)
    assert f"({len(data):,} bytes)" in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {"optimize": True},  # optimised Huffman tables: the shortest codes are all zero bits
        {"restart_marker_blocks": 4},  # restart markers between MCUs
        {"restart_marker_rows": 1},
        {"subsampling": 0},  # 4:4:4
    ],
    ids=["optimized", "restart-blocks", "restart-rows", "444"],
)
@pytest.mark.parametrize("fraction", [0.3, 0.99])
def test_cut_jpegs_of_every_layout_are_refused(options, fraction):
    complete = _jpeg(**options)
    assert storage.validate_image(complete).image.size == (640, 480)
    with pytest.raises(InvalidImage, match="the image data ends early"):
        storage.validate_image(cut_jpeg(complete, fraction))


def test_a_cut_grayscale_jpeg_is_refused():
    buf = io.BytesIO()
    Image.open(io.BytesIO(_real_jpeg())).convert("L").save(buf, "JPEG", quality=90)
    assert storage.validate_image(buf.getvalue()).image.mode == "L"
    with pytest.raises(InvalidImage, match="the image data ends early"):
        storage.validate_image(cut_jpeg(buf.getvalue()))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_a_cut_progressive_jpeg_is_refused(fraction):
    data = _jpeg(progressive=True)
    end = data.rindex(b"\xff\xd9")
    cut = int(end * fraction)
    if data[cut - 1] == 0xFF:
        cut -= 1
    with pytest.raises(InvalidImage, match="the image data ends early"):
        storage.validate_image(data[:cut] + b"\xff\xd9")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("padded after its end marker", lambda: _real_jpeg() + bytes(4096)),
        ("padded with CR LF", lambda: _real_jpeg() + b"\r\n"),
        ("progressive", lambda: _jpeg(progressive=True)),
        ("progressive and padded", lambda: _jpeg(progressive=True) + bytes(100)),
        ("optimized", lambda: _jpeg(optimize=True)),
        ("restart markers", lambda: _jpeg(restart_marker_blocks=1)),
        ("4:4:4", lambda: _jpeg(subsampling=0)),
        ("one MCU", lambda: _jpeg((8, 8))),
        ("odd size", lambda: _jpeg((333, 101))),
        ("with an EXIF thumbnail", lambda: _with_thumbnail(_real_jpeg())),
        ("two pictures in one file (MPO)", lambda: _mpo()),
    ],
)
def test_complete_jpegs_of_every_kind_are_accepted(name, data):
    raw = data()
    info = storage.validate_image(raw)
    plain = Image.open(io.BytesIO(raw))
    plain.load()
    assert (info.width, info.height) == plain.size, name
    assert info.image.tobytes() == plain.tobytes(), name  # the same pixels as a plain decode


def test_a_cut_jpeg_is_refused_even_when_pillow_is_told_to_load_truncated_files(monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as some programs set it
    assert storage.validate_image(_real_jpeg()).width == 768
    with pytest.raises(InvalidImage, match="the image data ends early"):
        storage.validate_image(cut_jpeg(_real_jpeg()))


def _mpo() -> bytes:
    """A multi-picture file as some cameras write: a second JPEG after the first one's end."""
    first = Image.open(io.BytesIO(_real_jpeg()))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[first.resize((320, 240))])
    return out.getvalue()


def _with_thumbnail(data: bytes) -> bytes:
    """``data`` with an EXIF block holding a JPEG thumbnail (an FF D9 before the image data)."""
    import piexif

    thumb = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(thumb, "JPEG")
    exif = piexif.dump({"0th": {}, "Exif": {}, "1st": {}, "thumbnail": thumb.getvalue()})
    out = io.BytesIO()
    piexif.insert(exif, data, out)
    return out.getvalue()


def test_a_jpeg_with_a_broken_body_is_refused():
    data = encoded("JPEG")
    broken = data[:4] + b"\x00" * (len(data) - 6) + data[-2:]  # markers right, content not
    with pytest.raises(InvalidImage, match="undecodable JPEG"):
        storage.validate_image(broken)


def test_a_truncated_png_is_refused():
    data = encoded("PNG")
    with pytest.raises(InvalidImage, match=r"truncated PNG: no IEND chunk at the end \(\d+ bytes"):
        storage.validate_image(data[: len(data) - 40])


def test_a_png_with_a_broken_body_is_refused():
    data = encoded("PNG")
    broken = data[:40] + b"\x00" * (len(data) - 52) + data[-12:]  # header and IEND kept
    with pytest.raises(InvalidImage, match="undecodable PNG"):
        storage.validate_image(broken)


# --- day_folder ------------------------------------------------------------------------------


def test_day_folder_uses_the_cameras_day(tmp_path):
    # 23:30 on 9 February in Tokyo is still 9 February there, whatever UTC says.
    when = datetime(2026, 2, 9, 23, 30, tzinfo=timeutil.zone("Asia/Tokyo"))
    assert storage.day_folder(tmp_path, when) == tmp_path / "2026-02-09"
    assert storage.day_folder(tmp_path, when, "%Y/%m") == tmp_path / "2026" / "02"
    assert storage.day_folder(tmp_path, when, "") == tmp_path


def test_day_folder_refuses_escapes_and_naive_times(tmp_path):
    when = datetime(2026, 2, 9, tzinfo=timeutil.UTC)
    with pytest.raises(ValueError, match="must stay inside the output folder"):
        storage.day_folder(tmp_path, when, "../%Y")
    with pytest.raises(ValueError, match="must stay inside the output folder"):
        storage.day_folder(tmp_path, when, "/%Y")
    with pytest.raises(ValueError, match="aware"):
        storage.day_folder(tmp_path, datetime(2026, 2, 9))


# --- confine ---------------------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path):
    inside = tmp_path / "timelapse"
    (inside / "cam" / "2026-02-09").mkdir(parents=True)
    other = tmp_path / "second-root"
    other.mkdir()
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.txt").write_text("x")
    return inside, other


def test_paths_inside_a_root_resolve(roots):
    inside, other = roots
    assert storage.confine("cam/2026-02-09", roots) == inside / "cam" / "2026-02-09"
    assert storage.confine(inside / "cam", roots) == inside / "cam"
    assert storage.confine(other / "new.mp4", roots) == other / "new.mp4"  # need not exist
    assert storage.confine(inside, roots) == inside
    assert storage.confine("cam/../cam/x.jpg", roots) == inside / "cam" / "x.jpg"  # stays in


@pytest.mark.parametrize(
    "escape",
    [
        "..",
        "../secret/key.txt",
        "cam/../../secret",
        "cam/2026-02-09/../../../secret",
        "/etc/passwd",
    ],
)
def test_escapes_are_refused(roots, escape):
    with pytest.raises(PathNotAllowed, match="is outside the storage roots"):
        storage.confine(escape, roots)


def test_a_sibling_with_the_same_prefix_is_outside(roots, tmp_path):
    (tmp_path / "timelapse-old").mkdir()
    with pytest.raises(PathNotAllowed):
        storage.confine(tmp_path / "timelapse-old", roots)


def test_symlinks_pointing_out_are_refused(roots, tmp_path):
    inside, _ = roots
    (inside / "cam" / "out").symlink_to(tmp_path / "secret")
    (inside / "cam" / "alias").symlink_to(inside / "cam" / "2026-02-09")
    with pytest.raises(PathNotAllowed):
        storage.confine("cam/out/key.txt", roots)
    with pytest.raises(PathNotAllowed):
        storage.confine("cam/out", roots)
    assert storage.confine("cam/alias", roots) == inside / "cam" / "2026-02-09"


def test_encoded_dots_are_literal_names_that_stay_inside(roots):
    inside, _ = roots
    # Decoding URLs is the web layer's job; here "%2e%2e" is just a strange folder name.
    assert storage.confine("%2e%2e/%2e%2e/secret", roots) == inside / "%2e%2e" / "%2e%2e" / "secret"
    assert storage.confine("..%2f..%2fsecret", roots) == inside / "..%2f..%2fsecret"


def test_nul_bytes_and_missing_roots_are_refused(roots):
    with pytest.raises(PathNotAllowed, match="NUL byte"):
        storage.confine("cam\x00/x", roots)
    with pytest.raises(PathNotAllowed, match="no storage roots are configured"):
        storage.confine("cam", [])


# --- open_confined: the check made when a file is served ------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_open_confined_opens_a_regular_file_inside(roots):
    inside, _ = roots
    frame = inside / "cam" / "2026-02-09" / "f.jpg"
    frame.write_bytes(b"frame bytes")
    (inside / "cam" / "alias.jpg").symlink_to(frame)  # a link that stays inside
    for given in (frame, str(frame), inside / "cam" / "alias.jpg"):
        handle, real = storage.open_confined(given, roots)
        with handle:
            assert (handle.read(), real) == (b"frame bytes", frame)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda inside, out: out / "key.txt", PathNotAllowed, "is outside the storage roots"),
        (lambda inside, out: inside / "cam" / "out.jpg", PathNotAllowed, "outside the storage"),
        (lambda inside, out: inside / "cam", IsADirectoryError, "is not a regular file"),
        (lambda inside, out: inside / "cam" / "fifo.jpg", IsADirectoryError, "not a regular"),
        (lambda inside, out: inside / "cam" / "gone.jpg", FileNotFoundError, "gone.jpg"),
    ],
    ids=["outside", "link-out", "folder", "fifo", "missing"],
)
def test_open_confined_refuses(roots, tmp_path, make, error, message):
    inside, _ = roots
    (inside / "cam" / "out.jpg").symlink_to(tmp_path / "secret" / "key.txt")
    os.mkfifo(inside / "cam" / "fifo.jpg")  # must not hang a worker
    before = _open_fds()
    with pytest.raises(error, match=message):
        storage.open_confined(make(inside, tmp_path / "secret"), roots)
    assert _open_fds() == before  # nothing left open


def test_open_confined_refuses_unusable_paths(roots):
    for raw in ("cam\x00.jpg", "x" * 5000):
        with pytest.raises(PathNotAllowed, match="is not a usable path"):
            storage.open_confined(raw, roots)
    with pytest.raises(PathNotAllowed) as caught:
        storage.open_confined("y" * 5000, roots)
    assert str(caught.value) == f"{'y' * 100!r}... (5000 characters) is not a usable path"
    with pytest.raises(PathNotAllowed, match="no storage roots are configured"):
        storage.open_confined("cam", [])


def test_open_confined_sees_the_file_it_really_opened(roots, monkeypatch):
    inside, _ = roots
    frame = inside / "cam" / "f.jpg"
    frame.write_bytes(b"x")
    fd = os.open(frame, os.O_RDONLY)
    try:
        assert storage.roots._opened_path(fd) == str(frame)  # what the kernel says is open
    finally:
        os.close(fd)
    before = _open_fds()
    # a folder swapped for a link out between the check and the open: the kernel's path is out
    monkeypatch.setattr(storage.roots, "_opened_path", lambda fd: "/etc/passwd")
    with pytest.raises(PathNotAllowed, match="moved out of the storage roots"):
        storage.open_confined(frame, roots)
    assert _open_fds() == before
    # where the system cannot say, the file opened must be the one checked
    monkeypatch.setattr(storage.roots, "_opened_path", lambda fd: None)
    handle, _real = storage.open_confined(frame, roots)
    handle.close()
    other = os.stat(inside / "cam")
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: other)
    with pytest.raises(PathNotAllowed, match="changed while it was opened"):
        storage.open_confined(frame, roots)
    assert _open_fds() == before


def test_open_confined_refuses_a_file_that_became_a_link(roots, tmp_path, monkeypatch):
    inside, _ = roots
    link = inside / "cam" / "f.jpg"
    link.symlink_to(tmp_path / "secret" / "key.txt")
    # as if the file was replaced by this link after its path was resolved
    monkeypatch.setattr(os.path, "realpath", lambda raw: str(link))
    with pytest.raises(PathNotAllowed, match="became a link while it was opened"):
        storage.open_confined(link, roots)


def test_iter_files_lists_matching_files(tmp_path):
    (tmp_path / "a.JPG").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"")
    (tmp_path / "c.txt").write_bytes(b"")
    (tmp_path / "d.jpg").mkdir()
    found = sorted(p.name for p in storage.iter_files(tmp_path, (".jpg", ".png")))
    assert found == ["a.JPG", "b.png"]
    assert list(storage.iter_files(tmp_path / "missing", (".jpg",))) == []


# --- placing a finished file under its name ------------------------------------------------


def _temp(folder: Path, text: str) -> Path:
    path = folder / f".{text}.tmp"
    path.write_text(text)
    return path


def test_place_file_replaces_only_when_asked(tmp_path):
    target = tmp_path / "day.mp4"
    target.write_text("old")
    assert storage.place_file(_temp(tmp_path, "new"), target, "replace") == target
    assert target.read_text() == "new"
    with pytest.raises(FileExistsError, match=r"day\.mp4 exists; nothing was replaced"):
        storage.place_file(_temp(tmp_path, "third"), target, "error")
    assert target.read_text() == "new" and (tmp_path / ".third.tmp").exists()


def test_place_file_takes_the_first_free_name(tmp_path):
    target = tmp_path / "day.mp4"
    target.write_text("old")
    (tmp_path / "day-2.mp4.json").write_text("{}")  # a manifest left without its video
    taken = lambda p: p.with_name(p.name + ".json").exists()  # noqa: E731
    placed = storage.place_file(_temp(tmp_path, "new"), target, "rename", taken)
    assert placed == tmp_path / "day-3.mp4" and placed.read_text() == "new"
    assert target.read_text() == "old" and not (tmp_path / ".new.tmp").exists()


def test_place_file_never_gives_two_files_one_name(tmp_path):
    import threading

    temps = [_temp(tmp_path, f"t{i}") for i in range(12)]
    placed: list[Path] = []
    barrier = threading.Barrier(len(temps))

    def place(temp: Path) -> None:
        barrier.wait()
        placed.append(storage.place_file(temp, tmp_path / "day.mp4", "rename"))

    threads = [threading.Thread(target=place, args=(t,)) for t in temps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(placed)) == 12
    assert sorted(p.read_text() for p in placed) == sorted(f"t{i}" for i in range(12))


def test_place_file_without_hard_links(tmp_path, monkeypatch):
    """FAT and some shares have no hard links: the name is claimed by an exclusive create."""

    def no_links(src, dst):  # what os.link raises there
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "day.mp4"
    target.write_text("old")
    placed = storage.place_file(_temp(tmp_path, "new"), target, "rename")
    assert placed == tmp_path / "day-2.mp4" and placed.read_text() == "new"
    assert target.read_text() == "old"


# --- more of what the storage layer promises, on real files -------------------------------------


def test_atomic_write_makes_missing_folders_and_writes_beside_the_target(tmp_path):
    target = tmp_path / "a" / "b" / "c" / "frame.jpg"
    seen = []

    def writer(handle):
        handle.write(b"data")
        seen.extend(p.name for p in target.parent.iterdir())  # the temp file, mid-write
        assert os.fstat(handle.fileno()).st_mode & 0o777 == 0o600  # only ours until placed

    storage.atomic_write(target, writer)
    assert target.read_bytes() == b"data"
    (temp,) = seen
    assert temp.startswith(".frame.jpg.") and temp.endswith(storage.TEMP_SUFFIX)


def test_atomic_write_gives_the_new_file_its_owner(tmp_path):
    target = tmp_path / "config.json"
    storage.atomic_write(target, b"x", owner=(4321, 4321), mode=0o600)
    st = target.stat()
    if os.geteuid() == 0:  # only root may give a file away
        assert (st.st_uid, st.st_gid) == (4321, 4321)
    else:  # everyone else writes it anyway, owned by themselves
        assert st.st_uid == os.geteuid()
    assert st.st_mode & 0o777 == 0o600


def test_day_folder_messages_and_backslashes(tmp_path):
    when = datetime(2026, 2, 9, tzinfo=timeutil.UTC)
    with pytest.raises(ValueError) as caught:
        storage.day_folder(tmp_path, datetime(2026, 2, 9))
    assert str(caught.value) == "day_folder needs an aware datetime"
    with pytest.raises(ValueError) as caught:
        storage.day_folder(tmp_path, when, "\\%Y")
    assert str(caught.value) == "day folder format '\\\\%Y' must stay inside the output folder"


def test_too_long_paths_and_names_are_refused_at_the_limit(roots):
    inside, _ = roots
    name = "n" * storage.MAX_NAME_BYTES
    assert storage.confine(name, roots) == inside / name  # 255 bytes: allowed
    with pytest.raises(PathNotAllowed) as caught:
        storage.confine(name + "n", roots)
    assert str(caught.value) == (
        f"{('n' * 100)!r}... (256 characters) is too long: a file or folder name has at most "
        "255 bytes and a path at most 4096"
    )
    with pytest.raises(PathNotAllowed, match="a file or folder name has at most 255 bytes"):
        storage.confine("é" * 128, roots)  # 128 characters, 256 bytes
    deep = "/".join(["d" * 200] * 20) + "/" + "e" * 75  # short names, 4095 characters
    assert len(deep) == storage.MAX_PATH_CHARS - 1  # but longer than that after the root
    with pytest.raises(PathNotAllowed, match="is too long: a file or folder name"):
        storage.confine(deep, roots)  # the resolved path is longer than 4096 bytes
    exactly = "x/" * (storage.MAX_PATH_CHARS // 2)  # 4096 characters, refused as resolved
    with pytest.raises(PathNotAllowed, match="a file or folder name has at most"):
        storage.confine(exactly, roots)
    with pytest.raises(PathNotAllowed) as caught:
        storage.confine(exactly + "x", roots)
    assert str(caught.value).endswith("is too long: at most 4096 characters are accepted")


def test_a_resolved_path_of_exactly_the_limit_is_allowed(roots):
    inside, _ = roots
    room = storage.MAX_PATH_CHARS - len(os.fsencode(inside)) - 1  # bytes left after "root/"
    parts = ["p" * 200] * ((room - 1) // 201)  # leaves 1-201 bytes for the last name
    last = room - 201 * len(parts)
    raw = "/".join([*parts, "q" * last])
    assert len(os.fsencode(inside / raw)) == storage.MAX_PATH_CHARS
    assert storage.confine(raw, roots) == inside / raw
    with pytest.raises(PathNotAllowed, match="is too long"):
        storage.confine(raw + "q", roots)


def test_a_refusal_shows_the_path_cut_to_a_readable_length_and_names_the_roots(roots):
    inside, other = roots
    short = "/elsewhere/" + "s" * 109  # 120 characters: shown whole
    with pytest.raises(PathNotAllowed) as caught:
        storage.confine(short, roots)
    assert str(caught.value) == f"{short!r} is outside the storage roots ({inside}, {other})"
    longer = short + "s"
    with pytest.raises(PathNotAllowed) as caught:
        storage.confine(longer, roots)
    assert str(caught.value).startswith(f"{longer[:100]!r}... (121 characters) is outside")
    with pytest.raises(PathNotAllowed) as caught:
        storage.confine("cam", [])
    assert str(caught.value) == "no storage roots are configured; add one to 'storage_roots'"


def test_open_confined_takes_paths_up_to_the_limit(roots):
    inside, _ = roots
    head = f"{inside}/"
    raw = head + "x" * (storage.MAX_PATH_CHARS - len(head))  # 4096 characters: looked for
    with pytest.raises(OSError) as caught:  # (too long a name for the file system to open)
        storage.open_confined(raw, roots)
    assert "usable" not in str(caught.value)
    with pytest.raises(PathNotAllowed, match="is not a usable path"):
        storage.open_confined(raw + "x", roots)


def test_place_file_takes_the_name_itself_when_it_is_free(tmp_path):
    target = tmp_path / "day.mp4"
    assert storage.place_file(_temp(tmp_path, "a"), target, "rename") == target
    other = tmp_path / "other.mp4"
    assert storage.place_file(_temp(tmp_path, "b"), other, "error") == other
    assert other.read_text() == "b"


def test_place_file_tries_so_many_names_then_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(storage.files, "_MAX_NAMES", 3)  # the name place_file reads
    target = tmp_path / "day.mp4"
    target.write_text("1")
    (tmp_path / "day-2.mp4").write_text("2")
    assert storage.place_file(_temp(tmp_path, "c"), target, "rename") == tmp_path / "day-3.mp4"
    with pytest.raises(FileExistsError) as caught:
        storage.place_file(_temp(tmp_path, "d"), target, "rename")
    assert str(caught.value) == f"no free name for day.mp4 in {tmp_path}"


def test_an_empty_body_is_refused_by_name():
    with pytest.raises(InvalidImage) as caught:
        storage.validate_image(b"")
    assert str(caught.value) == "empty response (0 bytes)"
    with pytest.raises(InvalidImage) as caught:
        storage.validate_image(b"GIF89a\x01\x00\x01\x00")
    assert str(caught.value) == "not a JPEG or PNG image (starts with b'GIF89a\\x01\\x00')"


@pytest.mark.parametrize("kind", ["baseline", "progressive", "restart", "optimized", "fill"])
def test_jpegs_made_here_of_every_layout_whole_padded_and_cut(kind):
    import random

    rng = random.Random(11)
    picture = Image.frombytes("RGB", (96, 64), bytes(rng.randrange(256) for _ in range(18432)))
    buf = io.BytesIO()
    options = {
        "progressive": {"progressive": True},
        "restart": {"restart_marker_blocks": 2},
        "optimized": {"optimize": True},
    }.get(kind, {})
    picture.save(buf, "JPEG", quality=90, **options)
    data = buf.getvalue()
    if kind == "fill":  # fill bytes (FF) before a marker are allowed anywhere in the headers
        data = data[:2] + b"\xff\xff\xff" + data[2:]
    plain = Image.open(io.BytesIO(data))
    plain.load()
    for body in (data, data + bytes(64), data + b"\r\n"):
        assert storage.validate_image(body).image.tobytes() == plain.tobytes()
    end = data.rindex(b"\xff\xd9")
    start = data.index(b"\xff\xda")
    for fraction in (0.2, 0.6):
        cut = start + int((end - start) * fraction)
        cut -= data[cut - 1] == 0xFF  # never half of a stuffed FF 00 pair
        with pytest.raises(InvalidImage, match="JPEG"):
            storage.validate_image(data[:cut] + b"\xff\xd9")


def test_a_lock_on_a_file_removed_meanwhile_is_taken_on_the_new_one(tmp_path, monkeypatch):
    """The race removal opens: B opened the file before A removed it and let go. B must then
    lock the file the name leads to now, or a third process C could hold that one too."""
    from pylapse.storage import files as lock_module

    path = tmp_path / "x.lock"
    real_flock = lock_module.fcntl.flock
    removed = []

    def flock_after_a_removal(fd, op):  # type: ignore[no-untyped-def]
        if op & lock_module.fcntl.LOCK_EX and not removed:
            removed.append(os.fstat(fd).st_ino)
            os.unlink(path)  # the holder removes the file we opened, as it lets go
        return real_flock(fd, op)

    monkeypatch.setattr(lock_module.fcntl, "flock", flock_after_a_removal)
    fd = lock_module.lock_file(path)
    try:
        assert removed and path.is_file()
        assert os.fstat(fd).st_ino == os.stat(path).st_ino  # the lock is on the file named so
        with pytest.raises(BlockingIOError):
            lock_module.lock_file(path)  # and so it keeps a third one out
    finally:
        lock_module.unlock_file(path, fd)
    assert not path.exists()
