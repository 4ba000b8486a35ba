"""``pylapse doctor``: what this installation will use, and what is wrong with it.

Prints the ffmpeg in use (where it came from, its version, which of our codecs it can encode,
whether it can stabilise renders and why not),
the Python and package versions, whether the config is valid and the data folder writable. Exits
non-zero when something needed is missing, so scripts can run it as a health check.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pylapse

if TYPE_CHECKING:
    from pylapse.config.models import Config

__all__ = ["register", "run"]

_PACKAGES = (
    "pylapse",
    "fastapi",
    "uvicorn",
    "pydantic",
    "apscheduler",
    "pillow",
    "imageio-ffmpeg",
    "httpx",
    "jinja2",
    "piexif",
    "astral",
    "tqdm",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check ffmpeg, packages, config and data folder", description=__doc__
    )
    parser.add_argument(
        "--config", default=None, help="config file to check (default: ./capture_config.json)"
    )
    parser.set_defaults(func=run)


def _line(ok: bool | None, label: str, detail: str) -> str:
    mark = {True: "ok  ", False: "FAIL", None: "--  "}[ok]
    return f"[{mark}] {label:<14} {detail}"


def _config(path: str | None) -> tuple[list[str], Config | None, bool]:
    from pylapse.config.base import ConfigError
    from pylapse.config.file import load_config
    from pylapse.config.models import DEFAULT_CONFIG_NAME

    target = Path(path or DEFAULT_CONFIG_NAME)
    if path is None and not target.exists():
        return [_line(None, "config", f"{target} not found (defaults apply)")], None, True
    try:
        config = load_config(target)
    except ConfigError as exc:
        problems = getattr(exc, "problems", [str(exc)])
        lines = [_line(False, "config", f"{target}: {len(problems)} problem(s)")]
        return lines + [f"       {p}" for p in problems], None, False
    return [_line(True, "config", f"{target.resolve()} is valid")], config, True


def _data_folder(config: Config | None) -> tuple[str, bool]:
    folder = config.data_path if config is not None else Path("data").absolute()
    probe = folder if folder.exists() else next((p for p in folder.parents if p.exists()), None)
    try:
        if probe is None:
            raise OSError("no existing parent")
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".pylapse-doctor-"):
            pass
    except OSError as exc:
        return _line(False, "data folder", f"{folder} is not writable: {exc}"), False
    state = "writable" if folder.exists() else "will be created"
    return _line(True, "data folder", f"{folder} ({state})"), True


def _ffmpeg(config: Config | None) -> tuple[list[str], bool]:
    from pylapse.ffmpeg import FfmpegError, FfmpegNotFound, configured_ffmpeg, find_ffmpeg
    from pylapse.video.codecs import CODECS

    try:
        info = find_ffmpeg(configured_ffmpeg(config) if config is not None else None)
        version = info.version
        encoders = info.encoders
    except (FfmpegNotFound, FfmpegError) as exc:
        return [_line(False, "ffmpeg", str(exc))], False
    lines = [
        _line(True, "ffmpeg", f"{info.path} (from {info.source})"),
        _line(True, "ffmpeg version", version),
    ]
    for codec in CODECS.values():
        has = codec.encoder in encoders
        lines.append(_line(has, f"codec {codec.name}", f"{codec.encoder}: {codec.description}"))
    why_not = info.stabilise_support()
    # optional: a render without stabilising is still a render, so this never fails the check
    lines.append(
        _line(
            True if why_not is None else None,
            "stabilise",
            "offered: this ffmpeg has vidstabdetect + vidstabtransform "
            "(pylapse render --stabilise, the render form's Stabilise)"
            if why_not is None
            else f"not offered: {why_not}",
        )
    )
    usable = any(c.encoder in encoders for c in CODECS.values())
    return lines, usable


def _versions() -> list[str]:
    lines = [_line(None, "python", f"{platform.python_version()} ({sys.executable})")]
    for name in _PACKAGES:
        try:
            version = pylapse.__version__ if name == "pylapse" else importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(_line(None, name, version))
    return lines


def run(args: argparse.Namespace) -> int:
    config_lines, config, config_ok = _config(args.config)
    ffmpeg_lines, ffmpeg_ok = _ffmpeg(config)
    data_line, data_ok = _data_folder(config)
    for line in [*ffmpeg_lines, *_versions(), *config_lines, data_line]:
        print(line)
    healthy = config_ok and ffmpeg_ok and data_ok
    print("\nall good" if healthy else "\nproblems found (see FAIL above)")
    return 0 if healthy else 1
