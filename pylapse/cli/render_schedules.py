"""``pylapse render-schedules``: list the config's render schedules, or run one now.

``pylapse render-schedules run ID`` renders schedule ID's period now (or as at ``--at``) and
prints the video's path; older outputs beyond the schedule's ``keep`` are removed.
``pylapse render-schedules list`` prints each schedule with its period and next run.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from pylapse.cli import CommandError, add_config_option, load_config_or_fail, progress_bars

__all__ = ["register", "run_list", "run_now"]


def _instant(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not a time like 2026-12-07T06:00+01:00"
        raise argparse.ArgumentTypeError(msg) from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs its UTC offset (e.g. +01:00)")
    return when


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "render-schedules",
        help="list the render schedules, or run one now and print its video's path",
        description=__doc__.split("\n\n")[0],
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    now = actions.add_parser("run", help="render schedule ID's period now; prints the video")
    now.add_argument("schedule", metavar="ID", help="the schedule's id under render_schedules")
    now.add_argument("--at", type=_instant, metavar="WHEN",
                     help="run as if fired at WHEN (e.g. 2026-12-07T06:00+01:00)")  # fmt: skip
    now.add_argument("--progress", action="store_true", help="progress bars on stderr")
    add_config_option(now)
    now.set_defaults(func=run_now)
    listing = actions.add_parser("list", help="each schedule, its period and next run")
    add_config_option(listing)
    listing.set_defaults(func=run_list)


def run_now(args: argparse.Namespace) -> int:
    from pylapse.index.store import FrameIndex
    from pylapse.progress import Cancelled
    from pylapse.tasks.render_schedule import run_schedule

    config = load_config_or_fail(args.config)
    if args.schedule not in config.render_schedules:
        known = ", ".join(sorted(config.render_schedules)) or "none"
        raise CommandError(f"no render schedule {args.schedule!r}; the config has: {known}")
    config.data_path.mkdir(parents=True, exist_ok=True)
    progress, close = progress_bars(args.progress, f"render {args.schedule}")
    with FrameIndex(config.index_location) as index:
        try:
            result = run_schedule(config, index, args.schedule, args.at, progress)
        except Cancelled as exc:
            raise CommandError(str(exc), 130) from None
        except (ValueError, OSError, RuntimeError) as exc:
            raise CommandError(f"render schedule {args.schedule}: {exc}") from None
        finally:
            close()
    for removed in result.get("removed", []):
        print(f"removed older output {removed}", file=sys.stderr)
    print(result["output"])
    return 0


def run_list(args: argparse.Namespace) -> int:
    from pylapse.tasks.render_schedule import next_fire, schedule_zone

    config = load_config_or_fail(args.config)
    if not config.render_schedules:
        print("no render schedules in the config (render_schedules: {ID: {...}})")
        return 0
    for sid, schedule in config.render_schedules.items():
        zone = schedule_zone(config, schedule)
        nxt = next_fire(schedule, datetime.now(zone), zone).isoformat(timespec="minutes")
        state = "" if schedule.enabled else " (disabled)"
        print(f"{sid}\t{schedule.collection}\t{schedule.period}\tnext {nxt}\tkeep "
              f"{schedule.keep or 'all'}{state}")  # fmt: skip
    return 0
