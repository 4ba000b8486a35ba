"""The `pylapse` console command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed namespace and returning
an exit code. Modules are imported only when the command line is parsed, so ``import pylapse``
stays cheap.

Commands that live outside the library register through the ``pylapse.commands`` entry-point
group (the dashboard's ``web`` command is the ``web`` package's, so ``pylapse/`` never imports it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from pylapse.redact import mask_logging

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.progress import ProgressCallback

# The library's own subcommand modules, in the order `pylapse --help` lists them (after plugins).
_COMMANDS = (
    "capture", "render", "export", "index", "metrics", "importer", "import_v02", "doctor",
    "password", "picture", "notify", "retention", "mosaic", "worker",
    "render_schedules",
)
ENTRY_POINT_GROUP = "pylapse.commands"


class CommandError(Exception):
    """A failure to report as one line on stderr with a non-zero exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def build_parser(extra: Sequence[ModuleType] = ()) -> argparse.ArgumentParser:
    """The ``pylapse`` parser: plugin commands (entry points), ``extra`` command modules (each
    with a ``register(subparsers)``; skipped when a plugin already is that module, so a script
    can bring its command along whether or not the package is installed), then the library's."""
    parser = argparse.ArgumentParser(
        prog="pylapse",
        description="Capture, index, select, export and render long-term timelapses.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plugins = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    modules = [ep.load() for ep in plugins]
    modules += [m for m in extra if m not in modules]
    for module in modules:
        module.register(sub)
    for name in _COMMANDS:
        importlib.import_module(f"pylapse.cli.{name}").register(sub)
    return parser


def progress_bars(
    enabled: bool, desc: str
) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """A tqdm bar per stage on stderr (and the function that closes them), or nothing."""
    if not enabled:
        return None, lambda: None
    from pylapse.video.render import tqdm_progress

    return tqdm_progress(desc)


# the variables naming the config, in order: pyLapse 0.2's name first, as its scripts set it
CONFIG_VARIABLES = ("PYLAPSE_CAPTURE_CONFIG", "PYLAPSE_CONFIG")


def _config_places(beside: str | os.PathLike[str] | None) -> tuple[Path | None, list[str]]:
    """The config a command without ``--config`` uses, or None, and every place looked at.

    A variable that is set names the file outright (a missing file is then an error, never a
    silent fall-back to another config); otherwise ``capture_config.json`` beside the script
    (``beside``: autocapture.py's folder, where pyLapse 0.2 looked), then in the current folder.
    """
    from pylapse.config.models import DEFAULT_CONFIG_NAME

    looked = []
    for variable in CONFIG_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return Path(value), [f"${variable} = {value}"]
        looked.append(f"${variable} (not set)")
    folders = [(Path(beside), "beside the script")] if beside else []
    folders.append((Path.cwd(), "the current folder"))
    for folder, what in folders:
        path = folder / DEFAULT_CONFIG_NAME
        if path.is_file():
            return path, [*looked, f"{path} ({what})"]
        looked.append(f"{path} ({what}: none)")
    return None, looked


def default_config_path(beside: str | os.PathLike[str] | None = None) -> Path:
    """The config to use when none is given: ``$PYLAPSE_CAPTURE_CONFIG``, else
    ``$PYLAPSE_CONFIG``, else ``capture_config.json`` beside the script ``beside`` (if given),
    else in the current folder (also when there is none: loading it then says so)."""
    from pylapse.config.models import DEFAULT_CONFIG_NAME

    found, _ = _config_places(beside)
    return found or Path(DEFAULT_CONFIG_NAME)


def find_config(beside: str | os.PathLike[str] | None = None) -> Path:
    """:func:`default_config_path`, or a :class:`CommandError` naming every place looked at
    when there is no config anywhere (or a variable names a file that does not exist)."""
    found, looked = _config_places(beside)
    if found is None:
        raise CommandError(
            "no config file found; looked at: " + "; ".join(looked) + ". Pass --config, set "
            "$PYLAPSE_CAPTURE_CONFIG, or copy capture_config.example.json to one of these places"
        )
    if not found.exists():
        raise CommandError(f"{found}: no such config file (named by {looked[-1].split()[0]})")
    named = [v for v in CONFIG_VARIABLES if os.environ.get(v)]
    if len(named) == 2 and os.environ[named[0]] != os.environ[named[1]]:
        logging.getLogger("pylapse.config").warning(
            "$%s and $%s name different files; using %s", *named, found
        )
    return found


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The ``--config`` option every command that reads the config file takes."""
    from pylapse.config.models import DEFAULT_CONFIG_NAME

    parser.add_argument(
        "--config",
        type=Path,
        help=f"config file (default: $PYLAPSE_CONFIG, else ./{DEFAULT_CONFIG_NAME})",
    )


def add_collections_option(parser: argparse.ArgumentParser) -> None:
    """``--collection ID`` (repeatable) for commands that work on every collection by default."""
    parser.add_argument(
        "--collection",
        action="append",
        metavar="ID",
        help="only this collection or camera id (repeatable; default: all)",
    )


def load_config_or_fail(path: Path | str | None, code: int = 1) -> Config:
    """The config at ``path`` (default: :func:`default_config_path`), its warnings logged; a
    bad file becomes a one-line :class:`CommandError`."""
    from pylapse.config.base import ConfigError
    from pylapse.config.file import load_config

    try:
        config = load_config(Path(path) if path else default_config_path())
    except ConfigError as exc:
        raise CommandError(str(exc), code=code) from None
    for warning in getattr(config, "warnings", ()):
        logging.getLogger("pylapse.config").warning("%s", warning)
    return config


def main(argv: Sequence[str] | None = None, extra: Sequence[ModuleType] = ()) -> int:
    parser = build_parser(extra)
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Camera URLs carry passwords and tokens; libraries log them (httpx: every request's URL
    # at INFO), so every line any logger writes through these handlers is masked.
    mask_logging()
    if not args.verbose:
        # One line per capture comes from pylapse itself; APScheduler's "Running job" /
        # "executed successfully" pairs would triple the log of a camera shooting every 10 s,
        # and httpx's "HTTP Request: GET ..." would double it.
        for chatty in ("apscheduler", "httpx", "httpcore"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"pylapse {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"pylapse {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from pylapse.capture.disk import is_disk_full

        if not is_disk_full(exc):
            raise
        print(f"pylapse {args.command}: {_disk_full(args, exc)}", file=sys.stderr)
        return 1


def _disk_full(args: argparse.Namespace, exc: BaseException) -> str:
    """One line for a full disk, naming the folder: the file an OS error names, else the data
    folder (SQLite's own errors name no file; the config says where the database is)."""
    from pylapse.config.file import load_config

    data = None
    with contextlib.suppress(Exception):
        data = load_config(getattr(args, "config", None) or default_config_path()).data_path
    then = "free space and run it again"
    link: BaseException | None = exc
    while link is not None:
        name = getattr(link, "filename", None) if isinstance(link, OSError) else None
        folder = Path(os.fspath(name)).absolute().parent if name else None
        if folder is not None and not (data and folder.is_relative_to(data)):
            return f"the disk holding {folder} is full: {then}"
        link = link.__cause__ or link.__context__
    if data is None:
        return f"the disk is full ({exc}): {then}"
    return f"the disk holding the data folder ({data}) is full: {then}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
