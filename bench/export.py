"""Export benchmark: pyLapse's parallel export against a naive one-process Pillow loop.

    ./bench.sh export                     # speed (200 frames 4000x3000) + memory (1 k vs 10 k)
    ./bench.sh export --frames 50 --skip-memory

Speed: 200 frames of 4000x3000 -> fit into 1920x1080 with a timestamp overlay. The baseline is
what the original pyLapse did per frame: full-size decode, font loaded per frame, one process;
it runs on the first ``--naive-frames`` frames of the same set in the same run (frames/s is
compared, so the sample size does not bias the ratio).

Memory: the same export on 1 000 and 10 000 frames (hard links of a few source JPEGs, smaller
frames so 10 k finish in about a minute), each in a fresh process: the parent's peak Python
allocation during ``run_export`` (tracemalloc) and the peak RSS of the worker processes.

Prints one line per measure: name, ours, baseline, ratio, goal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFont, ImageOps  # noqa: E402

from pylapse import timeutil  # noqa: E402
from pylapse.export import ExportOptions, run_export  # noqa: E402
from pylapse.imaging.fonts import DEFAULT_FONT  # noqa: E402

FMT = "%Y-%m-%d %H:%M"
START = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def make_sources(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """``count`` distinct camera-like JPEGs: a sky gradient, a horizon, sensor noise."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    w, h = size
    for i in range(count):
        sky = Image.linear_gradient("L").resize((w, h)).convert("RGB")
        sky = Image.merge(
            "RGB",
            [
                c.point(lambda v, k=k, i=i: v // (k + 1) + 40 + 10 * i)
                for k, c in enumerate(sky.split())
            ],
        )
        noise = Image.effect_noise((w // 4, h // 4), 25).resize((w, h)).convert("RGB")
        image = Image.blend(sky, noise, 0.25)
        ImageDraw.Draw(image).rectangle((0, int(h * 0.7), w, h), fill=(40 + 5 * i, 70, 30))
        path = folder / f"src-{i}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def frame_set(folder: Path, sources: list[Path], count: int) -> list[tuple[Path, datetime]]:
    """``count`` frame files (hard links of ``sources``), one a minute, Tokyo time."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for i in range(count):
        path = folder / f"cam-{i:06d}.jpg"
        os.link(sources[i % len(sources)], path)
        when = timeutil.from_utc((START + timedelta(minutes=i)).timestamp(), 9 * 3600)
        frames.append((path, when))
    return frames


def naive(frames: list[tuple[Path, datetime]], out: Path, box: tuple[int, int]) -> float:
    """The original pyLapse way; returns frames per second."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for number, (path, when) in enumerate(frames, start=1):
        image = ImageOps.exif_transpose(Image.open(path))  # full-size decode
        scale = min(box[0] / image.width, box[1] / image.height)
        image = image.resize(
            (round(image.width * scale), round(image.height * scale)), Image.LANCZOS
        )
        size = round(0.04 * image.height)
        font = ImageFont.truetype(str(DEFAULT_FONT), size)  # loaded for every frame
        draw = ImageDraw.Draw(image)
        text = when.strftime(FMT)
        _left, _top, right, bottom = draw.textbbox((0, 0), text, font=font, stroke_width=3)
        xy = (image.width - right - 20, image.height - bottom - 20)
        draw.text(xy, text, font=font, fill="white", stroke_width=3, stroke_fill="black")
        image.save(out / f"{number:06d}.jpg", quality=90)
    return len(frames) / (time.perf_counter() - started)


def ours(frames: list[tuple[Path, datetime]], out: Path, box: tuple[int, int]) -> float:
    options = ExportOptions(width=box[0], height=box[1], drawtimestamp=True, timestamp_format=FMT)
    started = time.perf_counter()
    result = run_export(frames, out, options)
    assert result.written == len(frames), result.skipped[:3]
    return len(frames) / (time.perf_counter() - started)


def memory_child(count: int, work: Path) -> dict[str, float]:
    """One export of ``count`` frames in this (fresh) process; peaks in MiB."""
    sources = make_sources(work / "src", 4, (1280, 960))
    frames = frame_set(work / "frames", sources, count)
    options = ExportOptions(width=640, height=480, drawtimestamp=True)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = run_export(frames, work / "out", options)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert result.written == count
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"parent_alloc_mib": peak / 2**20, "worker_rss_mib": children}


def line(name: str, value: str, baseline: str, ratio: str, goal: str) -> None:
    print(f"{name:<34} {value:>14} {baseline:>14} {ratio:>8}  {goal}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--naive-frames", type=int, default=40)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pylapse-bench-export-") as tmp:
        work = Path(tmp)
        if args.memory_child:
            print(json.dumps(memory_child(args.memory_child, work)))
            return 0

        print(f"preparing {args.frames} frames of 4000x3000 ...", flush=True)
        sources = make_sources(work / "src", 8, (4000, 3000))
        frames = frame_set(work / "frames", sources, args.frames)
        box = (1920, 1080)
        ours_fps = ours(frames, work / "ours", box)
        naive_fps = naive(frames[: args.naive_frames], work / "naive", box)
        line("measure", "ours", "baseline", "ratio", "goal")
        line(
            f"export {args.frames}x4000x3000 frames/s",
            f"{ours_fps:.2f}",
            f"{naive_fps:.2f}",
            f"{ours_fps / naive_fps:.2f}x",
            ">= 3x",
        )

        if args.skip_memory:
            return 0
        peaks = {}
        for count in (1000, 10000):
            print(f"memory run: {count} frames of 1280x960 in a fresh process ...", flush=True)
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", str(count)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            peaks[count] = json.loads(out.strip().splitlines()[-1])
        for key, label in (
            ("worker_rss_mib", "peak worker RSS MiB 10k vs 1k"),
            ("parent_alloc_mib", "peak parent alloc MiB 10k vs 1k"),
        ):
            big, small = peaks[10000][key], peaks[1000][key]
            line(label, f"{big:.1f}", f"{small:.1f}", f"{big / small:.2f}x", "~1.0x (flat)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
