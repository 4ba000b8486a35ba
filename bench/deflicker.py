"""Benchmark: deflicker on a real sequence with injected flicker, against ffmpeg and a median.

    ./bench.sh deflicker [--ev 0.35] [--window 13] [--seed 17] [--frames DIR]

The 80 real frames of ``../shared/testdata/sequence-real/`` (a fixed outdoor camera, one frame a
second) are the clean sequence, once as they are ("steady") and once darkened along a slow ramp
to 45 % ("dusk": a trend that must be kept). Each frame is then given a random exposure change of
up to ±EV stops (uniform in stops, a fixed seed), written losslessly (PNG), and evened out by

- ours: a real ``run_export(..., ExportOptions(deflicker=True))`` of those frames, their luma
  given as capture stores it (the export reads no extra pixels);
- ffmpeg: its ``deflicker`` filter (the real ffmpeg pylapse uses) over the same window, in each
  of its modes ``am`` (arithmetic mean) and ``pm`` (median), best of them reported;
- median: a plain rolling median of the luma curve as the target, same window and gain clamp;
- render: a real ``render_frames(..., RenderOptions(deflicker=True))`` of the same frames with
  the same stored luma (the gains applied inside ffmpeg's encode, lossless x264), against the
  clean frames rendered the same way; its baseline is the flickered frames rendered plainly.

Jitter is the mean frame-to-frame luma change that the clean sequence does not have
(``mean |Δout − Δclean|``, luma 0-255); trend error is the mean of ``|out − clean| / clean``.
Prints one line per measure: name, ours, baseline, ratio, goal. Goals: ours has at most a tenth
of the flickered input's jitter, and less than ffmpeg's best; a deflickered render has at most a
tenth of a plain render's.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.ffmpeg import find_ffmpeg
from pylapse.imaging import deflicker
from pylapse.video.command import RenderOptions
from pylapse.video.render import render_frames

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "sequence-real"


def _luma(image: Image.Image) -> float:
    """Mean luma of the whole image (ITU-R 601 weights, as Pillow's L conversion)."""
    return float(np.asarray(image.convert("L"), dtype=np.float64).mean())


def _scaled(image: Image.Image, gain: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float64) * gain
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))


def _jitter(out: list[float], clean: list[float]) -> float:
    return statistics.fmean(
        abs((out[i] - out[i - 1]) - (clean[i] - clean[i - 1])) for i in range(1, len(out))
    )


def _trend_error(out: list[float], clean: list[float]) -> float:
    return statistics.fmean(abs(o - c) / c for o, c in zip(out, clean, strict=True))


def _lumas(folder: Path) -> list[float]:
    out = []
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as image:
            out.append(_luma(image))
    return out


@dataclass
class _Frame:
    path: Path
    utc: float
    offset: int
    luma: float


def _ours(flickered: Path, out: Path, lumas: list[float], window: int) -> list[float]:
    paths = sorted(flickered.glob("*.png"))
    frames = [
        _Frame(p, 1_700_000_000.0 + i, 0, luma)
        for i, (p, luma) in enumerate(zip(paths, lumas, strict=True))
    ]
    options = ExportOptions(ext="png", deflicker=True, deflicker_window=window, workers=2)
    run_export(frames, out, options)
    return _lumas(out)


def _ffmpeg(flickered: Path, out: Path, window: int, mode: str) -> list[float]:
    ffmpeg = find_ffmpeg().path
    out.mkdir()
    subprocess.run(
        [
            str(ffmpeg),
            "-v",
            "error",
            "-y",
            "-framerate",
            "10",
            "-i",
            str(flickered / "%03d.png"),
            "-vf",
            f"format=gbrp,deflicker=size={window}:mode={mode}",
            "-pix_fmt",
            "rgb24",
            "-start_number",
            "0",
            str(out / "%03d.png"),
        ],
        check=True,
    )
    return _lumas(out)


