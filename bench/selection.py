"""Selection benchmark: a year at a 10-second cadence, rules "every 10 s" and "every 15 min".

    ./bench.sh selection [--days 365] [--sample-days 2] [--rebuild] [--backend postgresql]

3.15 M synthetic rows (one year, a frame every 10 s with 0-2 s of capture jitter and a missing
hour every 40 days) are written straight into a SQLite frame index under ``bench/.work/`` (built
once, reused by later runs; ``--rebuild`` starts over). For each rule:

* ours: ``FrameIndex.utc_times`` over the whole year + :func:`pylapse.selection.select_cron`
  (targets in Europe/Berlin, DST days included, +-5 min tolerance): the time a user waits for the
  preview of a year's selection;
* baseline: the original pyLapse's nearest match re-implemented (for every target, the nearest of
  all that day's frames by ``min(..., key=abs difference)``), timed on ``--sample-days`` days in
  this run and extrapolated to the whole year (it is quadratic per day, so a year of it would
  take hours). The baseline works on the same float times, so it is not charged for parsing.

``--backend postgresql`` copies that index (``pylapse index migrate``'s copy) into a database made
for the run on the ``--postgres`` server (dropped at the end) and reads the rows from there.

Figures (2026-12-07; 2 cores shared with other sessions, load average 2-7). ``--days 116``
(1,001,160 frames): SQLite every 10 s 0.25 s vs 1,472 s (5,849x), every 15 min 0.07 s vs 12 s
(162x); PostgreSQL 0.46-0.60 s vs 616-1,876 s (1,352-3,106x), 0.02-0.09 s vs 4-20 s (230-264x).
``--days 1160`` (10,011,960 frames, ~3 years; the SQLite file is built once in 355 s, copied
into PostgreSQL in 354 s): SQLite every 10 s 3.40 s vs 10,258 s (3,019x), every 15 min 0.60 s vs
74 s (123x); PostgreSQL 2.14 s vs 5,490 s (2,565x), 0.27 s vs 46 s (169x). All within the 5 s
goal. "ours" is the best of ``--repeat`` runs, so it reads the times from the index's cache of
them; the first read from the database (printed as "first read") is the same on both backends:
1 M rows 0.5-0.9 s on SQLite, 1.1 s on PostgreSQL; 10 M rows 8.3-9.8 s on SQLite, 10.4 s on
PostgreSQL.

Prints one line per measure: name, ours, baseline, ratio, goal. ``--profile`` adds the top
functions of one selection per rule (cProfile), for finding the next hot spot.

``--dead-frames`` measures instead what leaving a dead camera's frames out costs a default
selection (``Collection.select(minute="*/15")``, issue 17): the same rows scored (a third of the
frames repeat their predecessor's hash with the light moving, as a still scene does; a frozen
week; a blank day) in a copy of the index; baseline: the same selection with
``keep_dead_frames=True`` (what every selection cost before the default).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORK = ROOT / "bench" / ".work"
ZONE = "Europe/Berlin"
KEY = "bench-sky"
RULES = {"every 10 s": {"second": "*/10"}, "every 15 min": {"minute": "*/15"}}


def line(name: str, value: str, baseline: str, ratio: str, goal: str) -> None:
    print(f"{name:<34} {value:>10} {baseline:>12} {ratio:>8}  {goal}", flush=True)


def synthetic_utcs(days: int, start: float) -> list[float]:
    """A frame every 10 s with 0-2 s of jitter; a 1-hour outage every 40 days."""
    rng = random.Random(2026)
    out = []
    for k in range(days * 8640):
        if (k // 360) % 960 == 7:  # an hour missing every 40 days
            continue
        out.append(start + k * 10 + round(rng.uniform(0.0, 2.0), 3))
    return out


def build_index(path: Path, utcs: list[float]) -> None:
    """Write the rows straight into a frame index file, in the index's own schema."""
    from collections import Counter

    from pylapse import timeutil
    from pylapse.index.store import FrameIndex

    tz = timeutil.zone(ZONE)
    FrameIndex(path).close()  # creates and migrates the schema
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    root = WORK / "frames"
    with conn:
        cid = conn.execute(
            "INSERT INTO index_collections (key, root, zone, scanned_at) VALUES (?, ?, ?, ?)",
            (KEY, str(root), ZONE, time.time()),
        ).lastrowid
        dirs: dict[str, int] = {}
        days: Counter[tuple[int, int]] = Counter()

        def rows():
            for u in utcs:
                when = datetime.fromtimestamp(u, tz)
                offset = int(when.utcoffset().total_seconds())
                folder = when.strftime("%Y-%m-%d")
                dir_id = dirs.get(folder)
                if dir_id is None:
                    dir_id = dirs[folder] = conn.execute(
                        "INSERT INTO scanned_dirs (collection_id, path) VALUES (?, ?)",
                        (cid, str(root / folder)),
                    ).lastrowid
                days[(int((u + offset) // 86400), offset)] += 1
                name = when.strftime("sky-%Y-%m-%dT%H-%M-%S") + timeutil.format_offset(when)
                yield (cid, dir_id, f"{name}_{int(u * 1000) % 1000:03d}.jpg", u, offset)

        conn.executemany(
            "INSERT INTO frames (collection_id, dir_id, name, utc, utc_offset, source, size) "
            "VALUES (?, ?, ?, ?, ?, 'filename', 1000000)",
            rows(),
        )
        conn.executemany(
            "INSERT INTO day_counts (collection_id, day, utc_offset, n) VALUES (?, ?, ?, ?)",
            [(cid, day, off, n) for (day, off), n in days.items()],
        )
    conn.close()


def ensure_index(days: int, rebuild: bool) -> tuple[Path, int]:
    from pylapse import timeutil

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"select-{days}d.db"
    if rebuild and path.exists():
        for p in WORK.glob(path.name + "*"):
            p.unlink()
    start = datetime(2025, 1, 1, tzinfo=timeutil.zone(ZONE)).timestamp()
    if not path.exists():
        utcs = synthetic_utcs(days, start)
        print(f"building {len(utcs):,} index rows in {path} (once) ...", flush=True)
        t0 = time.perf_counter()
        build_index(path, utcs)
        print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
    from pylapse.index.store import FrameIndex

    with FrameIndex(path) as index:
        count = index.count(KEY)
    return path, count


def baseline_day(day_utcs: list[float], targets: list[float], tolerance: float) -> int:
    """The original pyLapse: for each target, scan every frame of the day for the nearest."""
    chosen = 0
    for t in targets:
        nearest = min(day_utcs, key=lambda u: abs(u - t))
        if abs(nearest - t) <= tolerance:
            chosen += 1
    return chosen


def measure_baseline(utcs: list[float], rule: dict, sample_days: int, days: int) -> float:
    """Seconds for ``days`` days, extrapolated from ``sample_days`` ordinary days."""
    from pylapse import timeutil
    from pylapse.selection.targets import CronRule, day_targets

    tz = timeutil.zone(ZONE)
    compiled = CronRule(rule)
    first_day = datetime.fromtimestamp(utcs[len(utcs) // 3], tz).date()  # ordinary days
    spent = 0.0
    for k in range(sample_days):
        day = first_day + timedelta(days=k)
        lo = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        day_utcs = [u for u in utcs if lo <= u < lo + 86400]
        targets = day_targets(day, compiled.seconds, tz, both_folds=True)
        t0 = time.perf_counter()
        baseline_day(day_utcs, targets, 300.0)
        spent += time.perf_counter() - t0
    return spent / sample_days * days


def profile(fn) -> None:
    """Print the functions ``fn`` spends its time in (own time first)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.runcall(fn)
    pstats.Stats(prof).sort_stats("tottime").print_stats(10)


def scored_copy(path: Path, days: int) -> Path:
    """The index at ``path`` copied once with scores: a third of the frames repeat the previous
    hash with moving light (alive), frames of the 10th week one picture, the 20th day blank."""
    import shutil

    scored = WORK / f"select-{days}d-scored.db"
    if scored.exists():
        return scored
    shutil.copyfile(path, scored)
    conn = sqlite3.connect(scored)
    first = conn.execute("SELECT MIN(id) FROM frames").fetchone()[0]
    week, day = 7 * 8640, 8640
    with conn:
        conn.execute(
            "UPDATE frames SET luma = 100 + (id % 17) * 0.3, contrast = 30,"
            " hash_distance = CASE WHEN id % 3 = 0 THEN 0 ELSE 9 END"
        )
        conn.execute(
            "UPDATE frames SET luma = 77, hash_distance = 0 WHERE id BETWEEN ? AND ?",
            (first + 9 * week + 1, first + 10 * week),
        )
        conn.execute(
            "UPDATE frames SET contrast = 0.5 WHERE id BETWEEN ? AND ?",
            (first + 19 * day, first + 20 * day - 1),
        )
    conn.close()
    from pylapse.index.store import FrameIndex

    # scores written around the index: decide its dead-camera verdicts, as the score write
    # path (capture, the metrics job) or the migration of an older index would have
    t0 = time.perf_counter()
    with FrameIndex(scored) as index:
        flagged = index.recheck_dead(KEY)
    print(f"  {flagged:,} dead frames decided in {time.perf_counter() - t0:.1f} s", flush=True)
    return scored


def measure_dead_frames(days: int, repeat: int) -> None:
    from pylapse.collection import Collection
    from pylapse.index.store import FrameIndex

    path, count = ensure_index(days, False)
    scored = scored_copy(path, days)
    print(f"index: {count:,} scored frames over {days} days ({scored.name})", flush=True)
    folder = WORK / "frames" / "x"  # a collection's folder must hold something to be read
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.jpg").touch()
    line("measure", "ours", "baseline", "ratio", "goal")
    with FrameIndex(scored) as index:
        times = {}
        for label, kw in (("keep", {"keep_dead_frames": True}), ("default", {})):
            best = again = float("inf")
            for _ in range(max(1, repeat)):
                # a new Collection each time, as each request of the dashboard makes one (the
                # index's cache of frame times stays); asked again, it keeps its dead frames
                coll = Collection("Sky", None, WORK / "frames", timezone=ZONE, index=index, key=KEY)
                t0 = time.perf_counter()
                sel = coll.select(minute="*/15", **kw)
                t1 = time.perf_counter()
                coll.select(minute="*/15", **kw)
                best, again = min(best, t1 - t0), min(again, time.perf_counter() - t1)
            times[label] = best
            print(f"  {label}: {len(sel):,} chosen, left out {sel.left_out}; "
                  f"asked again of the same collection {again:.2f} s", flush=True)  # fmt: skip
        ours, base = times["default"], times["keep"]
        line(
            f"select {days} days, dead frames out",
            f"{ours:.2f} s",
            f"{base:.2f} s",
            f"{ours / base:.1f}x",
            f"<= 2x the selection {'PASS' if ours <= 2 * base else 'MISS'}",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sample-days", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs of ours")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile one selection per rule")
    parser.add_argument("--dead-frames", action="store_true", help="the dead-frame default's cost")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    if args.dead_frames:
        if args.backend != "sqlite":
            parser.error("--dead-frames measures on SQLite only")
        measure_dead_frames(args.days, args.repeat)
        return
    path, count = ensure_index(args.days, args.rebuild)
    if args.backend == "sqlite":
        measure(args, path, count, path.name)
        return
    import secrets

    import psycopg

    from pylapse.index.transfer import copy_index

    database = f"pylapse_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        try:
            url = f"{args.postgres}/{database}"
            started = time.perf_counter()
            copy_index(path, url)
            print(f"copied into PostgreSQL in {time.perf_counter() - started:.1f} s", flush=True)
            measure(args, url, count, f"PostgreSQL, copied from {path.name}")
        finally:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


def measure(args: argparse.Namespace, location: Path | str, count: int, where: str) -> None:

    from pylapse import timeutil
    from pylapse.index.store import FrameIndex
    from pylapse.selection.selection import select_cron
    from pylapse.selection.slots import select_slot_grid

    tz = timeutil.zone(ZONE)
    print(f"index: {count:,} frames over {args.days} days ({where})", flush=True)
    line("measure", "ours", "baseline", "ratio", "goal")
    with FrameIndex(location) as index:
        for label, rule in RULES.items():
            best = (float("inf"), 0.0, 0.0, 0.0, None)
            first_read = None  # the index's cache of frame times empty: rows read from the database
            for _ in range(max(1, args.repeat)):
                c0, t0 = time.process_time(), time.perf_counter()
                ids, utcs = index.utc_times(KEY)
                t1 = time.perf_counter()
                first_read = t1 - t0 if first_read is None else first_read
                sel = select_cron(ids, utcs, [rule], tz, tolerance=timedelta(minutes=5))
                t2, c2 = time.perf_counter(), time.process_time()
                if t2 - t0 < best[0]:
                    best = (t2 - t0, t1 - t0, t2 - t1, c2 - c0, sel)
            ours, read, select, cpu, sel = best
            if args.profile:
                profile(lambda r=rule, i=ids, u=utcs: select_cron(i, u, [r], tz, tolerance=300.0))
            base = measure_baseline(list(utcs), rule, args.sample_days, args.days)
            c = sel.counts
            print(
                f"  {label}: {c.targets:,} targets, {c.chosen:,} chosen, {c.gaps:,} gaps; "
                f"index read {read:.2f} s + select {select:.2f} s (CPU {cpu:.2f} s); first read "
                f"{first_read:.2f} s; baseline from {args.sample_days} day(s) x {args.days}",
                flush=True,
            )
            line(
                f"select {args.days} days, {label}",
                f"{ours:.2f} s",
                f"{base:,.0f} s",
                f"{base / ours:,.0f}x",
                f"<= 5 s {'PASS' if ours <= 5 else 'MISS'}",
            )
        t0 = time.perf_counter()
        ids, utcs = index.utc_times(KEY)
        grid = select_slot_grid(ids, utcs, tz, width=10)
        ours = time.perf_counter() - t0
        g = grid.counts
        print(f"  slot grid 10 s: {g.targets:,} slots, {g.chosen:,} filled, {g.gaps:,} gaps")
        line(f"slot grid {args.days} days (info)", f"{ours:.2f} s", "-", "-", "-")


if __name__ == "__main__":
    main()
