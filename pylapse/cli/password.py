"""`pylapse set-password`: store the dashboard password as an argon2 hash in the config.

Prompts twice on a terminal; reads one line from stdin otherwise (for scripts:
``echo "$PW" | pylapse set-password``). ``--clear`` removes the password (the dashboard then
serves loopback only). A running dashboard picks the change up within seconds (it watches the
config file).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from pylapse.cli import CommandError

MIN_LENGTH = 8


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "set-password",
        help="set the dashboard password",
        description="Set the dashboard password (stored as a salted argon2 hash in the config). "
        "Needed before serving the dashboard beyond 127.0.0.1.",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $PYLAPSE_CONFIG or ./capture_config.json)",
    )
    parser.add_argument("--clear", action="store_true", help="remove the password instead")
    parser.set_defaults(func=run)


def read_password(
    stdin: TextIO | None = None, prompt: Callable[[str], str] = getpass.getpass
) -> str:
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = prompt("New dashboard password: ")
        if prompt("Repeat it: ") != first:
            raise CommandError("the two passwords differ; nothing was changed")
        return first
    line = stdin.readline()
    return line.rstrip("\r\n")


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    if len(password) < MIN_LENGTH:
        raise CommandError(f"the password must have at least {MIN_LENGTH} characters")
    return PasswordHasher().hash(password)


def run(args: argparse.Namespace) -> int:
    from pylapse.cli import default_config_path, load_config_or_fail
    from pylapse.config.base import ConfigError
    from pylapse.config.file import save_config

    path = args.config or default_config_path()
    config = load_config_or_fail(path)
    try:
        if args.clear:
            config.web.password_hash = None
            message = "password removed"
        else:
            config.web.password_hash = hash_password(read_password())
            message = "password set"
        save_config(config, path)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    print(f"{path}: {message}; a running dashboard picks it up within seconds")
    return 0
