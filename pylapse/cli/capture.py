"""``pylapse capture`` (= ``autocapture.py``): headless capture from the config, no browser.

Runs the same scheduler as the web app, honouring everything in the config (enabled flags,
cron and interval schedules, time zones, file name formats, quality, resize, retries). Logs one
line per capture or failure. SIGINT or SIGTERM stops it within a few seconds: captures still
downloading are abandoned before they write, so no partial frame or temp file is left.

Without ``--config`` the config is ``$PYLAPSE_CAPTURE_CONFIG`` (pyLapse 0.2's name), else
``$PYLAPSE_CONFIG``, else ``capture_config.json`` beside autocapture.py, else in the current
folder. A camera entry that is invalid is logged and left out; the others capture.
``--check`` validates the config, prints every problem and exits non-zero if there is one.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path

from pylapse.capture.lock import LockHeld
from pylapse.cli import CommandError, find_config, load_config_or_fail
from pylapse.config.models import Config

CHECK_FAILED = 1  # --check: the file loads, but some camera entries are invalid
CONFIG_UNUSABLE = 2  # the file cannot be loaded at all

log = logging.getLogger("pylapse.capture")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "capture",
        help="capture frames on the configured schedules (headless; = autocapture.py)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $PYLAPSE_CAPTURE_CONFIG, else $PYLAPSE_CONFIG, else "
        "capture_config.json beside autocapture.py, else in the current folder)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate the config, print every problem and exit (status 1 when a camera entry "
        "is invalid, 2 when the file cannot be used, 0 when all is well)",
    )
    # autocapture.py passes its own folder: pyLapse 0.2 read the config beside the script
    parser.add_argument("--beside", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until stopped)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pylapse.runtime import Runtime

    path = args.config or find_config(args.beside)
    # a file that cannot be used is an error with every problem listed, --check or not
    config = load_config_or_fail(path, code=CONFIG_UNUSABLE)
    if args.check:
        return _check(path, config)
    if config.invalid_cameras and not config.cameras:
        # a camera set aside leaves the others running; with none left there is nothing to run
        problems = [p for entry in config.invalid_cameras.values() for p in entry.problems]
        raise CommandError(
            f"{path}: every camera entry is invalid; nothing to capture\n{path}: "
            + f"\n{path}: ".join(problems),
            code=CONFIG_UNUSABLE,
        )
    enabled = [c for c in config.cameras.values() if c.enabled and c.schedules]
    if not enabled:
        log.warning("%s: no enabled camera with a schedule; nothing will be captured", path)

    # One line per capture or failure: APScheduler's per-run INFO lines would double them (the
    # scheduler logs skipped and missed slots itself).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    stop = threading.Event()
    previous = {}

    def _on_signal(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, _on_signal)
    runtime = Runtime(config, config_path=path, jobs=False)
    try:
        try:
            runtime.start()
        except LockHeld as exc:
            raise CommandError(str(exc)) from None
        log.info("capturing from %s (Ctrl-C or SIGTERM stops)", path.resolve())
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while not stop.wait(0.5):  # short waits: signal handlers run promptly between them
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        runtime.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")
    return 0


def _check(path: Path, config: Config) -> int:
    """Print what ``config`` would capture and every problem; the exit status for --check."""
    ready = [cid for cid, c in config.cameras.items() if c.enabled and c.schedules]
    idle = [cid for cid in config.cameras if cid not in ready]
    print(f"{path}: {len(ready)} camera(s) would capture: {', '.join(ready) or 'none'}")
    if idle:
        print(f"{path}: disabled or without a schedule: {', '.join(idle)}")
    for warning in config.warnings:
        print(f"{path}: note: {warning}")
    for camera_id, entry in config.invalid_cameras.items():
        print(f"{path}: camera {camera_id} is invalid and would NOT be captured:")
        for problem in entry.problems:
            print(f"{path}:   {problem}")
    count = len(config.invalid_cameras)
    if count:
        print(f"{path}: {count} invalid camera {'entry' if count == 1 else 'entries'}: fix them")
        return CHECK_FAILED
    print(f"{path}: ok")
    return 0
