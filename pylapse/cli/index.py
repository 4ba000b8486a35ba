"""``pylapse index``: bring the frame index up to date with the folders, incrementally.

Scans the configured collections plus one implicit collection per camera (id = camera id, folder
= the camera's output_dir, zone = the camera's time zone). A folder unchanged since the last scan
is not even listed, so running this often is cheap. ``--rebuild`` forgets a collection's rows
first (the index is a cache of the files: nothing is lost); ``--verify`` also checks every file
for in-place changes.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse.cli import CommandError, add_collections_option, add_config_option, load_config_or_fail

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.index.scan_result import ScanResult
    from pylapse.index.store import FrameIndex

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "index",
        help="update the frame index from the collection folders (incremental)",
        description=__doc__.split("\n\n")[0],
    )
    add_config_option(parser)
    add_collections_option(parser)
    parser.add_argument(
        "--rebuild", action="store_true", help="forget the rows first and scan from scratch"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="list every folder and check every file (finds files rewritten in place)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="index_action", metavar="{migrate}")
    migrate = actions.add_parser(
        "migrate",
        help="copy the index into another database (resumable) and verify the copy",
        description="Copy the frame index (by default the config's) into another database, "
        "e.g. PostgreSQL, then verify it: row counts and a checksum of (collection, name, "
        "utc) per day. Run again after an interruption: it goes on where it stopped. Then set "
        "index_url in the config to the target.",
    )
    add_config_option(migrate)
    migrate.add_argument("--to", required=True, help="postgresql://user:password@host/db")
    migrate.add_argument(
        "--from", dest="source", help="the index to copy (default: the config's)"
    )
    migrate.add_argument("--no-progress", action="store_true", help="no progress bar")
    migrate.set_defaults(func=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    """``pylapse index migrate --to URL``: copy and verify (:mod:`pylapse.index.transfer`)."""
    from pylapse import db
    from pylapse.index.transfer import TransferError, copy_index
    from pylapse.redact import mask_secrets

    config = load_config_or_fail(args.config)
    source = args.source or config.index_location
    if str(source) == args.to:
        raise CommandError("--to names the index being copied: give another database")

    def progress(done: int, total: int) -> None:
        if not args.no_progress and sys.stderr.isatty():
            print(f"\r{done}/{total} frames", end="", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        report = copy_index(source, args.to, progress)
    except (TransferError, OSError, sqlite3.Error) as exc:
        raise CommandError(f"index migrate: {mask_secrets(str(exc))}") from None
    if not args.no_progress and sys.stderr.isatty():
        print(file=sys.stderr)
    resumed = f" (resumed after frame {report.resumed_after})" if report.resumed_after else ""
    print(
        f"copied {report.frames} frames{resumed} to {db.describe(args.to)} in "
        f"{time.monotonic() - started:.1f} s; verified: "
        + ", ".join(f"{n} {table}" for table, n in report.counts.items())
        + f", {report.days} collection days' checksums"
    )
    print(f'set "index_url": "{db.describe(args.to)}" in the config (with its password)')
    return 0


def _targets(config: Config, wanted: list[str] | None) -> list[str]:
    """Collection ids to scan, cameras first (the order the runtime lists them in)."""
    ids = [*config.cameras, *(c for c in config.collections if c not in config.cameras)]
    if not wanted:
        return ids
    unknown = [w for w in wanted if w not in ids]
    if unknown:
        known = ", ".join(sorted(ids)) or "none"
        raise CommandError(f"no collection or camera {unknown[0]!r}; known: {known}")
    return [i for i in ids if i in wanted]


def run(args: argparse.Namespace) -> int:
    from pylapse.collection import Collection
    from pylapse.index.scan import ScanError
    from pylapse.index.store import FrameIndex

    config = load_config_or_fail(args.config)
    targets = _targets(config, args.collection)
    if not targets:
        print("nothing to index: the config has no cameras and no collections")
        return 0
    failed = scanned = frames = 0
    started = time.perf_counter()
    roots: dict[str, Path] = {}  # index key -> folder scanned into it this run
    with FrameIndex(config.index_location) as index:
        for cid in targets:
            coll = Collection.from_config(config, cid, index)
            folder = Path(coll.collection_dir)
            if coll.key in roots:
                if roots[coll.key] != folder:
                    print(
                        f"{cid}: skipped: its frames are indexed as {coll.key!r}, which was "
                        f"scanned from {roots[coll.key]}, not {folder}",
                        file=sys.stderr,
                    )
                continue
            roots[coll.key] = folder
            if not folder.is_dir() and cid in config.cameras and cid not in config.collections:
                print(f"{cid}: no frames yet ({folder} does not exist)")
                continue
            if args.rebuild:
                index.drop(coll.key)
            try:
                result = scan_with_bar(index, coll, args)
            except ScanError as exc:
                print(f"{cid}: {exc}", file=sys.stderr)
                failed += 1
                continue
            scanned, frames = scanned + 1, frames + result.total
            print(result.summary if cid == coll.key else f"{cid} -> {result.summary}")
            if result.links_outside:
                print(f"  {result.outside_message}", file=sys.stderr)
            for problem in result.problems[:5]:
                print(f"  {problem}", file=sys.stderr)
            if len(result.problems) > 5:
                print(f"  ({len(result.problems) - 5} more problems not shown)", file=sys.stderr)
    if scanned > 1:
        elapsed = time.perf_counter() - started
        print(f"{scanned} collections, {frames} frames indexed in {elapsed:.2f} s")
    return 1 if failed else 0


def scan_with_bar(index: FrameIndex, coll: Collection, args: argparse.Namespace) -> ScanResult:
    """One collection's scan with a tqdm bar of folders (on stderr, only on a terminal)."""
    from tqdm import tqdm

    from pylapse.progress import Progress

    disable = args.no_progress or not sys.stderr.isatty()
    with tqdm(desc=coll.key, unit=" folders", disable=disable, leave=False) as bar:

        def progress(p: Progress) -> None:
            bar.total = p.total or None
            bar.n = p.done
            bar.set_postfix_str(p.message, refresh=False)
            bar.refresh()

        return index.scan(
            coll.key,
            coll.collection_dir,
            coll.timeline,
            progress=progress,
            verify=args.verify,
            **coll.scan_options(),
        )
