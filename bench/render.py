"""Benchmark: pylapse's render against a bare ``ffmpeg -f concat`` run with identical options.

    ./bench.sh render [--frames 300] [--size 1920x1080] [--rounds 4] [--speeds draft,final]
                      [--segment-days 30] [--segment-frames 288] [--segments-only]

Both sides encode the same concat list with the same ffmpeg and the same arguments; ours adds
what pylapse does around it (frame planning, the list file, ``-progress`` parsing and callbacks,
the temp name and rename, the manifest). Rounds alternate baseline/ours (ABBA). Measures: wall
time (fastest and median run of each side) and CPU time (ffmpeg plus our Python), which other
load on a shared machine disturbs far less than wall time. Each render speed (the form's "fast
draft" and "final quality") is measured on its own, and its frames/s (ours, fastest run) is
printed too, against the bare ffmpeg's. Prints one line per measure: name, ours, baseline,
ratio, goal.

The per-day segment cache (:mod:`pylapse.video.segments`) on ``--segment-days`` days of
``--segment-frames`` small frames (480x270) each: extending the video by one day (warm cache,
one new day) against encoding that one day alone (goal <= 1.3x), and the whole render from a
warm cache against a cold one, i.e. the plain one-piece render a user runs without the cache
(goal >= 10x faster); the cold segmented render against the plain one is printed too. The
join's fixed cost (about 0.1 s of CPU for 31 segments) is why the extend ratio falls as days grow.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from pylapse.ffmpeg import find_ffmpeg
from pylapse.video.command import RenderOptions, parse_size
from pylapse.video.framelist import concat_list, plan_frames
from pylapse.video.render import render_frames
from pylapse.video.segments import render_segmented

GOAL = 1.05
EXTEND_GOAL = 1.3  # extending by a day <= 1.3x encoding that day alone
WARM_GOAL = 10.0  # a warm-cache render >= 10x faster than a cold one


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


@dataclass(frozen=True)
class _Shot:
    """An index frame as renders of a collection get it (with the file's size and mtime)."""

    path: Path
    utc: float
    offset: int
    size: int
    mtime: float


def _segment_days(folder: Path, days: int, per_day: int) -> list[list[_Shot]]:
    """``days`` days of ``per_day`` small frames each, spread evenly over the (UTC) day."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = make_frames(folder, days * per_day, (480, 270))
    start, step = datetime(2026, 5, 1, tzinfo=UTC), timedelta(days=1) / per_day
    out: list[list[_Shot]] = []
    for d in range(days):
        day = start + timedelta(days=d)
        mine = paths[d * per_day:(d + 1) * per_day]
        out.append([_Shot(p, (day + i * step).timestamp(), 0,
                          p.stat().st_size, p.stat().st_mtime)
                    for i, p in enumerate(mine)])  # fmt: skip
    return out


def _bench_segments(folder: Path, days: int, per_day: int, rounds: int) -> None:
    shots = _segment_days(folder / "seg-frames", days + 1, per_day)
    month = [s for day in shots[:days] for s in day]
    options = RenderOptions(fps=24, codec="h264", speed="draft")
    cache = folder / "seg-cache"

    def timed(fn: Callable[[], object]) -> tuple[float, float]:
        t, c = time.perf_counter(), _cpu()
        fn()
        return time.perf_counter() - t, _cpu() - c

    plain = timed(lambda: render_frames(month, folder / "plain.mp4", options))
    cold = timed(lambda: render_segmented(month, folder / "seg.mp4", options, cache))
    warm = min(timed(lambda: render_segmented(month, folder / "seg.mp4", options, cache))
               for _ in range(rounds))  # fmt: skip
    extend, alone = [], []
    longer = [*month, *shots[days]]
    for _ in range(rounds):  # ABBA: neither side always runs first
        made = render_segmented(month, folder / "seg.mp4", options, cache)
        for stale in made.folder.glob(_day_name(shots[days]) + ".*"):
            stale.unlink()  # the new day is new again in every round
        sides = [
            (lambda: render_frames(shots[days], folder / "day.mp4", options), alone),
            (lambda: render_segmented(longer, folder / "seg.mp4", options, cache), extend),
        ]
        for fn, into in sides if _ % 2 == 0 else sides[::-1]:
            into.append(timed(fn))
    print(f"# segments: plain {_r(list(plain))}, cold {_r(list(cold))}, warm {_r(list(warm))} "
          f"(wall, cpu); extend {extend}, day alone {alone}", file=sys.stderr)  # fmt: skip
    name = f"segments_{days}d_x{per_day}_270p_draft"
    for i, label in ((0, "wall"), (1, "cpu")):
        e = statistics.median(x[i] for x in extend)
        a = statistics.median(x[i] for x in alone)
        print(f"{name}_extend_by_a_day_{label} {e:.3f}s {a:.3f}s {e / a:.3f} <={EXTEND_GOAL}")
    for i, label in ((0, "wall"), (1, "cpu")):
        w, p = warm[i], plain[i]
        print(f"{name}_warm_vs_cold_full_{label} {w:.3f}s {p:.3f}s {p / w:.1f}x >={WARM_GOAL}x")
    print(f"{name}_cold_segmented_vs_plain_wall {cold[0]:.3f}s {plain[0]:.3f}s "
          f"{cold[0] / plain[0]:.3f} (what segmenting costs once)")


def _day_name(day: list[_Shot]) -> str:
    return datetime.fromtimestamp(day[0].utc, UTC).date().isoformat()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--speeds", default="draft,final", help="render speeds, comma-separated")
    parser.add_argument("--segment-days", type=int, default=30, help="0: no segment cache lines")
    parser.add_argument("--segment-frames", type=int, default=288,
                        help="frames per day (288: one every 5 minutes)")
    parser.add_argument("--segments-only", action="store_true")
    args = parser.parse_args()
    size = parse_size(args.size)
    info = find_ffmpeg()
    info.version, info.encoders  # noqa: B018  # probe once, as a long-running process would
    with tempfile.TemporaryDirectory(prefix="pylapse-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        paths = [] if args.segments_only else make_frames(folder, args.frames, size)
        print(f"# {args.frames} frames {args.size} made in {time.perf_counter() - started:.1f} s;"
              f" ffmpeg {info.version} ({info.source})", file=sys.stderr)  # fmt: skip
        if args.segment_days:
            _bench_segments(folder, args.segment_days, args.segment_frames, min(args.rounds, 3))
        for speed in [] if args.segments_only else args.speeds.split(","):
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
