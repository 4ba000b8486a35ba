"""Export benchmark: pyLapse's export against pyLapse 0.2's own method and the machine's limit.

    ./bench.sh export                     # speed on two frame sets + memory (1 k vs 10 k)
    ./bench.sh export --large 40 --small 60 --skip-memory

Frames: real photos (``../shared/testdata/exif-real``: a Samsung, an iPhone, a Nexus, a Nokia,
a Canon, a Reconyx) cropped and scaled to 4000x3000 ("large") and to 1920x1080 ("small"), made
once and cached under ``bench/.work/export-<w>x<h>/``; each set is that many hard links, one a
minute. Every frame is fitted into 1920x1080 with a timestamp and written as JPEG quality 90.

Per set, two lines (time per frame, lower is better):

* ours vs **0.2's method**: pyLapse 0.2's export re-implemented as it ran (``img_seq/image.py``
  ``ImageIO._write_single_image`` through ``utils.ParallelExecutor.run_multiprocess``): a
  process pool of ``os.cpu_count()`` workers fed ``total / (workers * 4)``-frame batches, per
  frame ``Image.open``, ``thumbnail((1920, 1080), LANCZOS)`` (draft decoding, reducing gap 2),
  ``ImageFont.truetype`` loaded for the frame, ``ImageDraw.text`` and ``save``. It is given the
  same quality as ours (0.2's ``quality`` argument; its default was 50) so both write the same
  thing. It runs on half the frames before ours and half after, so a change in machine load
  biases neither side. Goal: ours takes <= 0.5x its time (>= 2x the frames per second).
* ours vs **the limit**: our per-frame work (the export worker's own function: decode, resize,
  stamp, encode, write) run back to back in this process on one core (best of two passes over
  24 frames, before and after the runs above, averaged), divided by the cores. Goal: ours takes
  <= 1.25x that (>= 80 % of the limit).

* CPU a frame, ours vs 0.2's method (information): the CPU time (user + system) the two runs
  above spent, in this process and the pool workers below it (sampled from ``/proc``), per frame.
  Other work on a shared machine moves this far less than the wall-clock rates.
* For the 1920x1080 set, where a frame is kept at its size: one core's CPU per frame in each
  stage (open and decode, stamp, encode and write) of Pillow's way, of libjpeg-turbo's way in
  RGBX (``pylapse.imaging.samesize``, which the export takes for such frames when simplejpeg is
  installed) and in the frame's 4:2:0 planes (samesize with ``pylapse.imaging.turbo``, taken
  when the system's libturbojpeg is installed too), frame by frame in turn.

Figures measured over the sessions, and why 2x on 1080p frames is out of reach with
libjpeg-turbo: docs/benchmarks.md.

Memory: the same export on 1 000 and 10 000 frames (hard links of a few source JPEGs, smaller
frames so 10 k finish in about a minute), each in a fresh process: the parent's peak Python
allocation during ``run_export`` (tracemalloc) and the peak RSS of the worker processes.

Prints one line per measure: name, ours, baseline, ratio, goal.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bench._harness import Goal, Report
from pylapse import timeutil
from pylapse.export import worker
from pylapse.export.options import ExportOptions
from pylapse.export.run import run_export
from pylapse.imaging import process, samesize, turbo
from pylapse.imaging.fonts import DEFAULT_FONT
from pylapse.progress import Progress

FMT = "%Y-%m-%d %H:%M"
START = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
BOX = (1920, 1080)
QUALITY = 90
HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
PHOTOS = HERE.parent.parent / "shared" / "testdata" / "exif-real"
# the larger real photos there, each a different camera, scene and texture
PHOTO_NAMES = (
    "samsung_g965w_subsec6.jpg",
    "iphone6_bad_gpsdate.jpg",
    "nexus4_stale_gps.jpg",
    "nokia_8.3_5g_offset+0300.jpg",
    "canon_sx_hdr_mn_tz+0100.jpg",
    "reconyx_hf2_tzoffset-6.jpg",
    "issue308_placeholder_gps.jpg",
    "gran_turismo_empty_gps_ifd.jpg",
)


def real_sources(size: tuple[int, int], count: int = len(PHOTO_NAMES)) -> list[Path]:
    """``count`` JPEGs of ``size`` made from the real photos (centre-cropped to the aspect,
    scaled with LANCZOS, saved at quality 92 as a camera would); cached between runs."""
    folder = WORK / f"export-{size[0]}x{size[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        name = PHOTO_NAMES[i % len(PHOTO_NAMES)]
        path = folder / f"src-{i}-{Path(name).stem}.jpg"
        if not path.exists():
            with Image.open(PHOTOS / name) as photo:
                upright = ImageOps.exif_transpose(photo).convert("RGB")
            if upright.height > upright.width:  # a portrait phone frame: use it sideways
                upright = upright.transpose(Image.Transpose.ROTATE_90)
            if i >= len(PHOTO_NAMES):  # more sources than photos: mirror for a new one
                upright = upright.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            picture = ImageOps.fit(upright, size, Image.Resampling.LANCZOS)
            partial = path.with_suffix(".part")
            picture.save(partial, "JPEG", quality=92)
            partial.rename(path)
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


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- pyLapse 0.2's method ------------------------------------------------------------------------


def _v02_one(entry: tuple[str, datetime], idx: int, outputdir: str) -> str:
    """0.2's ``ImageIO._write_single_image`` with resize, keep_aspect and drawtimestamp on."""
    input_path, timestamp = entry
    im = Image.open(input_path)
    im.thumbnail(BOX, Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(im)
    font = ImageFont.truetype(str(DEFAULT_FONT), 36)  # 0.2 loaded it for every frame
    draw.text((0, 0), timestamp.strftime(FMT), (255, 255, 255), font=font)
    outputfile = os.path.join(outputdir, f"v02 {str(idx + 1).zfill(5)}.jpg")
    im.save(outputfile, "JPEG", quality=QUALITY, optimize=False)
    return outputfile


def _v02_batch(chunk: list[tuple[str, datetime]], start: int, outputdir: str) -> list[str]:
    """0.2's ``utils._batch_run``: one batch in one worker, frame after frame."""
    return [_v02_one(entry, start + i, outputdir) for i, entry in enumerate(chunk)]


def v02_method(
    frames: list[tuple[Path, datetime]], out: Path, done: Callable[[], object] | None = None
) -> float:
    """0.2's ``ParallelExecutor.run_multiprocess``; returns frames per second. ``done`` (not
    0.2's) is called when every frame is written, before the workers exit."""
    out.mkdir(parents=True, exist_ok=True)
    items = [(str(p), when) for p, when in frames]
    workers = os.cpu_count() or 4
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=workers) as pool:
        size = max(1, -(-len(items) // (workers * 4)))
        futures = [
            pool.submit(_v02_batch, items[i : i + size], i, str(out))
            for i in range(0, len(items), size)
        ]
        for future in futures:
            future.result()
        if done is not None:
            done()
    return len(items) / (time.perf_counter() - started)


# --- ours ----------------------------------------------------------------------------------------


def options() -> ExportOptions:
    return ExportOptions(
        width=BOX[0],
        height=BOX[1],
        drawtimestamp=True,
        timestamp_format=FMT,
        quality=QUALITY,
        workers=cores(),
    )


def ours(
    frames: list[tuple[Path, datetime]], out: Path, done: Callable[[], object] | None = None
) -> float:
    """Our export; returns frames per second. ``done`` is called when every frame is written,
    before the workers exit."""

    def report(progress: Progress) -> None:
        if done is not None and progress.done == progress.total:
            done()

    started = time.perf_counter()
    result = run_export(frames, out, options(), progress=report)
    assert result.written == len(frames), result.skipped[:3]
    return len(frames) / (time.perf_counter() - started)


def one_core(frames: list[tuple[Path, datetime]], out: Path, passes: int = 2) -> float:
    """Seconds per frame of the export worker's own per-frame function, back to back in this
    process (one core): the best of ``passes`` passes over ``frames``."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out)
    out.mkdir()
    worker.init_worker(options(), str(out), len(frames), os.getpid())
    chunk = [(n, worker.item(f)) for n, f in enumerate(frames, start=1)]
    worker.process_chunk(chunk[:2])  # first-use costs (font, codecs) are not per frame
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        outcomes = worker.process_chunk(chunk)
        best = min(best, (time.perf_counter() - started) / len(chunk))
        assert all(skip is None for _n, _linked, skip in outcomes), outcomes[:3]
    return best


class CpuMeter:
    """CPU seconds (user + system) spent by this process and every process below it while in
    the ``with`` block: the work a method does per frame, whatever else the machine runs.

    Pool workers are sampled from ``/proc`` (ours hang off the forkserver, which outlives the
    pool, so their time never reaches our RUSAGE_CHILDREN): every ``interval`` seconds, and by
    :meth:`sample` when the last frame is written, before they exit. The sampler's own time is
    left out; it reads every process's stat file, so it samples seldom."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.seconds = 0.0
        self._seen: dict[int, float] = {}
        self._start: dict[int, float] = {}
        self._stop = threading.Event()
        self._sampler_cpu = 0.0

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sample(self) -> None:
        for pid in _descendants(os.getpid()):
            cpu = self._cpu(pid)
            if cpu is not None:
                self._seen[pid] = max(cpu, self._seen.get(pid, 0.0))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
        self._sampler_cpu = time.thread_time()

    def __enter__(self) -> CpuMeter:
        self.sample()
        self._start = dict(self._seen)
        self._self_start = time.process_time()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        children = sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._seen.items())
        own = time.process_time() - self._self_start - self._sampler_cpu
        self.seconds = children + own


def stages(frames: list[tuple[Path, datetime]], rounds: int = 3) -> dict[str, list[float]]:
    """Seconds of CPU per frame on one core for each stage of the ways a frame kept at its
    size can take: Pillow's (open and decode; stamp; encode and write), libjpeg-turbo's in RGBX
    (pylapse.imaging.samesize) and in its planes (samesize with pylapse.imaging.turbo), frame by
    frame in turn; the best of ``rounds``."""
    opts = options()
    stamp, resize = opts.timestamp_overlay(), opts.resize_spec()
    assert stamp is not None
    out = WORK / "stages.jpg"
    ways = ["pillow"]
    if samesize.available():
        ways.append("samesize")
        if turbo.available():
            ways.append("planes")
    best = {way: [float("inf")] * 3 for way in ways}
    for round_ in range(rounds):
        spent = {way: [0.0, 0.0, 0.0] for way in ways}
        for path, taken in frames:
            for n, way in enumerate(ways):
                # a stamp text not drawn before (overlay masks are cached per text), as in an
                # export
                when = taken + timedelta(days=len(ways) * round_ + n)
                t0 = time.process_time()
                if way == "pillow":
                    image = process.open_frame(path, resize)
                    t1 = time.process_time()
                    stamp.apply(image, when)
                    t2 = time.process_time()
                    process.encode(image, out, quality=QUALITY)
                else:
                    frame = samesize.open_frame(path, resize, planes=way == "planes")
                    t1 = time.process_time()
                    assert frame is not None, path
                    stamp.apply(frame.image, when)
                    t2 = time.process_time()
                    samesize.encode(frame, out, quality=QUALITY, exif=None)
                t3 = time.process_time()
                for i, took in enumerate((t1 - t0, t2 - t1, t3 - t2)):
                    spent[way][i] += took
        for way, parts in spent.items():
            total = sum(parts) / len(frames)
            if total and total < sum(best[way]):
                best[way] = [part / len(frames) for part in parts]
    return best


def speed(report: Report, label: str, size: tuple[int, int], count: int, work: Path) -> None:
    print(f"preparing {count} frames of {size[0]}x{size[1]} ...", flush=True)
    frames = frame_set(work / f"frames-{label}", real_sources(size), count)
    n = cores()
    sample = frames[: min(len(frames), 24)]
    # the limit and 0.2's method are measured before and after ours and averaged, so a change
    # in machine load during the run (other work on a shared box) biases no side
    limit_before = one_core(sample, work / f"limit-{label}") / n
    half = max(1, count // 2)
    with CpuMeter() as v02_cpu:
        before = v02_method(frames[:half], work / f"v02a-{label}", v02_cpu.sample)
    with CpuMeter() as ours_cpu:
        ours_fps = ours(frames, work / f"ours-{label}", ours_cpu.sample)
    with CpuMeter() as v02_cpu_after:
        rest = frames[half:] or frames[:half]
        after = v02_method(rest, work / f"v02b-{label}", v02_cpu_after.sample)
    limit = (limit_before + one_core(sample, work / f"limit-{label}") / n) / 2
    v02_fps = 2 / (1 / before + 1 / after)
    v02_frames = half + len(frames[half:] or frames[:half])
    name = f"{label} {size[0]}x{size[1]}, {count} frames"
    report.add(f"{name}: vs 0.2's method", 1 / ours_fps, 1 / v02_fps, Goal.ratio(0.5))
    report.add(f"{name}: vs limit ({n} cores)", 1 / ours_fps, limit, Goal.ratio(1.25))
    # the same two exports in CPU time: what each spends on a frame, which other work on a
    # shared machine changes far less than the wall-clock rates above
    report.add(
        f"{name}: CPU a frame vs 0.2's",
        ours_cpu.seconds / count,
        (v02_cpu.seconds + v02_cpu_after.seconds) / v02_frames,
        Goal.info(),
    )
    print(
        f"  frames/s: ours {ours_fps:.2f}, 0.2's method {v02_fps:.2f} "
        f"({ours_fps / v02_fps:.2f}x), limit {1 / limit:.2f} (ours {ours_fps * limit:.0%} of it); "
        f"load average {os.getloadavg()[0]:.1f} on {n} cores",  # > cores: the box was shared
        flush=True,
    )
    if size == BOX:  # frames kept at their size: where the time of one goes, either way
        parts = stages(sample)
        for way, (decode, stamp, encode) in parts.items():
            if decode == float("inf"):
                continue
            print(
                f"  one core, {way + ' way:':<14} decode {decode * 1e3:.2f} ms, stamp "
                f"{stamp * 1e3:.2f} ms, encode+write {encode * 1e3:.2f} ms "
                f"= {(decode + stamp + encode) * 1e3:.2f} ms a frame (CPU)",
                flush=True,
            )


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
    sources = real_sources((1280, 960), 4)
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
    text = f"{name:<52}  {ours:>6.1f} MiB  {baseline:>6.1f} MiB  {ratio:>7.2f}x  {goal:<10}"
    print(f"{text}  {verdict}".rstrip(), flush=True)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--large", type=int, default=100, help="frames of 4000x3000")
    parser.add_argument("--small", type=int, default=300, help="frames of 1920x1080")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pylapse-bench-export-") as tmp:
        work = Path(tmp)
        if args.memory_child:
            print(json.dumps(memory_child(args.memory_child, work)))
            return 0

        report = Report(
            f"export: real photos -> {BOX[0]}x{BOX[1]} box + timestamp, JPEG q{QUALITY}, "
            "time per frame",
            width=52,
        )
        if args.large:  # 0 skips a set
            speed(report, "large", (4000, 3000), args.large, work)
        if args.small:
            speed(report, "small", (1920, 1080), args.small, work)
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
