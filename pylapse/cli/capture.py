"""``pylapse capture`` (= ``autocapture.py``): headless capture from the config, no browser.

Runs the same scheduler as the web app, honouring everything in the config (enabled flags,
cron and interval schedules, time zones, file name formats, quality, resize, retries). Logs one
line per capture or failure. SIGINT or SIGTERM stops it within a few seconds: captures still
downloading are abandoned before they write, so no partial frame or temp file is left.

Without ``--config`` the config is ``$PYLAPSE_CAPTURE_CONFIG`` (pyLapse 0.2's name), else
``$PYLAPSE_CONFIG``, else ``capture_config.json`` beside autocapture.py, else in the current
folder. A camera entry that is invalid is logged and left out; the others capture.
``--check`` validates the config, prints every problem and exits non-zero if there is one.

Several hosts (or several processes on one host) may capture from one config and data: each
camera is captured by the holder of its lease only (see :mod:`pylapse.capture.leases`), and the
others wait for it. ``--host NAME`` names this host (default: ``$PYLAPSE_HOST``, else the
config's ``capture.host``, else the machine's name); ``--status`` lists the hosts and leases
and exits.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path

from pylapse import timeutil
from pylapse.cli import CommandError, find_config, load_config_or_fail
from pylapse.config.capture import check_host_name, host_name
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
    parser.add_argument(
        "--host",
        type=_host_arg,
        default=None,
        metavar="NAME",
        help="this host's name for the camera leases and the cameras' capture_host (default: "
        "$PYLAPSE_HOST, else the config's capture.host, else the machine's host name)",
    )
    parser.add_argument(
        "--status",
        action="store_true",
        help="list the capture hosts (last heartbeat) and which host captures which camera, "
        "then exit",
    )
    parser.set_defaults(func=run)


def _host_arg(value: str) -> str:
    try:
        return check_host_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from pylapse.runtime import Runtime

    path = args.config or find_config(args.beside)
    # a file that cannot be used is an error with every problem listed, --check or not
    config = load_config_or_fail(path, code=CONFIG_UNUSABLE)
    if args.check:
        return _check(path, config)
    if args.status:
        return _status(config)
    if config.invalid_cameras and not config.cameras:
        # a camera set aside leaves the others running; with none left there is nothing to run
        problems = [p for entry in config.invalid_cameras.values() for p in entry.problems]
        raise CommandError(
            f"{path}: every camera entry is invalid; nothing to capture\n{path}: "
            + f"\n{path}: ".join(problems),
            code=CONFIG_UNUSABLE,
        )
    try:
        host = host_name(config.capture, args.host)
    except ValueError as exc:
        raise CommandError(str(exc), code=CONFIG_UNUSABLE) from None
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
    runtime = Runtime(config, config_path=path, jobs=False, host=host)
    try:
        runtime.start()
        log.info("capturing from %s as host %s (Ctrl-C or SIGTERM stops)", path.resolve(), host)
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


def _status(config: Config) -> int:
    """Print the capture hosts and the camera leases recorded in the index database."""
    from pylapse.capture.leases import LeaseStore

    store = LeaseStore(config.index_location)
    try:
        hosts, leases, duty = store.hosts(), store.leases(), store.duty()
    finally:
        store.close()
    now = timeutil.now().timestamp()
    print(f"capture hosts ({len(hosts)}):")
    for beat in hosts:
        ago = now - beat.heartbeat_at
        silent = "" if ago <= config.capture.lease_seconds else " (silent: stopped or cut off)"
        print(f"  {beat.host} (pid {beat.pid}): last heartbeat {ago:.0f} s ago{silent}")
    held = {lease.camera_id: lease for lease in leases if lease.live(now)}
    print(f"scheduled renders (site duty): {f'run by {duty.describe()}' if duty else 'no host'}")
    print("cameras:")
    for camera_id, cfg in config.cameras.items():
        lease = held.get(camera_id)
        where = f"captured by {lease.describe()}" if lease else "not captured by any host"
        pin = f", pinned to {cfg.capture_host}" if cfg.capture_host else ""
        print(f"  {camera_id}: {where}{pin}")
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
