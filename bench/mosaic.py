"""Mosaics (issue 19): is composing a grid decode-bound, how fast is the photomosaic lookup, and
is a tile-cache refresh incremental?

* **grid**: composing the frames of a 4-camera grid at 1920x1080 (each 1920x1080 input decoded
  at 1/2 into its 960x540 tile, scaled, labelled, written as JPEG) against the bare decode of the
  same input frames at the same scale on the same number of threads. Goal (issue): output at
  least 60 % of the bare rate (ours <= 1.67x its time). The encode (ffmpeg) is timed as info.
* **sunset**: a sunset mosaic of 16 days (a frame a minute around each day's sunset, cropped to a
  band of rows) composed against the bare decode of the same frames at the tile's scale. Goal
  (issue): at least 60 % of the bare rate.
* **photo lookup**: nearest tiles of a 1920x1080 target at 20 px (5,184 cells) against a codebook
  of 100 k tile vectors (4x4 RGB, 48 numbers) made from the real frames of the shared test data
  (../shared/testdata/sequence-real and exif-real: random square crops of many sizes and places,
  mirrored, brightness and colour shifted), the target a real photo: ours
  (:class:`pylapse.mosaic.search.TileIndex`, exact, index built once as the photomosaic keeps it)
  against brute-force NumPy over the same vectors (``|a|^2 - 2ab + |b|^2`` in one float32 product
  per 256 cells: what a user writes). Goal (issue): >= 10x faster. The agreement with the brute
  force is printed (cells where the rows differ are checked in float64: a difference is a tie or
  the brute force's float32 rounding, never a farther row). As info: the index build plus the
  lookup (what a single photomosaic pays), the same on 100 k random uniform vectors (the worst
  case: no structure to prune with), and a repeat limit of 1 against the previous way (brute
  force, then all rows again for each cell whose nearest row was taken).
* **tile cache**: refreshing the vectors of N frames after adding 1 % against a full rebuild.
  Goal: <= 5 %.

    ./bench.sh mosaic [--frames N] [--instants N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import numpy as np

from bench._harness import Goal, Report, best_of, timed

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "mosaic"
CORES = max(1, len(os.sched_getaffinity(0)))


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
        Image.blend(base, noise, 0.3).save(path, quality=90)
    return paths


def _bare_decode(paths: list[str], size: tuple[int, int]) -> None:
    from PIL import Image

    def one(path: str) -> None:
        with Image.open(path) as image:
            image.draft("RGB", size)
            image.load()

    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(one, paths))


def bench_grid(report: Report, instants: int) -> None:
    from pylapse.mosaic.grid import grid_plan
    from pylapse.mosaic.sequence import write_frames
    from pylapse.mosaic.timeline import Track
    from pylapse.video.render import render_frames

    frames = [str(p) for p in _generated()]
    # each camera's frame changes at every instant: no decode is saved by a repeated frame
    tracks = [
        Track(f"cam{c}", UTC, np.arange(instants, dtype=np.float64),
              [frames[(i * 4 + c) % len(frames)] for i in range(instants)])
        for c in range(4)
    ]  # fmt: skip
    plan = grid_plan(tracks, (1920, 1080), step=1.0)
    inputs = [p for t in tracks for p in t.paths]
    folder = Path(tempfile.mkdtemp(dir=WORK))
    try:
        ours = best_of(lambda: write_frames(plan, folder), repeat=2)
        base = best_of(lambda: _bare_decode(inputs, (960, 540)), repeat=2)
        report.add(f"grid 4x{instants} frames compose", ours, base, Goal.ratio(1 / 0.6))
        made = sorted(folder.glob("*.jpg"))
        encode, _ = timed(lambda: render_frames(made, WORK / "grid.mp4", {"fps": 24}))
        report.add(f"grid {instants} frames encode (info)", encode, None, Goal.info())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_sunset(report: Report, days: int) -> None:
    """A sunset mosaic of ``days`` days (a 4x4 grid for 16) at Berlin, one frame a minute from
    sunset - 30 min to sunset + 10 min, each tile its day's frame cropped to a band of rows,
    against the bare decode of the same frames at the tile's scale."""
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from pylapse.mosaic.sequence import write_frames
    from pylapse.mosaic.sunset import sunset_plan
    from pylapse.mosaic.timeline import Track
    from pylapse.selection.sun import SunEvent, SunGap, event_time

    zone, lat, lon = ZoneInfo("Europe/Berlin"), 52.52, 13.40
    frames = [str(p) for p in _generated()]
    first = date(2026, 3, 1)
    utcs: list[float] = []
    for d in range(days):
        day = first + timedelta(days=d)
        sunset = event_time(day, lat, lon, zone, SunEvent.SUNSET)
        if isinstance(sunset, SunGap):
            raise SystemExit(f"bench sunset: {sunset}")
        base = sunset.timestamp()
        utcs.extend(base + 60.0 * m for m in range(-35, 16))
    paths = [frames[i % len(frames)] for i in range(len(utcs))]
    track = Track("sky", zone, np.asarray(utcs), paths)
    made = sunset_plan(track, [first + timedelta(days=d) for d in range(days)], lat, lon,
                       (1920, 1080), start=timedelta(minutes=-30), end=timedelta(minutes=10),
                       step=60.0, band=(0, 720))  # fmt: skip
    plan = made.plan
    inputs = [planned.track.paths[int(k)] for planned in plan.tiles
              for k in planned.match.frames if k >= 0]  # fmt: skip
    tile = plan.tiles[0].tile
    # the scale the tile needs: the band (720 rows), cropped to the tile's shape, down to the tile;
    # the bare decode asks for the whole frame at that scale (the same JPEG draft scale)
    crop_w = min(1920, 720 * tile.w / tile.h)
    scale = tile.w / crop_w
    want = (int(1920 * scale + 0.999), int(1080 * scale + 0.999))
    folder = Path(tempfile.mkdtemp(dir=WORK))
    try:
        ours = best_of(lambda: write_frames(plan, folder), repeat=2)
        base = best_of(lambda: _bare_decode(inputs, want), repeat=2)
        report.add(f"sunset {days} days x {len(plan)} frames compose", ours, base,
                   Goal.ratio(1 / 0.6))  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _brute(cells: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    norms = (codebook**2).sum(1)
    out = []
    for lo in range(0, len(cells), 256):
        block = cells[lo : lo + 256]
        d = (block**2).sum(1)[:, None] - 2 * block @ codebook.T + norms[None, :]
        out.append(d.argmin(1))
    return np.concatenate(out)


TESTDATA = HERE.parent.parent / "shared" / "testdata"


def _sources() -> list[np.ndarray]:
    """The real frames of the shared test data, at most 160 px a side, as float64 RGB arrays;
    the unreadable ones (the test data has some on purpose) left out."""
    from PIL import Image

    paths = sorted((TESTDATA / "sequence-real" / "frames").glob("*.jpg"))
    paths += sorted((TESTDATA / "exif-real").glob("*.jpg"))
    out = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.draft("RGB", (320, 320))
                rgb = image.convert("RGB")
        except (OSError, ValueError, SyntaxError):
            continue
        rgb.thumbnail((160, 160))
        if min(rgb.size) >= 16:
            out.append(np.asarray(rgb, np.float64))
    if not out:
        raise SystemExit(f"no real frames under {TESTDATA}: the photo lookup needs them")
    return out


def real_codebook(count: int, seed: int = 2) -> np.ndarray:
    """``count`` 4x4 RGB tile vectors of random square crops (4 px to the whole height) of the
    real frames, mirrored half the time, scaled in brightness 0.5-1.5 and shifted per channel
    by up to +-20: what the tile vectors of a large collection of a few scenes look like."""
    rng = np.random.default_rng(seed)
    sources = _sources()
    out = np.empty((count, 48), np.float32)
    which = rng.integers(len(sources), size=count)
    for k, source in enumerate(sources):
        rows = np.flatnonzero(which == k)
        h, w, _ = source.shape
        # a summed-area table gives every crop's 4x4 block means in a few array lookups
        table = np.zeros((h + 1, w + 1, 3))
        table[1:, 1:] = source.cumsum(0).cumsum(1)
        side = 4 * rng.integers(1, min(h, w) // 4 + 1, size=len(rows))
        y = (rng.random(len(rows)) * (h - side + 1)).astype(np.int64)
        x = (rng.random(len(rows)) * (w - side + 1)).astype(np.int64)
        steps = np.arange(5) * (side[:, None] // 4)
        ys, xs = y[:, None] + steps, x[:, None] + steps
        s = table[ys[:, :, None], xs[:, None, :]]  # (n, 5, 5, 3)
        blocks = s[:, 1:, 1:] - s[:, :-1, 1:] - s[:, 1:, :-1] + s[:, :-1, :-1]
        blocks /= ((side // 4) ** 2)[:, None, None, None]
        mirror = rng.random(len(rows)) < 0.5
        blocks[mirror] = blocks[mirror, :, ::-1]
        gain = rng.uniform(0.5, 1.5, (len(rows), 1, 1, 1))
        shift = rng.uniform(-20, 20, (len(rows), 1, 1, 3))
        out[rows] = np.clip(blocks * gain + shift, 0, 255).reshape(len(rows), 48)
    return out


def real_cells() -> np.ndarray:
    """The 5,184 cell vectors of a real photo as a 1920x1080 target at 20 px tiles."""
    from PIL import Image, ImageOps

    from pylapse.mosaic.photo import cell_vectors

    with Image.open(TESTDATA / "exif-real" / "sony_a58.jpg") as image:
        target = ImageOps.fit(image.convert("RGB"), (1920, 1080))
    return cell_vectors(target, 20, 4)[0]


def _old_limited(cells: np.ndarray, codebook: np.ndarray, repeat: int) -> np.ndarray:
    """The repeat limit as it was: brute force, then all rows again for each cell whose
    nearest row is taken."""
    norms = (codebook**2).sum(1)
    best = _brute(cells, codebook)
    best_d = ((cells - codebook[best]) ** 2).sum(1)
    used = np.zeros(len(codebook), np.int64)
    out = np.empty(len(cells), np.int64)
    for i in np.argsort(best_d, kind="stable"):
        choice = int(best[i])
        if used[choice] >= repeat:
            d = norms - 2 * codebook @ cells[i]
            d[used >= repeat] = np.inf
            choice = int(np.argmin(d))
        used[choice] += 1
        out[i] = choice
    return out


def _agreement(cells: np.ndarray, codebook: np.ndarray, ours: np.ndarray,
               brute: np.ndarray) -> str:  # fmt: skip
    """How often our rows are the brute force's, and where not, which is nearer in float64."""
    differ = np.flatnonzero(ours != brute)
    q = cells[differ].astype(np.float64)
    d_ours = ((q - codebook[ours[differ]].astype(np.float64)) ** 2).sum(1)
    d_brute = ((q - codebook[brute[differ]].astype(np.float64)) ** 2).sum(1)
    farther = d_ours > d_brute * (1 + 1e-9)
    # the extra colour error of a farther row: RMS per channel value over the 48 numbers
    extra = (np.sqrt(d_ours[farther]) - np.sqrt(d_brute[farther])) / np.sqrt(48)
    mean_extra = float(extra.sum() / len(cells))
    return (f"same row {100 * (1 - len(differ) / len(cells)):.2f} %; of {len(differ)} others "
            f"ours farther {int(farther.sum())}, nearer {int((d_ours < d_brute).sum())}, "
            f"equal {int((d_ours == d_brute).sum())}; mean extra colour error "
            f"{mean_extra:.4f}")  # fmt: skip


def bench_photo(report: Report, codebook_size: int) -> None:
    from pylapse.mosaic.photo import nearest
    from pylapse.mosaic.search import TileIndex

    codebook = real_codebook(codebook_size)
    cells = real_cells()
    k = f"{codebook_size // 1000}k"
    index = TileIndex(codebook)
    found = index.search(cells)[0][:, 0]
    brute = _brute(cells, codebook)
    ours = best_of(lambda: index.search(cells), repeat=3)
    base = best_of(lambda: _brute(cells, codebook), repeat=2)
    report.add(f"photo lookup {len(cells)} x {k} real tiles", ours, base, Goal.ratio(0.1))
    print(f"  agreement with brute force: {_agreement(cells, codebook, found, brute)}")
    both = best_of(lambda: TileIndex(codebook).search(cells), repeat=2)
    report.add(f"photo build+lookup {k} real (info)", both, base, Goal.info())
    limited, chosen = timed(lambda: nearest(cells, codebook, repeat=1, index=index))
    old, before = timed(lambda: _old_limited(cells, codebook, 1))
    report.add(f"photo repeat 1, {k} real (info)", limited, old, Goal.info())
    same = np.asarray(chosen) == np.asarray(before)
    print(f"  repeat 1 against the previous way: same row {100 * same.mean():.2f} %")

    rng = np.random.default_rng(1)
    noise = rng.uniform(0, 255, (codebook_size, 48)).astype(np.float32)
    noise_cells = rng.uniform(0, 255, (len(cells), 48)).astype(np.float32)
    noise_index = TileIndex(noise)
    found = noise_index.search(noise_cells)[0][:, 0]
    brute = _brute(noise_cells, noise)
    ours = best_of(lambda: noise_index.search(noise_cells), repeat=1)
    base = best_of(lambda: _brute(noise_cells, noise), repeat=1)
    report.add(f"photo lookup {k} random (info)", ours, base, Goal.info())
    print(f"  agreement with brute force: {_agreement(noise_cells, noise, found, brute)}")


@dataclass(frozen=True)
class _Frame:
    id: int
    path: Path
    size: int
    mtime: float


def bench_cache(report: Report, count: int) -> None:
    from pylapse.mosaic.tilecache import refresh_vectors

    frames = _generated()
    every = [_Frame(i, frames[i % len(frames)], 1000 + i, float(i)) for i in range(count)]
    more = range(count // 100)
    added = every + [_Frame(count + i, frames[i % len(frames)], 1, 1.0) for i in more]
    folder = WORK / "tiles"

    def rebuild() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        refresh_vectors(added, folder, "bench")

    def prime() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        refresh_vectors(every, folder, "bench")

    base = best_of(rebuild, repeat=1)
    ours = best_of(lambda: refresh_vectors(added, folder, "bench"), repeat=2, setup=prime)
    report.add(f"tile cache: +1 % of {count} frames", ours, base, Goal.ratio(0.05))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instants", type=int, default=96, help="grid output frames (96)")
    parser.add_argument("--frames", type=int, default=2000, help="tile-cache frames (2000)")
    parser.add_argument("--codebook", type=int, default=100_000,
                        help="photo lookup codebook vectors (100000)")  # fmt: skip
    parser.add_argument("--days", type=int, default=16, help="sunset mosaic days (16)")
    parser.add_argument("--part", choices=("grid", "sunset", "photo", "cache"))
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    report = Report("mosaic (issue 19): ours against the bare work in the same run", width=40)
    if args.part in (None, "grid"):
        bench_grid(report, args.instants)
    if args.part in (None, "sunset"):
        bench_sunset(report, args.days)
    if args.part in (None, "photo"):
        bench_photo(report, args.codebook)
    if args.part in (None, "cache"):
        bench_cache(report, args.frames)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
