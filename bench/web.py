"""Web benchmark: the collection page and a day's thumbnail grid at a million frames.

    ./bench.sh web [--frames 1000000] [--small 1000] [--requests 60]

Two collections in one index, built once and reused (the frame trees are shared with
``./bench.sh index``: ``bench/.work/index-<N>-8640/tree``): a large one of ``--frames`` frames
(one every 10 s, ~116 days) and a small one of ``--small`` frames. Each page is requested
``--requests`` times through the real app in-process (routing, security middleware, database,
templates; no network), the large and the small collection's page alternately so both see the
same machine load, and the 95th percentile latencies are compared:

* p95 at 1M frames, absolute goal 100 ms;
* p95 at 1M frames against p95 at 1k frames, goal ratio <= 2 (nothing a user waits on may grow
  with the size of a collection).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

from bench._harness import Goal, Report
from bench.index import WORK, ZONE, build_tree

PER_DAY = 8640


def tree(frames: int) -> Path:
    return build_tree(WORK / f"index-{frames}-{PER_DAY}", frames, PER_DAY)


def prepare(frames: int, small: int) -> Path:
    """The config of a dashboard with both collections indexed (scanned once, then reused)."""
    from pylapse.config.file import load_config
    from pylapse.runtime import Runtime

    base = WORK / f"web-{frames}-{small}"
    base.mkdir(parents=True, exist_ok=True)
    config = {
        "data_dir": "data",
        "storage_roots": [str(WORK)],
        "collections": {
            "large": {"name": f"{frames:,} frames", "path": str(tree(frames)), "timezone": ZONE},
            "small": {"name": f"{small:,} frames", "path": str(tree(small)), "timezone": ZONE},
        },
    }
    path = base / "capture_config.json"
    path.write_text(json.dumps(config, indent=2))
    marker = base / ".indexed"
    if not marker.exists():
        print("indexing both collections (once) ...", flush=True)
        started = time.perf_counter()
        runtime = Runtime(load_config(path), config_path=path, scheduler=False, jobs=False)
        try:
            for collection in runtime.collections().values():
                collection.refresh()
        finally:
            runtime.stop()
        marker.write_text("indexed\n")
        print(f"  indexed in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def p95_pair(client, urls: tuple[str, str], requests: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """p95 latency of each of two pages, requested alternately so both see the same machine
    load (the benchmark shares its cores with whatever else runs)."""
    for url in urls * 3:  # warm caches (templates, SQLite pages)
        assert client.get(url).status_code == 200, url
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(requests):
        for url, bucket in zip(urls, times, strict=True):
            start = time.perf_counter()
            response = client.get(url)
            bucket.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    return tuple(_p95(t) for t in times)  # type: ignore[return-value]


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames in the large one")
    parser.add_argument("--small", type=int, default=1000, help="frames in the small one")
    parser.add_argument("--requests", type=int, default=60, help="requests per page")
    args = parser.parse_args()
    if min(args.frames, args.small, args.requests) < 1:
        parser.error("--frames, --small and --requests must be at least 1")

    logging.basicConfig(level=logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient

    from pylapse.config.file import load_config
    from pylapse.runtime import Runtime
    from web.app import create_app

    path = prepare(args.frames, args.small)
    runtime = Runtime(load_config(path), config_path=path, scheduler=False)
    app = create_app(runtime)
    report = Report(
        f"web pages, {args.frames:,} vs {args.small:,} frames, p95 of {args.requests} requests",
        width=40,
    )
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        urls: dict[str, list[str]] = {"collection page": [], "day grid": []}
        for key in ("large", "small"):
            last = runtime.index.last(key)
            if last is None:
                raise SystemExit(f"collection {key!r} is empty: delete {path.parent} and rerun")
            day = last.time.astimezone(runtime.collections()[key].zone).date().isoformat()
            urls["collection page"].append(f"/collections/{key}")
            urls["day grid"].append(f"/collections/{key}/day?day={day}")
        results = {
            page: p95_pair(client, (pair[0], pair[1]), args.requests) for page, pair in urls.items()
        }
    for page in ("collection page", "day grid"):
        large, small = results[page]
        report.add(f"{page} p95, {args.frames:,} frames", large, None, Goal.seconds(0.100))
        report.add(f"{page} p95, vs {args.small:,} frames", large, small, Goal.ratio(2))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
