"""Name-parsing benchmark: the frame index's hot path over many frame names.

    ./bench.sh naming [--names 200000]

Names are made for a frame every 10 s from 2023-01-01 (so they span weeks of days, as a real
scan does). For each shape of name:

* ours: :func:`pylapse.naming.parse_name_utc` (UTC seconds + offset, what the index stores),
  and :func:`pylapse.naming.parse_name_kind` (the same plus whether the offset came from the
  name, which must cost no more);
* baseline: ``datetime.strptime`` of the same text (what a straightforward parser does), then
  ``.timestamp()``; for names without offset, ``strptime`` + ``localize`` in the zone.

Prints one line per measure: name, ours, baseline, ratio, goal (per name, best of 3 runs).
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta


def line(name: str, value: str, baseline: str, ratio: str, goal: str) -> None:
    print(f"{name:<34} {value:>12} {baseline:>12} {ratio:>8}  {goal}", flush=True)


def best_of(fn, items, zone, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for item in items:
            fn(item, zone)
        best = min(best, time.perf_counter() - start)
    return best / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=200_000)
    args = parser.parse_args()

    from pylapse import naming, timeutil

    tokyo = timeutil.zone("Asia/Tokyo")
    berlin = timeutil.zone("Europe/Berlin")
    start = datetime(2023, 1, 1, tzinfo=tokyo)
    steps = [timedelta(seconds=10 * i) for i in range(args.names)]
    default = [naming.format_name(start + s, prefix="sky-north-") for s in steps]
    compact = [(start + s).strftime("IMG_%Y%m%d_%H%M%S.jpg") for s in steps]

    def strptime_default(name: str, zone: object) -> float:
        text = name[len("sky-north-") : -len(".jpg")].replace(".", "", 1)
        return datetime.strptime(text, "%Y-%m-%dT%H-%M-%S%z").timestamp()

    def strptime_compact(name: str, zone: object) -> float:
        naive = datetime.strptime(name[4:-4], "%Y%m%d_%H%M%S")
        return timeutil.localize(naive, zone).timestamp()

    line("measure (per name)", "ours", "baseline", "ratio", "goal")
    utc, kind = naming.parse_name_utc, naming.parse_name_kind
    for label, fn, items, zone, baseline, goal in [
        ("default format, with offset", utc, default, tokyo, strptime_default, "<= 2 us"),
        ("  the same, with its kind", kind, default, tokyo, strptime_default, "<= 2 us"),
        ("IMG_ compact, local (Berlin)", utc, compact, berlin, strptime_compact, "< baseline"),
        ("  the same, with its kind", kind, compact, berlin, strptime_compact, "< baseline"),
    ]:
        ours = best_of(fn, items, zone)
        base = best_of(baseline, items, zone)
        line(label, f"{ours * 1e6:.2f} us", f"{base * 1e6:.2f} us", f"{ours / base:.2f}x", goal)


if __name__ == "__main__":
    main()
