"""Two-pass stabilising commands, run with the real ffmpeg on frames with a known shake."""

from __future__ import annotations

import itertools
import random
import statistics
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pylapse.ffmpeg import find_ffmpeg
from pylapse.video.command import RenderOptions, build_command, build_stabilise_command
from pylapse.video.framelist import concat_list, plan_frames

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
