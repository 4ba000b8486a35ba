"""Two-pass stabilising commands, run with the real ffmpeg on frames with a known shake."""

from __future__ import annotations

import itertools
import json
import os
import random
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pylapse.ffmpeg import find_ffmpeg, stabilise_support
from pylapse.progress import Cancelled, Progress
from pylapse.video.command import RenderOptions, build_command, build_stabilise_command
from pylapse.video.framelist import concat_list, plan_frames
from pylapse.video.render import StabiliseUnavailable, render_frames

SIZE = (160, 120)


def _scene(rng: random.Random) -> Image.Image:
    """A textured still scene (vidstab tracks local contrast) with a bright square."""
    image = Image.new("L", (200, 160), 90)
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y = rng.randrange(200), rng.randrange(160)
        draw.rectangle((x, y, x + rng.randrange(3, 12), y + 4), fill=rng.randrange(0, 255))
    draw.rectangle((90, 70, 110, 90), fill=255)
    return image


def _centroid(frame: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(frame > 240)
    return float(xs.mean()), float(ys.mean())


def _positions(ffmpeg: Path, video: Path) -> list[tuple[float, float]]:
    w, h = SIZE
    raw = subprocess.run(
        [str(ffmpeg), "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w)
    return [_centroid(f) for f in frames[10:-10]]  # vidstab's ends are less corrected


def _shake(positions: list[tuple[float, float]]) -> float:
    return statistics.fmean(
        abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in itertools.pairwise(positions)
    )


def test_two_passes_steady_a_shaking_camera(tmp_path: Path) -> None:
    info = find_ffmpeg()
    if info.stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {info.stabilise_support()}")
    rng = random.Random(5)
    scene = _scene(rng)
    paths = []
    for i in range(60):  # the camera shakes by up to 6 px each way, frame by frame
        dx, dy = rng.randint(-6, 6), rng.randint(-6, 6)
        frame = scene.crop((20 + dx, 20 + dy, 20 + dx + SIZE[0], 20 + dy + SIZE[1]))
        path = tmp_path / f"f{i:03d}.png"
        frame.convert("RGB").save(path)
        paths.append(path)
    listing = tmp_path / "frames.txt"
    listing.write_text(concat_list(plan_frames(paths)))
    options = RenderOptions(fps=10, codec="h264", crf=10)
    transforms = tmp_path / "shake.trf"
    kwargs = {"fps": 10.0, "size": SIZE}
    detect = build_stabilise_command(info.path, listing, transforms, options, **kwargs)
    subprocess.run(detect, check=True)
    assert transforms.stat().st_size > 0
    shaky, steady = tmp_path / "shaky.mp4", tmp_path / "steady.mp4"
    common = {**kwargs, "frames": 60, "container": "mp4"}
    subprocess.run(build_command(info.path, listing, shaky, options, **common), check=True)
    subprocess.run(
        build_command(info.path, listing, steady, options, transforms=transforms, **common),
        check=True,
    )
    before, after = _shake(_positions(info.path, shaky)), _shake(_positions(info.path, steady))
    assert before > 4  # the injected shake is there without stabilising
    assert after * 5 < before  # measured: 7.8 px -> 0.05 px a frame


def test_a_transforms_path_the_filter_graph_would_misread_is_refused() -> None:
    with pytest.raises(ValueError, match="plain path"):
        build_stabilise_command(
            "ffmpeg", "list.txt", "/tmp/a:b.trf", RenderOptions(), fps=24.0, size=(64, 48)
        )


# --- the renderer runs both passes -------------------------------------------------------------


def _shaky_frames(folder: Path, count: int = 60) -> list[Path]:
    rng = random.Random(5)
    scene = _scene(rng)
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(count):  # the camera shakes by up to 6 px each way, frame by frame
        dx, dy = rng.randint(-6, 6), rng.randint(-6, 6)
        frame = scene.crop((20 + dx, 20 + dy, 20 + dx + SIZE[0], 20 + dy + SIZE[1]))
        path = folder / f"f{i:03d}.png"
        frame.convert("RGB").save(path)
        paths.append(path)
    return paths


def lean_ffmpeg(folder: Path) -> Path:
    """The real ffmpeg, except that its filter list has no vidstab (as a build without
    libvidstab lists it); the CLI and web tests use it too."""
    real = find_ffmpeg().path
    exe = folder / "lean" / "ffmpeg"
    exe.parent.mkdir(parents=True)
    exe.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *-filters*) "{real}" -hide_banner -filters | grep -v vidstab; exit 0;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n'
    )
    exe.chmod(0o755)
    return exe


def test_a_render_with_stabilise_steadies_the_video_and_cleans_up(tmp_path: Path) -> None:
    info = find_ffmpeg()
    if info.stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {info.stabilise_support()}")
    paths = _shaky_frames(tmp_path / "frames")
    seen: list[Progress] = []
    plain = render_frames(paths, tmp_path / "shaky.mp4", RenderOptions(fps=10, crf=10))
    steady = render_frames(
        paths, tmp_path / "steady.mp4", RenderOptions(fps=10, crf=10, stabilise=True), seen.append
    )
    before = _shake(_positions(info.path, plain.output))
    after = _shake(_positions(info.path, steady.output))
    assert before > 4 and after * 5 < before  # measured: 7.8 px -> 0.05 px a frame
    assert "vidstabtransform" not in " ".join(plain.command)
    assert "vidstabtransform=input=<stabilise transforms>" in " ".join(steady.command)
    # the detection pass is a named step, reported before the encode and up to every frame
    stages = list(dict.fromkeys(p.stage for p in seen))
    assert stages == ["stabilise", "encode"]
    assert max(p.done for p in seen if p.stage == "stabilise") == 60
    manifest = json.loads(steady.manifest.read_text())
    assert manifest["options"]["stabilise"] is True
    assert "vidstabdetect" in " ".join(manifest["stabilise_command"])
    assert manifest["stabilise_command"][-2:] == ["null", "-"]
    assert not list(Path(tempfile.gettempdir()).glob(f"pylapse-{os.getpid()}-*.stabilise.trf"))


def test_cancelling_during_the_detection_pass_leaves_nothing(tmp_path: Path) -> None:
    info = find_ffmpeg()
    if info.stabilise_support() is not None:
        pytest.skip(f"no stabilising here: {info.stabilise_support()}")
    paths = _shaky_frames(tmp_path / "frames", 30)
    cancel = threading.Event()

    def report(p: Progress) -> None:
        if p.stage == "stabilise":
            cancel.set()

    output = tmp_path / "v.mp4"
    with pytest.raises(Cancelled):
        render_frames(paths, output, RenderOptions(fps=10, stabilise=True), report, cancel)
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]
    assert not list(Path(tempfile.gettempdir()).glob(f"pylapse-{os.getpid()}-*"))


def test_an_ffmpeg_without_vidstab_is_refused_before_anything_is_encoded(tmp_path: Path) -> None:
    lean = lean_ffmpeg(tmp_path)
    assert stabilise_support(lean) is not None
    paths = _shaky_frames(tmp_path / "frames", 4)
    output = tmp_path / "v.mp4"
    with pytest.raises(StabiliseUnavailable, match=r"stabilise: .*lacks vidstabdetect"):
        render_frames(paths, output, RenderOptions(stabilise=True, ffmpeg_path=str(lean)))
    assert not output.exists()
    made = render_frames(paths, output, RenderOptions(ffmpeg_path=str(lean)))  # it still renders
    assert made.frames == 4
