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
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bench._harness import Goal, Report
from pylapse import timeutil
from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.imaging.fonts import DEFAULT_FONT

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


def _descendants(root: int) -> list[int]:
    """Every process below ``root`` (pool workers hang off the forkserver, not off us)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == pid]
        found += kids
        frontier += kids
    return found


def _peak_rss_mib(pid: int) -> float:
    """VmHWM: the most resident memory ``pid`` ever had."""
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory_child(count: int, work: Path) -> dict[str, float]:
    """One export of ``count`` frames in this (fresh) process; peaks in MiB."""
    sources = make_sources(work / "src", 4, (1280, 960))
    frames = frame_set(work / "frames", sources, count)
    options = ExportOptions(width=640, height=480, drawtimestamp=True)
    worker_peak = 0.0

    def sample(p) -> None:  # the last report arrives while the workers are still alive
        nonlocal worker_peak
        if p.done == p.total:
            peaks = [_peak_rss_mib(pid) for pid in _descendants(os.getpid())]
            worker_peak = max([worker_peak, *peaks])

    # reset this process's peak RSS so the frame generation above does not count
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = run_export(frames, work / "out", options, progress=sample)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert result.written == count
    return {
        "parent_alloc_mib": peak / 2**20,
        "parent_rss_mib": _peak_rss_mib(os.getpid()),
        "worker_rss_mib": worker_peak,
    }


def memory_line(name: str, ours: float, baseline: float, limit: float | None) -> bool:
    """A memory measure in the harness's column layout (MiB, not seconds); True if met."""
    ratio = ours / baseline
    met = limit is None or ratio <= limit
    verdict = "" if limit is None else ("PASS" if met else "MISS")
    goal = "-" if limit is None else f"<= {limit:g}x"
    text = f"{name:<36}  {ours:>6.1f} MiB  {baseline:>6.1f} MiB  {ratio:>7.2f}x  {goal:<10}"
    print(f"{text}  {verdict}".rstrip(), flush=True)
    return met


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
        # the baseline runs before and after ours, so a change in machine load during the run
        # (other work on a shared box) biases neither side
        half = max(1, args.naive_frames // 2)
        before = naive(frames[:half], work / "naive1", box)
        ours_fps = ours(frames, work / "ours", box)
        after = naive(frames[half : 2 * half], work / "naive2", box)
        naive_fps = 2 / (1 / before + 1 / after)
        report = Report(f"export: {args.frames} frames 4000x3000 -> 1920x1080 box + timestamp")
        report.add(
            f"{args.frames} frames vs naive Pillow loop",
            args.frames / ours_fps,
            args.frames / naive_fps,  # the naive loop's time per frame, for the same frames
            Goal.ratio(0.333),  # >= 3x the frames per second
        )
        print(f"frames/s: ours {ours_fps:.2f}, naive {naive_fps:.2f}", flush=True)
        if args.skip_memory:
            return report.finish()
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
        met = True
        for key, label, limit in (
            ("worker_rss_mib", "peak worker RSS, 10k vs 1k frames", 1.2),
            ("parent_alloc_mib", "parent alloc in run_export, 10k vs 1k", 1.2),
            ("parent_rss_mib", "parent RSS (with input list), 10k/1k", None),
        ):
            met &= memory_line(label, peaks[10000][key], peaks[1000][key], limit)
        code = report.finish()
        return code or (0 if met else 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
