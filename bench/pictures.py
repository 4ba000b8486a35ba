"""Pictures (issue 18 §3): are daystrips, time slices and stacks decode-bound, is their memory flat,
and is the colour map of a year as quick as reading its colours?

* **decode**: daystrip, time slice, max and min stack of the same frames at half scale against the
  bare reduced-scale decode of those frames on every core (the faster of a thread pool and a
  process pool that only decode). Goal: at least 80 % of the bare rate (ours <= 1.25x its time).
  Frames: the real 768x576 sequence of ../shared (when present) and generated 1920x1080 JPEGs,
  each list repeated to the asked count (the page cache holds them: decode is what is measured).
* **memory**: the peak RSS of a process making a stack and a daystrip (1/8 scale, decoding on
  its own threads, so one process holds everything) of N frames,
  at two sizes (default 1,000 and 20,000; ``--rss-sizes 1000,100000`` for the issue's 100 k).
  Goal: the larger run's peak within 1.2x of the smaller's (the daystrip's own picture, which
  grows by a row per frame by design, is subtracted).
* **colormap**: the colour map of a year at 10 s (3.15 M frames, an index generated once under
  ``bench/.work/pictures/``) against a bare ``SELECT`` of the same columns with ``fetchall``.
  Goal: <= 3x.

    ./bench.sh pictures [--part decode|memory|colormap] [--frames N] [--rss-sizes A,B]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from bench._harness import Goal, Report, best_of, fmt_seconds, publish_tree

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "pictures"
REAL = HERE.parent.parent / "shared" / "testdata" / "sequence-real" / "frames"
YEAR = 2025
YEAR_FRAMES = 365 * 8640  # a frame every 10 s
DECODE_GOAL = Goal.ratio(1.25)  # ours takes at most 1/0.8 of the bare decode's time
CORES = max(1, len(os.sched_getaffinity(0)))


# -- frames --------------------------------------------------------------------------------------


def _generated(count: int = 24) -> list[Path]:
    """Distinct busy 1920x1080 JPEGs (noise over a gradient), made once."""
    from PIL import Image

    folder = WORK / "frames-1920x1080"
    paths = [folder / f"g{k:03d}.jpg" for k in range(count)]
    if all(p.is_file() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    for k, path in enumerate(paths):
        size = (1920, 1080)
        base = Image.linear_gradient("L").rotate(k * 15).resize(size).convert("RGB")
        noise = Image.effect_noise(size, 30 + k).convert("RGB")
        buf = io.BytesIO()
        Image.blend(base, noise, 0.35).save(buf, "JPEG", quality=90)
        path.write_bytes(buf.getvalue())
    return paths


def _sets(frames: int) -> list[tuple[str, list[Path]]]:
    found = []
    real = sorted(REAL.glob("*.jpg")) if REAL.is_dir() else []
    if real:
        found.append(("real 768x576", real))
    else:
        print(f"decode: {REAL} is absent; generated frames only", flush=True)
    found.append(("generated 1920x1080", _generated()))
    return [(label, (paths * (frames // len(paths) + 1))[:frames]) for label, paths in found]


# -- the bare decode (the baseline) --------------------------------------------------------------


def _bare(path: Path, scale: int = 2) -> tuple[int, int]:
    """What any program does to read a frame at 1/scale: open, draft, load."""
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (image.width // scale, image.height // scale))
        image.load()
        return image.size


class Bare:
    """The bare half-scale decode on every core: the faster of a thread pool and a process pool
    that only decode (both kept open, so their start-up is not timed)."""

    def __init__(self) -> None:
        self.threads = ThreadPoolExecutor(CORES)
        self.processes = ProcessPoolExecutor(CORES)

    def __call__(self, paths: list[Path]) -> float:
        threads = best_of(lambda: list(self.threads.map(_bare, paths)), repeat=1)
        processes = best_of(lambda: list(self.processes.map(_bare, paths, chunksize=32)), repeat=1)
        return min(threads, processes)

    def close(self) -> None:
        self.threads.shutdown()
        self.processes.shutdown()


def paired(bare: Bare, paths: list[Path], ours, rounds: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """``(ours, bare)``, each the best of ``rounds``, taken in turns so that both see the same
    load (other work on the machine moves both alike)."""
    mine, base = float("inf"), float("inf")
    for _ in range(rounds):
        base = min(base, bare(paths))
        mine = min(mine, best_of(ours, repeat=1))
    return mine, base


def decode_part(report: Report, frames: int) -> None:
    from pylapse.export.pool import process_pool
    from pylapse.pictures.daystrip import daystrip
    from pylapse.pictures.frames import decode_reduced
    from pylapse.pictures.stacks import stack
    from pylapse.pictures.timeslice import bands, timeslice

    bare = Bare()
    pool = process_pool(CORES)  # as the picture job and the CLI decode: in processes
    try:
        sets = _sets(frames)
        bare(sets[0][1][: 4 * CORES])  # start the process pools' workers before timing
        stack(sets[0][1][: 4 * CORES], "max", executor=pool)
        for label, paths in sets:
            n = len(paths)
            mine, base = paired(bare, paths, lambda: daystrip(paths, scale=2, executor=pool))  # noqa: B023
            rate = n / base
            print(f"{label}: bare half-scale decode {rate:.0f} frames/s on {CORES} cores")
            report.add(f"daystrip {n} ({label})", mine, base, DECODE_GOAL)
            for mode in ("max", "min"):
                mine, base = paired(bare, paths, lambda: stack(paths, mode, scale=2, executor=pool))  # noqa: B023
                report.add(f"{mode} stack {n} ({label})", mine, base, DECODE_GOAL)
            # a time slice reads one frame per band of columns: compare with decoding those
            width = decode_reduced(paths[0], 2).width
            read = [paths[k] for k, _, _ in bands(n, width)]
            mine, base = paired(bare, read, lambda: timeslice(paths, scale=2, executor=pool))  # noqa: B023
            report.add(f"timeslice {len(read)} read ({label})", mine, base, DECODE_GOAL)
    finally:
        bare.close()
        pool.shutdown()


# -- memory --------------------------------------------------------------------------------------


def rss_child(kind: str, count: int) -> None:
    """Run in a fresh process: make the picture of ``count`` frames, print the peak RSS (KB) and
    the bytes of the picture itself."""
    from pylapse.pictures.daystrip import daystrip
    from pylapse.pictures.stacks import stack

    real = sorted(REAL.glob("*.jpg")) if REAL.is_dir() else _generated()
    paths = (real * (count // len(real) + 1))[:count]
    image = daystrip(paths, scale=8) if kind == "daystrip" else stack(paths, "max", scale=8)
    # VmHWM, this process's own peak: ru_maxrss would carry the parent's over across exec
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    # Pillow keeps an RGB picture in 4 bytes a pixel (RGB plus a pad byte), so that is what the
    # picture itself takes (3 bytes a pixel left a quarter of a 100 k-row daystrip counted as
    # growth); an L picture takes 1
    pixel = 1 if image.mode in ("L", "1", "P") else 4
    print(json.dumps({"rss_kb": peak, "picture_bytes": image.width * image.height * pixel}))


def _rss(kind: str, count: int) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", kind, str(count)],
        capture_output=True, text=True, check=True, env={**os.environ},
    )  # fmt: skip
    found = json.loads(done.stdout.splitlines()[-1])
    return found["rss_kb"] / 1024, found["picture_bytes"] / 2**20


def memory_part(sizes: tuple[int, int]) -> int:
    small, large = sizes
    print(f"{'peak RSS (MB)':<36}  {'ours':>10}  {'baseline':>10}  {'ratio':>8}  goal", flush=True)
    missed = 0
    for kind in ("stack", "daystrip"):
        a_rss, a_pic = _rss(kind, small)
        b_rss, b_pic = _rss(kind, large)
        ours, base = b_rss - b_pic, a_rss - a_pic  # the picture itself grows by design
        ratio = ours / base
        verdict = "PASS" if ratio <= 1.2 else "MISS"
        missed += verdict == "MISS"
        name = f"{kind} {large:,} vs {small:,} frames"
        print(f"{name:<36}  {ours:>7.1f} MB  {base:>7.1f} MB  {ratio:>7.3g}x  <= 1.2x      "
              f"{verdict}  (picture {b_pic:.1f} MB vs {a_pic:.1f} MB)", flush=True)  # fmt: skip
    return missed


# -- the colour map of a year --------------------------------------------------------------------


def year_index() -> Path:
    """An index of one camera over a year at 10 s, every frame with sky colours (made once)."""
    from pylapse.index.store import FrameIndex

    root = WORK / f"year-{YEAR_FRAMES}"
    marker = root / "complete"
    db = root / "pylapse.db"
    if marker.is_file():
        return db
    print(f"building {YEAR_FRAMES:,} indexed frames with sky colours in {root} ...", flush=True)
    started = time.perf_counter()
    building = WORK / f"year-{YEAR_FRAMES}.building"
    building.mkdir(parents=True, exist_ok=True)
    (building / "pylapse.db").unlink(missing_ok=True)
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    with FrameIndex(building / "pylapse.db") as index:
        first = index.add_frame("sky", building / "f0.jpg", start, size=1, mtime=0.0)
    conn = sqlite3.connect(building / "pylapse.db")
    cid, dir_id = conn.execute(
        "SELECT collection_id, dir_id FROM frames WHERE id = ?", (first,)
    ).fetchone()
    stats = [f"sky_{c}_{s}" for s in ("mean", "median", "max") for c in "rgb"]
    sql = (
        f"INSERT INTO frames (collection_id, dir_id, name, utc, utc_offset, source, "
        f"{', '.join(stats)}) VALUES (?, ?, ?, ?, 0, 'filename', {', '.join('?' * 9)})"
    )
    t0 = start.timestamp()

    def rows(lo: int, hi: int):
        for k in range(lo, hi):
            v = (k // 8640) % 256  # the day's row colour, varied by the slot
            w = (k % 8640) / 34
            yield (cid, dir_id, f"f{k}.jpg", t0 + 10 * k, v, w, 255 - v, v, w, 100, 255, w, v)

    conn.execute(f"UPDATE frames SET {', '.join(f'{s} = 1' for s in stats)} WHERE id = ?", (first,))
    with conn:
        for lo in range(1, YEAR_FRAMES, 500_000):
            conn.executemany(sql, rows(lo, min(YEAR_FRAMES, lo + 500_000)))
    conn.close()
    return publish_tree(building, root, marker, started) / "pylapse.db"


def colormap_part(report: Report) -> None:
    from pylapse.collection import Collection
    from pylapse.index.store import FrameIndex

    db = year_index()
    with FrameIndex(db) as index:
        collection = Collection("sky", None, db.parent, timezone="UTC", index=index, key="sky")
        first, last = date(YEAR, 1, 1), date(YEAR, 12, 31)
        lo = datetime(YEAR, 1, 1, tzinfo=UTC).timestamp() - 14 * 3600
        hi = datetime(YEAR + 1, 1, 1, tzinfo=UTC).timestamp() + 14 * 3600
        conn = sqlite3.connect(db)
        (cid,) = conn.execute("SELECT id FROM index_collections WHERE key = 'sky'").fetchone()

        def bare() -> int:
            rows = conn.execute(
                "SELECT utc, utc_offset, sky_r_mean, sky_g_mean, sky_b_mean FROM frames "
                "WHERE collection_id = ? AND utc >= ? AND utc < ? AND sky_r_mean IS NOT NULL "
                "ORDER BY utc, id",
                (cid, lo, hi),
            ).fetchall()
            return len(rows)

        base = best_of(bare, repeat=2)
        holder: list[object] = []
        ours = best_of(
            lambda: holder.append(collection.pictures.colormap(first, last, slot_width=10)),
            repeat=2,
        )
        picture = holder[-1]
        image = picture.image  # type: ignore[attr-defined]
        print(f"colour map {image.width}x{image.height} of {bare():,} frames; bare SELECT "
              f"{fmt_seconds(base)}", flush=True)  # fmt: skip
        report.add(f"colormap of a year ({YEAR_FRAMES:,} frames)", ours, base, Goal.ratio(3))
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("decode", "memory", "colormap"), action="append")
    parser.add_argument("--frames", type=int, default=800, help="frames per decode measure")
    parser.add_argument("--rss-sizes", default="1000,20000", help="two frame counts")
    parser.add_argument("--rss-child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]))
        return 0
    parts = args.part or ["decode", "memory", "colormap"]
    report = Report("pictures (issue 18): ours against the bare work in the same run", width=40)
    missed = 0
    if "decode" in parts:
        decode_part(report, args.frames)
    if "colormap" in parts:
        colormap_part(report)
    if "memory" in parts:
        small, large = (int(s) for s in args.rss_sizes.split(","))
        missed += memory_part((small, large))
        print(f"memory: {2 - missed}/2 goals met", flush=True)
    return max(report.finish(), 1 if missed else 0)


if __name__ == "__main__":
    sys.exit(main())
