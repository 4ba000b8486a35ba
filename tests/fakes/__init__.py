"""Stand-in executables for camera hardware: ``rpicam-still``, ``libcamera-still``, ``gphoto2``.

They are Python scripts (``#!/usr/bin/env python3``) honouring the real tools' flags, output files,
messages and exit codes; each documents the environment variables that choose its state (no
camera, busy, hanging). They draw their images with Pillow, so the ``python3`` they run with must
have it: :func:`path_with_fakes` puts a ``python3`` shim for the running interpreter first.

Usage in a test::

    monkeypatch.setenv("PATH", path_with_fakes(tmp_path))
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "none")   # -> exit 255, no cameras available
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

FAKES = Path(__file__).resolve().parent
TOOLS = ("rpicam-still", "libcamera-still", "gphoto2")

__all__ = ["FAKES", "TOOLS", "path_with_fakes"]


def path_with_fakes(folder: Path, tools: Iterable[str] = TOOLS, *, keep_path: bool = True) -> str:
    """A PATH value with a ``python3`` shim and the chosen fake ``tools`` first (links in
    ``folder/bin``), followed by the current PATH unless ``keep_path`` is False."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "python3"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    for tool in tools:
        if tool not in TOOLS:
            raise ValueError(f"no fake for {tool!r}; fakes: {', '.join(TOOLS)}")
        link = bin_dir / tool
        if not link.exists():
            link.symlink_to(FAKES / tool)
    parts = [str(bin_dir)]
    if keep_path:
        parts.append(os.environ.get("PATH", ""))
    else:  # only the basics the scripts need (env, sh), none of the system's camera tools
        parts.append("/usr/bin:/bin")
    return os.pathsep.join(parts)
