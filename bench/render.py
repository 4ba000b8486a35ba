"""Benchmark: pylapse's render against a bare ``ffmpeg -f concat`` run with identical options.

    ./bench.sh render [--frames 300] [--size 1920x1080] [--rounds 4] [--speeds draft,final]

Both sides encode the same concat list with the same ffmpeg and the same arguments; ours adds
what pylapse does around it (frame planning, the list file, ``-progress`` parsing and callbacks,
the temp name and rename, the manifest). Rounds alternate baseline/ours (ABBA). Measures: wall
time (fastest and median run of each side) and CPU time (ffmpeg plus our Python), which other
load on a shared machine disturbs far less than wall time. Each render speed (the form's "fast
draft" and "final quality") is measured on its own, and its frames/s (ours, fastest run) is
printed too, against the bare ffmpeg's. Prints one line per measure: name, ours, baseline,
ratio, goal.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from pylapse.ffmpeg import find_ffmpeg
from pylapse.video.command import RenderOptions, parse_size
from pylapse.video.framelist import concat_list, plan_frames
from pylapse.video.render import render_frames

GOAL = 1.05


def _cpu() -> float:
    """CPU seconds of this process and its finished children: ffmpeg plus our Python."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _r(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


def make_frames(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """A sky-like gradient with a moving disc and a grid: realistic work for x264."""
    w, h = size
    base = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    paths = []
    for i in range(count):
        image = base.copy()
        draw = ImageDraw.Draw(image)
        x = (i * 6) % w
        draw.ellipse((x, h // 4, x + h // 5, h // 4 + h // 5), fill=(250, 220, 120))
        for gx in range(0, w, 160):
            draw.line((gx, h * 2 // 3, gx + (i % 40), h), fill=(40, 90, 40), width=6)
        path = folder / f"frame-{i:05d}.jpg"
        image.save(path, quality=88)
        paths.append(path)
    return paths


def _measure(
    folder: Path, paths: list[Path], options: RenderOptions, rounds: int
) -> tuple[list[float], list[float], list[float], list[float]]:
    """(ours wall, baseline wall, ours cpu, baseline cpu) over ``rounds`` ABBA rounds."""
    list_file = folder / "list.txt"
    list_file.write_text(concat_list(plan_frames(paths, 24)), encoding="utf-8")
    baseline_out, ours_out = folder / "baseline.mp4", folder / "ours.mp4"
    # Our exact command, pointed at the list above and a plain output name.
    probe = render_frames(paths[:2], folder / "probe.mp4", options, if_exists="replace")
    command = [
        str(list_file) if a == "<concat list>" else a
        for a in probe.command[:-1]
    ] + [str(baseline_out)]  # fmt: skip
    command[command.index("-frames:v") + 1] = str(len(paths))
    ours: list[float] = []
    base: list[float] = []
    ours_cpu: list[float] = []
    base_cpu: list[float] = []

    def timed(fn: Callable[[], None], wall: list[float], cpu: list[float]) -> None:
        t, c = time.perf_counter(), _cpu()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)

    def run_baseline() -> None:
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL)

    def run_ours() -> None:
        render_frames(paths, ours_out, options, progress=lambda p: None, if_exists="replace")

    for r in range(rounds):  # ABBA order: neither side always runs first
        sides = [(run_baseline, base, base_cpu), (run_ours, ours, ours_cpu)]
        for side in sides if r % 2 == 0 else sides[::-1]:
            timed(*side)
    return ours, base, ours_cpu, base_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--speeds", default="draft,final", help="render speeds, comma-separated")
    args = parser.parse_args()
    size = parse_size(args.size)
    info = find_ffmpeg()
    info.version, info.encoders  # noqa: B018  # probe once, as a long-running process would
    with tempfile.TemporaryDirectory(prefix="pylapse-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        paths = make_frames(folder, args.frames, size)
        print(f"# {args.frames} frames {args.size} made in {time.perf_counter() - started:.1f} s;"
              f" ffmpeg {info.version} ({info.source})", file=sys.stderr)  # fmt: skip
        for speed in args.speeds.split(","):
            options = RenderOptions(fps=24, codec="h264", speed=speed)
            ours, base, ours_cpu, base_cpu = _measure(folder, paths, options, args.rounds)
            print(f"# {speed}: wall: baseline {_r(base)}, ours {_r(ours)}; cpu: baseline "
                  f"{_r(base_cpu)}, ours {_r(ours_cpu)}", file=sys.stderr)  # fmt: skip
            name = f"render_{args.frames}x{size[1]}p_x264_{speed}"
            for label, o, b in (
                ("wall_min", min(ours), min(base)),
                ("wall_median", statistics.median(ours), statistics.median(base)),
                ("cpu_median", statistics.median(ours_cpu), statistics.median(base_cpu)),
            ):
                print(f"{name}_{label} {o:.3f}s {b:.3f}s {o / b:.3f} <={GOAL}")
            fps, base_fps = args.frames / min(ours), args.frames / min(base)
            print(f"{name}_frames_per_s {fps:.1f} {base_fps:.1f} {base_fps / fps:.3f} <={GOAL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
