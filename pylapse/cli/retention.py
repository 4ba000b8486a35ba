"""``pylapse retention``: thin and expire old frames of the cameras with retention enabled.

Each camera's run is previewed first (frames and bytes per day that would go to the trash);
``--dry-run`` stops there. A real run moves frames into the camera's ``.trash`` folder, removes
their index rows, and empties trash folders older than the camera's ``trash_days``. Run
``pylapse index`` first: only indexed frames are ever moved.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pylapse.cli import CommandError, add_config_option, load_config_or_fail, progress_bars

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "retention",
        help="thin and expire old frames into each camera's trash (preview with --dry-run)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--camera",
        action="append",
        metavar="ID",
        help="only this camera (repeatable; default: every camera with retention enabled)",
    )
    parser.add_argument("--dry-run", action="store_true", help="preview only: move nothing")
    parser.add_argument(
        "--restore",
        metavar="RUN",
        help="put run RUN's frames back from the trash of --camera and index them again",
    )
    parser.add_argument(
        "--at",
        type=_instant,
        metavar="WHEN",
        help="count ages from this instant instead of now, e.g. 2027-01-01T00:00+01:00 "
        "(with --dry-run: what a run then would do)",
    )
    add_config_option(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _instant(text: str) -> float:
    from datetime import datetime

    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date and time") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a UTC offset, e.g. {text}+01:00")
    return when.timestamp()


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _print_preview(camera: str, result: dict[str, Any]) -> None:
    verb = "would go" if result["dry_run"] else "go"
    print(
        f"{camera}: {result['removed']:,} frames ({_size(result['bytes'])}) {verb} to the "
        f"trash; {result['protected']:,} kept as protected"
    )
    if not result["preview"]:
        return
    print(f"  {'day':<10}  {'frames':>7}  {'kept':>6}  {'thinned':>7}  {'expired':>7}  "
          f"{'protected':>9}  {'bytes':>9}")  # fmt: skip
    for d in result["preview"]:
        print(f"  {d['day']:<10}  {d['frames']:>7,}  {d['kept']:>6,}  {d['thinned']:>7,}  "
              f"{d['expired']:>7,}  {d['protected']:>9,}  {_size(d['bytes']):>9}")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from pylapse.index.store import FrameIndex
    from pylapse.progress import Cancelled
    from pylapse.retention.run import RetentionBusy
    from pylapse.tasks.retention import RetentionError, cameras_with_retention, run_retention

    config = load_config_or_fail(args.config)
    if args.restore:
        return _restore(config, args)
    cameras = args.camera or cameras_with_retention(config)
    if not cameras:
        raise CommandError(
            'no camera has retention enabled: add "retention": {"enabled": true, ...} to a '
            "camera in the config (see docs/configuration.md)"
        )
    with FrameIndex(config.index_location) as index:
        for camera in cameras:
            shown = not args.no_progress and sys.stderr.isatty()
            progress, close = progress_bars(shown, f"retention {camera}")
            try:
                result = run_retention(
                    config, camera, index, now=args.at, dry_run=args.dry_run, progress=progress
                )
            except (RetentionError, RetentionBusy) as exc:
                raise CommandError(str(exc)) from None
            except Cancelled as exc:
                raise CommandError(str(exc), 130) from None
            finally:
                close()
            _print_preview(camera, result)
            if not args.dry_run:
                _print_run(camera, result)
    return 0


def _restore(config: Any, args: argparse.Namespace) -> int:
    from pylapse.index.store import FrameIndex
    from pylapse.retention.run import RetentionBusy
    from pylapse.tasks.retention import RetentionError, restore

    if not args.camera or len(args.camera) != 1:
        raise CommandError("--restore needs the one --camera whose trash holds the run")
    camera = args.camera[0]
    with FrameIndex(config.index_location) as index:
        try:
            done = restore(config, camera, index, args.restore)
        except (RetentionError, RetentionBusy, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
    print(f"{camera}: put back {done['restored']:,} frames of run {done['run']}")
    if done["left"]:
        print(f"{camera}: {done['left']:,} stayed in the trash: " + "; ".join(done["notes"]))
    return 0


def _print_run(camera: str, result: dict[str, Any]) -> None:
    for run_id in result["recovered"]:
        print(f"{camera}: finished run {run_id}, which was interrupted")
    print(f"{camera}: moved {result['moved']:,} frames ({_size(result['bytes'])}) to "
          f".trash/{result['run']}")  # fmt: skip
    if result["left"]:
        print(f"{camera}: left {result['left']:,} frames alone: " + "; ".join(result["notes"]))
    emptied = result["trash_emptied"]
    if emptied["runs"]:
        print(f"{camera}: emptied {len(emptied['runs'])} trash folders past their grace period "
              f"({emptied['files']:,} files, {_size(emptied['bytes'])})")  # fmt: skip
