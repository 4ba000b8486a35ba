"""``pylapse metrics``: fill the quality scores of indexed frames that have none (resumable).

Capture scores new frames itself; this scores what a scan indexed (imported archives, folder
collections): sharpness, contrast, noise, clipped highlights and shadows, a perceptual hash and
its distance to the previous frame, and the sky metrics (colour statistics over the
``metrics_region``, EXIF exposure), from one draft decode of each frame. Stopping it (Ctrl-C)
keeps what was written; running it again carries on. Run ``pylapse index`` first.

Frames scored by an older scoring method (before an upgrade changed it) keep their scores,
which may be on another scale or lack one (version 1 has no grain, which tells a still scene
from a frozen camera); it says how many, and ``--rescore-old`` scores them again.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pylapse.cli import CommandError, add_collections_option, add_config_option, load_config_or_fail
from pylapse.progress import Progress, ProgressCallback

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="score indexed frames that have no quality scores or sky metrics yet (resumable)",
        description=__doc__.split("\n\n")[0],
    )
    add_config_option(parser)
    add_collections_option(parser)
    parser.add_argument(
        "--rescore-old",
        action="store_true",
        help="also score again the frames an older scoring method scored (before version 1 the "
        "scores are on another scale, so thresholds and best-in-window compare them wrongly "
        "with newer ones; version 1 lacks the grain that tells a still scene from a frozen "
        "camera)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pylapse.collection import Collection
    from pylapse.imaging.quality import VERSION
    from pylapse.index.store import FrameIndex
    from pylapse.tasks.metrics import backend_options, fill_metrics, older_note, region_for

    config = load_config_or_fail(args.config)
    ids = [*config.cameras, *(c for c in config.collections if c not in config.cameras)]
    wanted = args.collection or ids
    unknown = [w for w in wanted if w not in ids]
    if unknown:
        known = ", ".join(sorted(ids)) or "none"
        raise CommandError(f"no collection or camera {unknown[0]!r}; known: {known}")
    disable = args.no_progress or not sys.stderr.isatty()
    failed = older = 0
    with FrameIndex(config.index_location) as index:
        done: set[str] = set()
        for cid in (i for i in ids if i in wanted):
            key = Collection.from_config(config, cid, index).key
            if key in done:  # a collection naming a camera shares the camera's rows
                continue
            done.add(key)
            with tqdm(desc=key, unit=" frames", disable=disable, leave=False) as bar:
                result = fill_metrics(
                    index, key, _to_bar(bar), region=region_for(config, cid),
                    rescore_old=args.rescore_old, **backend_options(config),
                )  # fmt: skip
            print(result.summary)
            failed += result.failed
            older += index.count_old_scores(key, VERSION)
    if older:
        print(older_note(older))
    return 1 if failed else 0


def _to_bar(bar: Any) -> ProgressCallback:
    def progress(p: Progress) -> None:
        bar.total = p.total or None
        bar.n = p.done
        bar.refresh()

    return progress
