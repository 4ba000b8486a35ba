"""Helpers for the tests that kill processes: which processes run (from /proc, Linux), real
frames to render, and a render slow enough to be killed in the middle."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def cmdlines() -> Iterator[tuple[int, list[str]]]:
    """(pid, argv) of every process this one can see."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if raw:
                yield int(entry), [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def running(marker: str, program: str) -> list[int]:
    """Pids of live processes running ``program`` with ``marker`` in an argument."""
    found = []
    for pid, argv in cmdlines():
        if program in os.path.basename(argv[0]) and any(marker in a for a in argv[1:]):
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
            except OSError:
                continue
            if state != "Z":  # a zombie has exited; only its parent's wait is missing
                found.append(pid)
    return found


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def write_frames(folder: Path, count: int, size: tuple[int, int] = (160, 90)) -> Path:
    """``000001.jpg`` ... small JPEGs of different colours."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = Image.new("RGB", size, (20 + i * 9 % 200, 60, 120))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        (folder / f"{i + 1:06d}.jpg").write_bytes(out.getvalue())
    return folder


def start_render(frames: Path, output: Path, log: Path) -> subprocess.Popen[bytes]:
    """``pylapse render`` of a slow encode (tiny frames scaled up to 4K, veryslow): it runs
    for minutes unless stopped."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "pylapse.cli", "render", str(frames), str(output),
             "--size", "3840x2160", "--preset", "veryslow", "--no-progress", "-y"],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def temps(folder: Path, name: str) -> list[Path]:
    """The hidden temp files of renders to ``folder/name``."""
    return sorted(p for p in folder.glob(f".{name}.*") if p.name.endswith(".tmp"))


def kill_leftovers(marker: str) -> None:
    """SIGKILL whatever still runs with ``marker`` in its arguments (on unfixed code: the
    orphaned ffmpegs), so a failing test leaves no encoder behind."""
    for pid, argv in cmdlines():
        if pid != os.getpid() and any(marker in a for a in argv[1:]):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
