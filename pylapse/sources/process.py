"""Running a camera tool (rpicam-still, gphoto2, ffmpeg) for one frame, with a hard time limit,
or keeping one running between frames (:class:`ToolSession`: a camera kept open).

Every tool runs from an argument list (never a shell), in its own process group so that a timeout
kills it and anything it started, with stdin closed so a tool that asks a question (gphoto2's
"Overwrite? [y|n]") fails instead of waiting for an answer that never comes. It dies with
pyLapse, even by ``kill -9`` (:mod:`pylapse.orphans`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pylapse.orphans import child_argv
from pylapse.redact import mask_secrets

__all__ = [
    "ToolMissing",
    "ToolResult",
    "ToolSession",
    "ToolTimeout",
    "run_tool",
    "stderr_tail",
]


class ToolMissing(FileNotFoundError):
    """The executable does not exist or cannot be run."""


class ToolTimeout(TimeoutError):
    """The tool ran past its time limit and was killed."""


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: str


def run_tool(
    argv: Sequence[str | os.PathLike[str]],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> ToolResult:
    """Run ``argv`` to completion within ``timeout`` seconds, killing its process group if not."""
    args, dies_with_us = child_argv(argv, env=env, cwd=cwd)  # no tool outlives pyLapse
    try:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            **dies_with_us,
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise ToolMissing(f"{Path(os.fspath(argv[0])).name}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise ToolTimeout(f"did not finish within {timeout:g} s and was stopped") from None
    except BaseException:  # KeyboardInterrupt or a caller's exception: never leave it running
        _kill_group(process)
        process.communicate()
        raise
    return ToolResult(process.returncode, stdout, stderr.decode("utf-8", "replace"))


class ToolSession:
    """A tool that keeps running between frames (a camera kept open), isolated as
    :func:`run_tool` isolates one run: its own process group (a wedged camera stack is killed
    with everything it started), stdin closed, dying with pyLapse. Its stderr goes to a file
    (``stderr_path``) that is read, never a pipe that could fill up and stall the tool."""

    def __init__(
        self,
        argv: Sequence[str | os.PathLike[str]],
        stderr_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.stderr_path = stderr_path
        args, dies_with_us = child_argv(argv, env=env, cwd=cwd)
        with open(stderr_path, "wb") as stderr:
            try:
                self.process = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    env=dict(env) if env is not None else None,
                    cwd=cwd,
                    start_new_session=True,
                    **dies_with_us,
                )
            except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
                name = Path(os.fspath(argv[0])).name
                raise ToolMissing(f"{name}: {exc.strerror or exc}") from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def stderr(self) -> str:
        """What the tool has written to stderr so far."""
        try:
            return self.stderr_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def signal(self, number: int) -> None:
        """Send ``number`` to the tool itself (not its group: helpers it started keep theirs)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(number)

    def stop(self, grace: float = 0.0, polite: int | None = None) -> None:
        """End the tool: ``polite`` (e.g. the tool's own quit signal) and up to ``grace``
        seconds to exit, then its whole process group is killed."""
        if polite is not None and self.alive:
            self.signal(polite)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        _kill_group(self.process)
        self.process.wait()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()


def stderr_tail(text: str, lines: int = 3) -> str:
    """The last meaningful lines of a tool's stderr, joined into one line for an error message
    (credentials masked: ffmpeg echoes the URL it was given)."""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return mask_secrets(" | ".join(kept[-lines:])) if kept else "(no output)"
