"""``pylapse capture`` (= ``autocapture.py``): headless capture from the config, no browser.

Runs the same scheduler as the web app, honouring everything in the config (enabled flags,
cron and interval schedules, time zones, file name formats, quality, resize, retries). Logs one
line per capture or failure. SIGINT or SIGTERM stops it within a few seconds: captures still
downloading are abandoned before they write, so no partial frame or temp file is left.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path

from pylapse.capture.lock import LockHeld
from pylapse.cli import CommandError, default_config_path, load_config_or_fail
from pylapse.config.models import DEFAULT_CONFIG_NAME

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
        help=f"config file (default: $PYLAPSE_CONFIG, else ./{DEFAULT_CONFIG_NAME})",
    )
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

    path = args.config or default_config_path()
    config = load_config_or_fail(path, code=2)
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
