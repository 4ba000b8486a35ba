"""Deflicker on renders: the gains (export's, from the luma curve) applied inside the encode by
sendcmd + eq, measured on the decoded video with the real ffmpeg."""

from __future__ import annotations

import itertools
import json
import random
import statistics
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pylapse.ffmpeg import find_ffmpeg
from pylapse.imaging.deflicker import measure_luma
from pylapse.index.frame import Frame
from pylapse.progress import Progress
from pylapse.video.command import RenderOptions, check_options, tone_filter, tone_script
from pylapse.video.deflicker import entry_gains, frame_gains
from pylapse.video.framelist import ListEntry
from pylapse.video.render import render_frames, render_sequence_to_video, render_steps
from pylapse.video.temps import sweep_render_temps

SIZE = (192, 144)
FRAMES = 30


def _scaled(image: Image.Image, gain: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float64) * gain
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))


def _real_frames() -> list[Image.Image]:
    from tests.conftest import shared_testdata

    folder = shared_testdata("sequence-real") / "frames"
    out = []
    for path in sorted(folder.glob("*.jpg"))[:FRAMES]:
        with Image.open(path) as image:
            out.append(image.convert("RGB").resize(SIZE, Image.Resampling.BOX))
    return out


def _write(images: list[Image.Image], folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for i, image in enumerate(images):
        path = folder / f"f{i:03d}.png"  # lossless: the injected flicker is exactly known
        image.save(path, compress_level=1)
        paths.append(path)
    return paths


def _frames(paths: list[Path], lumas: list[float | None]) -> list[Frame]:
    """Index frames as a selection gives them, each with its stored luma."""
    return [
        Frame(i, "cam", p, 1_700_000_000.0 + 60 * i, 0, None, None, None, None, luma)
        for i, (p, luma) in enumerate(zip(paths, lumas, strict=True))
    ]


def decoded_lumas(video: Path, size: tuple[int, int] = SIZE) -> list[float]:
    """Each decoded frame's mean luma (the other render tests measure videos with it too)."""
    raw = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(video), "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size[1] * size[0])
    return [float(f.mean()) for f in frames]


def _jitter(out: list[float], clean: list[float]) -> float:
    """Mean frame-to-frame luma change that the clean video does not have."""
    return statistics.fmean(
        abs((out[i] - out[i - 1]) - (clean[i] - clean[i - 1])) for i in range(1, len(out))
    )


def _render(frames: object, video: Path, **options: object) -> tuple[list[float], object]:
    result = render_frames(frames, video, RenderOptions(fps=10, crf=12, **options))  # type: ignore[arg-type]
    return decoded_lumas(video), result


def test_a_render_with_deflicker_has_a_fraction_of_the_injected_jitter(tmp_path: Path) -> None:
    clean_images = _real_frames()
    rng = random.Random(11)
    shaky = [_scaled(im, 2 ** rng.uniform(-0.35, 0.35)) for im in clean_images]
    clean_paths = _write(clean_images, tmp_path / "clean")
    paths = _write(shaky, tmp_path / "flickered")
    clean, _ = _render(clean_paths, tmp_path / "clean.mp4")
    off, plain = _render(paths, tmp_path / "off.mp4")
    stored = _frames(paths, [measure_luma(im) for im in shaky])  # as capture stores it
    on, made = _render(stored, tmp_path / "on.mp4", deflicker=True)
    measured, _ = _render(paths, tmp_path / "measured.mp4", deflicker=True)
    j_off, j_on, j_measured = (_jitter(v, clean) for v in (off, on, measured))
    # measured on these 30 real frames: 17.4 -> 1.6, from stored and measured luma alike
    assert j_off > 8  # the injected flicker is in the plain render
    assert j_on * 8 < j_off and j_measured * 8 < j_off
    # off: the command is the plain one (no filter added), so the render is unchanged
    assert "sendcmd" not in " ".join(plain.command)  # type: ignore[attr-defined]
    assert "sendcmd" in " ".join(made.command)  # type: ignore[attr-defined]
    assert "<deflicker commands>" in " ".join(made.command)  # type: ignore[attr-defined]
    manifest = made.manifest.read_text()  # type: ignore[attr-defined]
    assert '"deflicker": {' in manifest and '"changed": ' in manifest
    assert sweep_render_temps(tmp_path) == []  # its sendcmd file is gone with the render


def test_the_stored_luma_drives_the_gains_and_a_frame_without_one_is_left(tmp_path: Path) -> None:
    images = _real_frames()
    paths = _write(images, tmp_path / "frames")
    truth: list[float | None] = [measure_luma(im) for im in images]
    told = list(truth)
    assert told[12] is not None
    told[12] *= 1.4  # the index says frame 12 is brighter than it is: deflicker darkens it
    told[20] = None  # no luma stored for frame 20: it keeps its brightness
    off, _ = _render(paths, tmp_path / "off.mp4")
    on, _ = _render(_frames(paths, told), tmp_path / "on.mp4", deflicker=True)
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    assert ratios[12] == pytest.approx(1 / 1.4, abs=0.04)
    assert ratios[20] == pytest.approx(1.0, abs=0.01)
    assert statistics.fmean(abs(r - 1) for i, r in enumerate(ratios) if i != 12) < 0.02


def test_the_gain_is_exact_on_luma_and_within_a_level_on_chroma(tmp_path: Path) -> None:
    """eq's levels are round(16 + gain * (Y - 16)) in the TV range the chain converts to (an
    RGB multiply, clipped at white); chroma about 128 within one level; with both ffmpegs."""
    rng = np.random.default_rng(3)
    paths = []
    for i in range(4):
        path = tmp_path / f"n{i}.jpg"
        Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(path, quality=95)
        paths.append(path)
    listing = tmp_path / "list.txt"
    listing.write_text("ffconcat version 1.0\n" + "".join(f"file '{p}'\n" for p in paths))
    gains = [1.3, 0.7, 1.1, 1.0]
    script = tmp_path / "tones.txt"
    script.write_text(tone_script(list(enumerate(gains)), 10.0))
    system = [p for p in ["/usr/bin/ffmpeg"] if Path(p).exists()]  # another version, if any
    for ffmpeg in sorted({str(find_ffmpeg().path), *system}):

        def planes(chain: str, exe: str = ffmpeg) -> np.ndarray:
            raw = subprocess.run(
                [exe, "-v", "error", "-r", "10", "-f", "concat", "-safe", "0", "-i",
                 str(listing), "-vf", f"scale=out_range=tv,{chain}format=yuv420p", "-f",
                 "rawvideo", "-"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
            return np.frombuffer(raw, dtype=np.uint8).reshape(4, -1).astype(np.float64)

        plain, toned = planes(""), planes(tone_filter(script) + ",")
        luma = 64 * 48
        for k, gain in enumerate(gains):
            want_y = np.clip(np.floor(16 + (plain[k, :luma] - 16) * gain + 0.5), 16, 235)
            want_c = np.clip(np.floor(128 + (plain[k, luma:] - 128) * gain + 0.5), 16, 240)
            assert np.array_equal(toned[k, :luma], want_y), (ffmpeg, k)
            assert np.abs(toned[k, luma:] - want_c).max() <= 1, (ffmpeg, k)
        assert toned[0, :luma].max() <= 235  # clipped at white, as an RGB multiply is


def test_the_script_changes_the_gain_only_where_it_changes() -> None:
    assert tone_script([(0, 1.0), (1, 1.00001)], 24.0) == ""  # nothing to do: no filter
    script = tone_script([(0, 1.2), (1, 1.2), (3, 0.9)], 10.0)
    lines = script.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("0.000000 eq contrast 1.19531250, eq brightness ")
    assert lines[1].startswith("0.250000 ")  # half a frame before frame 3 (t = 0.3 s)
    assert all(line.endswith(";") and line.count(" eq ") == 3 for line in lines)


def test_gains_follow_repeats_and_frames_without_luma_keep_theirs(tmp_path: Path) -> None:
    entries = [ListEntry(f"/f{i}.jpg", 2 if i == 1 else 1, luma=100.0) for i in range(13)]
    entries[5] = ListEntry("/f5.jpg", 1, luma=140.0)
    entries[8] = ListEntry("/f8.jpg", 1, luma=None)
    by_path = frame_gains(entries, 13, 1.0)
    assert by_path["/f5.jpg"] == pytest.approx(100 / 140, abs=0.02)
    assert by_path["/f8.jpg"] == 1.0
    starts = [frame for frame, _ in entry_gains(entries, by_path)]
    assert starts[:4] == [0, 1, 3, 4]  # frame 1 is shown twice


def test_deflicker_settings_are_checked_and_declare_their_steps() -> None:
    with pytest.raises(ValueError, match="deflicker_window must be 3-1001"):
        check_options(RenderOptions(deflicker=True, deflicker_window=2))
    with pytest.raises(ValueError, match="deflicker_strength must be 0-1"):
        check_options(RenderOptions(deflicker=True, deflicker_strength=1.5))
    assert list(render_steps(RenderOptions())) == ["encode"]
    steps = render_steps(RenderOptions(deflicker=True, stabilise=True))
    assert list(steps) == ["deflicker", "stabilise", "encode"]


def test_measuring_the_curve_is_reported_as_its_own_stage(tmp_path: Path) -> None:
    paths = _write(_real_frames()[:8], tmp_path / "frames")
    seen: list[Progress] = []
    render_frames(paths, tmp_path / "v.mp4", RenderOptions(fps=10, deflicker=True), seen.append)
    stages = list(dict.fromkeys(p.stage for p in seen))
    assert stages == ["deflicker", "encode"]
    assert any(p.stage == "deflicker" and p.done == 8 for p in seen)


def test_render_sequence_to_video_takes_the_options(tmp_path: Path) -> None:
    rng = random.Random(2)
    images = [_scaled(im, 2 ** rng.uniform(-0.3, 0.3)) for im in _real_frames()[:16]]
    folder = tmp_path / "frames"
    _write(images, folder)
    plain = render_sequence_to_video(folder, tmp_path / "plain.mp4", fps=8, pattern="*.png",
                                     progress=False)  # fmt: skip
    even = render_sequence_to_video(folder, tmp_path / "even.mp4", fps=8, pattern="*.png",
                                    progress=False, deflicker=True, deflicker_window=9)  # fmt: skip
    options = json.loads(Path(even + ".json").read_text())["options"]
    assert options["deflicker"] is True and options["deflicker_window"] == 9
    rough = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(decoded_lumas(Path(plain))))
    smooth = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(decoded_lumas(Path(even))))
    assert smooth * 2 < rough


def test_a_gif_is_deflickered_too(tmp_path: Path) -> None:
    """A GIF's chain goes to TV range for the gains as the others do; its palette pass sees the
    deflickered frames."""
    rng = random.Random(8)
    images = [_scaled(im, 2 ** rng.uniform(-0.35, 0.35)) for im in _real_frames()[:20]]
    paths = _write(images, tmp_path / "frames")
    stored = _frames(paths, [measure_luma(im) for im in images])
    render_frames(paths, tmp_path / "off.gif", RenderOptions(fps=10, codec="gif"))
    gif = RenderOptions(fps=10, codec="gif", deflicker=True)
    made = render_frames(stored, tmp_path / "on.gif", gif)
    off, on = decoded_lumas(tmp_path / "off.gif"), decoded_lumas(made.output)

    def jitter(values: list[float]) -> float:
        return statistics.fmean(abs(b - a) for a, b in itertools.pairwise(values))

    assert jitter(on) * 3 < jitter(off)
    assert "sendcmd" in " ".join(json.loads(made.manifest.read_text())["palette_command"])
