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

The export form's selection preview (``/exports/preview``, the large collection, no rules and a
rule) is requested ``--requests`` times: ours keeps the collection's time arrays between
requests (:meth:`FrameIndex.utc_times`, valid while the collection's change stamp holds), the
baseline forgets them before each request (every preview read the whole selection again, as
before issue 15). Goal p95 <= 100 ms.

The first look at a day: a collection of one day of 288 real photos (4000x3000, made from
``../shared/testdata``, hard links) is scanned into a fresh data folder, then the day page and
each of its thumbnails (its 3 pages of 96; and, for the day player, each preview size) are
requested once. Ours:
the dashboard's background maker made them after the scan (its time is shown); baseline: made
on request, as before. Goal p95 <= 100 ms over the page and its 288 thumbnails.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

from bench._harness import Goal, Report
from bench.index import START, WORK, ZONE, build_tree

PER_DAY = 8640
DAY_FRAMES = 288  # one every 5 minutes
DAY_PER_PAGE = 96  # the day grid's page size used (3 pages)


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


def preview_p95(client, runtime, requests: int) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    """The export form's selection preview on the large collection: (ours, baseline) p95."""
    forms = {
        "no rules": {"collection": "large"},
        "hourly 8-18": {"collection": "large", "hour": "8-18", "minute": "0"},
    }
    out = {}
    for label, params in forms.items():
        times: tuple[list[float], list[float]] = ([], [])
        assert client.get("/exports/preview", params=params).status_code == 200
        for _ in range(requests):
            for keep, bucket in ((True, times[0]), (False, times[1])):
                if not keep:
                    runtime.index._times.clear()  # the baseline: read the arrays every time
                start = time.perf_counter()
                response = client.get("/exports/preview", params=params)
                bucket.append(time.perf_counter() - start)
                if response.status_code != 200 or "Considered" not in response.text:
                    raise SystemExit(f"selection preview: {response.text[:300]}")
        out[label] = (_p95(times[0]), _p95(times[1]))
    return out


def day_tree() -> Path:
    """One day of real photos named as a camera would (hard links of 8 sources); built once."""
    from pylapse import naming
    from pylapse.timeutil import from_utc

    root = WORK / f"web-day-{DAY_FRAMES}" / "tree"
    marker = root.parent / ".complete"
    if marker.exists():
        return root
    from bench.export import real_sources  # the export benchmark's real 4000x3000 photos

    print(f"building a day of {DAY_FRAMES} real 4000x3000 frames (once) ...", flush=True)
    sources = real_sources((4000, 3000))
    if root.exists():
        shutil.rmtree(root)
    for i in range(DAY_FRAMES):
        when = from_utc((START + timedelta(minutes=5 * i)).timestamp(), 9 * 3600)
        folder = root / when.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        os.link(sources[i % len(sources)], folder / naming.format_name(when, prefix="cam-"))
    marker.write_text("complete\n")
    return root


def first_look(ahead: bool) -> dict[str, float]:
    """Scan the day into a fresh data folder, then open it: the page, each thumbnail, each
    preview; ``ahead``: with the background maker (waited for), else made on request."""
    from starlette.testclient import TestClient

    from pylapse.config.file import load_config
    from pylapse.runtime import Runtime
    from web.app import create_app

    tree_root = day_tree()
    base = tree_root.parent / ("ahead" if ahead else "on-request")
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    config = {
        "data_dir": str(base / "data"),
        "storage_roots": [str(tree_root)],
        "collections": {"day": {"name": "a day", "path": str(tree_root), "timezone": ZONE}},
    }
    path = base / "capture_config.json"
    path.write_text(json.dumps(config))
    runtime = Runtime(load_config(path), config_path=path, scheduler=False)
    app = create_app(runtime)
    out: dict[str, float] = {}
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        if not ahead:
            runtime.thumbs.stop()
        collection = runtime.collections()["day"]
        started = time.perf_counter()
        collection.refresh()
        if ahead and not runtime.thumbs.wait_idle(600):
            raise SystemExit("the thumbnail maker did not finish within 10 minutes")
        out["ready"] = time.perf_counter() - started
        last = runtime.index.last("day")
        assert last is not None
        day = last.time.astimezone(collection.zone).date().isoformat()
        page: list[float] = []
        ids: list[str] = []
        for number in range(1, DAY_FRAMES // DAY_PER_PAGE + 1):  # the day grid's pages
            start = time.perf_counter()
            response = client.get(
                "/collections/day/day",
                params={"day": day, "per_page": DAY_PER_PAGE, "page": number},
            )
            page.append(time.perf_counter() - start)
            shown = re.findall(r"/api/frames/(\d+)/thumb", response.text)
            if response.status_code != 200 or len(shown) != DAY_PER_PAGE:
                raise SystemExit(f"day page: HTTP {response.status_code}, {len(shown)} thumbnails")
            for frame_id in shown:
                start = time.perf_counter()
                thumb = client.get(f"/api/frames/{frame_id}/thumb")
                page.append(time.perf_counter() - start)
                assert thumb.status_code == 200, thumb.text[:200]
            ids += shown
        previews = []
        for frame_id in ids:
            start = time.perf_counter()
            preview = client.get(f"/api/frames/{frame_id}/thumb", params={"size": "preview"})
            previews.append(time.perf_counter() - start)
            assert preview.status_code == 200, preview.text[:200]
        out.update(
            page_p95=_p95(page),
            page_total=sum(page),
            preview_p95=_p95(previews),
            made=runtime.thumbs.made,
        )
    return out


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames in the large one")
    parser.add_argument("--small", type=int, default=1000, help="frames in the small one")
    parser.add_argument("--requests", type=int, default=60, help="requests per page")
    parser.add_argument(
        "--only",
        choices=("pages", "preview", "day", "player"),
        help="run one part (default: all; player: the day player in chromium, bench/player.py)",
    )
    args = parser.parse_args()
    if min(args.frames, args.small, args.requests) < 1:
        parser.error("--frames, --small and --requests must be at least 1")

    logging.basicConfig(level=logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        import starlette.testclient  # noqa: F401  (warns once, here)

    report = Report(
        f"web pages, {args.frames:,} vs {args.small:,} frames, p95 of {args.requests} requests",
        width=44,
    )
    if args.only not in ("day", "player"):
        _large_collection(report, args)
    if args.only in (None, "day"):
        _day(report)
    status = report.finish() if args.only != "player" else 0
    if args.only in (None, "player"):
        # frames shown per second while playing a day in a real browser (issue 16): its own
        # process, since it serves the dashboard and drives chromium
        played = subprocess.run([sys.executable, str(Path(__file__).with_name("player.py"))])
        status = status or played.returncode
    return status


def _large_collection(report: Report, args: argparse.Namespace) -> None:
    from starlette.testclient import TestClient

    from pylapse.config.file import load_config
    from pylapse.runtime import Runtime
    from web.app import create_app

    path = prepare(args.frames, args.small)
    runtime = Runtime(load_config(path), config_path=path, scheduler=False)
    app = create_app(runtime)
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        if args.only in (None, "preview"):
            for label, (ours, base) in preview_p95(client, runtime, args.requests).items():
                report.add(
                    f"export preview p95, {label}, {args.frames:,}", ours, base, Goal.seconds(0.1)
                )
        if args.only not in (None, "pages"):
            return
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


def _day(report: Report) -> None:
    base = first_look(ahead=False)
    ours = first_look(ahead=True)
    report.add(
        f"first look at a day: pages + {DAY_FRAMES} thumbs p95",
        ours["page_p95"],
        base["page_p95"],
        Goal.seconds(0.1),
    )
    report.add("  the whole day, pages and thumbs", ours["page_total"], base["page_total"],
               Goal.info())  # fmt: skip
    report.add(f"  day player: {DAY_FRAMES} previews p95", ours["preview_p95"],
               base["preview_p95"], Goal.seconds(0.1))  # fmt: skip
    report.add(f"  scan + {int(ours['made'])} pictures made ahead", ours["ready"], base["ready"],
               Goal.info())  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
