"""``pylapse import-v02``: bring pyLapse 0.2's dashboard data into this config and job history.

PATH is the folder that holds 0.2's ``collections.json`` and ``history.json`` (or one of the
files). Collections become collections, their exports become export presets (the config is
saved atomically, the previous file kept as a backup, and refused if it changed meanwhile), and
the export and video history becomes finished jobs on the Exports and Videos pages. Running it
again adds nothing already imported; the report says what was taken, skipped and why.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pylapse.cli import CommandError, load_config_or_fail

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from pylapse.config.models import DEFAULT_CONFIG_NAME

    parser = subparsers.add_parser(
        "import-v02",
        help="import pyLapse 0.2's collections.json and history.json",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "path", type=Path, help="folder holding collections.json / history.json, or one of them"
    )
    parser.add_argument("--config", type=Path, help=f"config (default ./{DEFAULT_CONFIG_NAME})")
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be imported; change nothing"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pylapse.config.base import ConfigError
    from pylapse.config.file import save_config
    from pylapse.db import DB_NAME
    from pylapse.tasks.import_v02 import ImportV02Error, import_v02, write_marker

    config = load_config_or_fail(args.config)
    stamp = config._stamp  # the file as loaded: a save after someone else's edit is refused
    try:
        report = import_v02(
            args.path,
            config,
            config.data_path / DB_NAME,
            save=lambda updated: save_config(updated, expect=stamp),
            dry_run=args.dry_run,
        )
    except (ImportV02Error, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    if not args.dry_run and config.source is not None and report.source == config.base_dir:
        write_marker(config.data_path, report)  # the files beside the config: start skips them
    for line in report.lines():
        print(line)
    if report.config_saved:
        print(f"saved {report.config_saved}")
    return 0