def _video_lumas(video: Path, size: tuple[int, int]) -> list[float]:
    raw = subprocess.run(
        [str(find_ffmpeg().path), "-v", "error", "-i", str(video), "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, size[0] * size[1])
    return [float(f.mean(dtype=np.float64)) for f in frames]


def _render(folder: Path, video: Path, lumas: list[float] | None, window: int) -> list[float]:
    """The frames of ``folder`` rendered losslessly (with deflicker when ``lumas`` are given,
    as the index would store them), and the decoded video's lumas."""
    paths = sorted(folder.glob("*.png"))
    frames: list[object] = list(paths)
    if lumas is not None:
        frames = [_Frame(p, 1_700_000_000.0 + i, 0, v)
                  for i, (p, v) in enumerate(zip(paths, lumas, strict=True))]  # fmt: skip
    options = RenderOptions(fps=10, crf=0, deflicker=lumas is not None, deflicker_window=window)
    result = render_frames(frames, video, options)
    return _video_lumas(result.output, (result.width, result.height))


def _median(images: list[Image.Image], lumas: list[float], window: int) -> list[float]:
    half = window // 2
    low, high = deflicker.DEFAULT_CLAMP
    out = []
    for i, (image, luma) in enumerate(zip(images, lumas, strict=True)):
        target = statistics.median(lumas[max(0, i - half) : i + half + 1])
        out.append(_luma(_scaled(image, min(max(target / luma, low), high))))
    return out


def _line(name: str, ours: float, baseline: float | None, goal: str, met: bool | None) -> None:
    ratio = f"{ours / baseline:.3g}x" if baseline else "-"
    base = f"{baseline:.3f}" if baseline is not None else "-"
    verdict = "" if met is None else ("PASS" if met else "MISS")
    print(f"{name:<40}  {ours:>8.3f}  {base:>8}  {ratio:>8}  {goal:<10}  {verdict}".rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ev", type=float, default=0.35, help="flicker up to ±EV stops (0.35)")
    parser.add_argument("--window", type=int, default=deflicker.DEFAULT_WINDOW)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--frames", type=Path, default=REAL / "frames")
    args = parser.parse_args()
    sources = sorted(args.frames.glob("*.jpg"))
    if not sources:
        print(f"no frames in {args.frames}", file=sys.stderr)
        return 2
    real = []
    for path in sources:
        with Image.open(path) as image:
            real.append(image.convert("RGB"))
    print(
        f"deflicker: {len(real)} real frames {real[0].size[0]}x{real[0].size[1]}, flicker up to "
        f"±{args.ev} EV (seed {args.seed}), window {args.window}, gain clamp "
        f"x{deflicker.DEFAULT_CLAMP[0]}..x{deflicker.DEFAULT_CLAMP[1]}"
    )
    print(
        f"{'measure (luma 0-255; error: share)':<40}  {'ours':>8}  {'baseline':>8}  "
        f"{'ratio':>8}  {'goal':<10}  result"
    )
    missed = 0
    count = len(real)
    for scene, ramp in (("steady", 1.0), ("dusk", 0.45)):
        rng = random.Random(args.seed)
        clean_images = [_scaled(im, 1 + (ramp - 1) * i / (count - 1)) for i, im in enumerate(real)]
        clean = [_luma(im) for im in clean_images]
        with tempfile.TemporaryDirectory(prefix="bench-deflicker-") as tmp:
            root = Path(tmp)
            flickered = root / "flickered"
            flickered.mkdir()
            clean_dir = root / "clean"
            clean_dir.mkdir()
            for i, image in enumerate(clean_images):
                image.save(clean_dir / f"{i:03d}.png", compress_level=1)
            images = []
            for i, image in enumerate(clean_images):
                shaky = _scaled(image, 2 ** rng.uniform(-args.ev, args.ev))
                shaky.save(flickered / f"{i:03d}.png", compress_level=1)
                images.append(shaky)
            stored = [deflicker.measure_luma(im) for im in images]  # as capture stores it
            given = [_luma(im) for im in images]
            ours = _ours(flickered, root / "ours", stored, args.window)
            ffmpeg = {
                mode: _ffmpeg(flickered, root / f"ff-{mode}", args.window, mode)
                for mode in ("am", "pm")
            }
            best_mode = min(ffmpeg, key=lambda m: _jitter(ffmpeg[m], clean))
            median = _median(images, given, args.window)
            r_clean = _render(clean_dir, root / "clean.mp4", None, args.window)
            r_off = _render(flickered, root / "off.mp4", None, args.window)
            r_on = _render(flickered, root / "on.mp4", stored, args.window)
        j_in, j_ours = _jitter(given, clean), _jitter(ours, clean)
        j_ff, j_med = _jitter(ffmpeg[best_mode], clean), _jitter(median, clean)
        print(
            f"-- {scene}: clean jitter {_jitter(clean, [0.0] * count):.3f} "
            f"(the scene's own), clean mean luma {statistics.fmean(clean):.1f}"
        )
        goal_in = j_ours * 10 <= j_in
        goal_ff = j_ours < j_ff
        missed += (not goal_in) + (not goal_ff)
        _line(f"{scene} jitter: ours vs flickered input", j_ours, j_in, "<= 0.1x", goal_in)
        _line(f"{scene} jitter: ours vs ffmpeg {best_mode}", j_ours, j_ff, "< 1x", goal_ff)
        for mode in sorted(ffmpeg):
            if mode != best_mode:
                _line(
                    f"{scene} jitter: ours vs ffmpeg {mode}",
                    j_ours,
                    _jitter(ffmpeg[mode], clean),
                    "-",
                    None,
                )
        _line(f"{scene} jitter: ours vs plain median", j_ours, j_med, "-", None)
        j_r_on, j_r_off = _jitter(r_on, r_clean), _jitter(r_off, r_clean)
        goal_render = j_r_on * 10 <= j_r_off
        missed += not goal_render
        _line(f"{scene} render jitter: deflicker vs plain", j_r_on, j_r_off, "<= 0.1x",
              goal_render)  # fmt: skip
        _line(f"{scene} render jitter vs export jitter", j_r_on, j_ours, "-", None)
        _line(f"{scene} render trend error vs input", _trend_error(r_on, r_clean),
              _trend_error(r_off, r_clean), "-", None)  # fmt: skip
        _line(
            f"{scene} trend error: ours vs input",
            _trend_error(ours, clean),
            _trend_error(given, clean),
            "-",
            None,
        )
        _line(
            f"{scene} trend error: ffmpeg {best_mode} / median",
            _trend_error(ffmpeg[best_mode], clean),
            _trend_error(median, clean),
            "-",
            None,
        )
        if not math.isfinite(j_ours):
            missed += 1
    print(f"{6 - missed}/6 goals met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
