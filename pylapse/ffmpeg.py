"""The ffmpeg executable: finding it, probing it, and the one runner every render goes through.

Finding (first hit wins): an explicit path (``--ffmpeg`` or the config's ``ffmpeg_path``), then
``bin/ffmpeg`` beside the project (or in the working folder), then the binary bundled with
``imageio-ffmpeg``, then ``ffmpeg`` on ``PATH``. An explicit path that does not work is an error,
never silently replaced by another ffmpeg: the user asked for that one.

The runner follows frigate's shape: the command is built elsewhere as a plain list (pure, easy to
test), the runner only starts it with ``-progress pipe:1``, turns the progress blocks into
:class:`~pylapse.progress.Progress` reports (clamped, never going back) through a callback that
cannot crash it, stops it on ``cancel`` (terminate, then kill) and returns
``(returncode, stderr tail)``. ffmpeg is started so that it dies with pyLapse, even by
``kill -9`` (:mod:`pylapse.orphans`).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pylapse import orphans
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report

__all__ = [
    "FfmpegError",
    "FfmpegInfo",
    "FfmpegNotFound",
    "RunResult",
    "configured_ffmpeg",
    "find_ffmpeg",
    "probe_encoders",
    "probe_version",
    "run_ffmpeg",
]

_EXE = "ffmpeg.exe" if sys.platform == "win32" else "ffmpeg"
_PROBE_TIMEOUT = 20.0  # seconds; a binary that cannot print its version in that time is broken
STDERR_TAIL_LINES = 25
# stderr lines kept with the frame count at which each came (a render's -loglevel error prints
# a few lines per bad frame, so this is room for dozens of them)
STDERR_MARK_LINES = 200
# After SIGTERM ffmpeg finishes the file it is writing; this long, then it is killed.
TERMINATE_GRACE = 1.0


class FfmpegNotFound(FileNotFoundError):
    """No usable ffmpeg; the message lists where we looked and how to provide one."""


class FfmpegError(RuntimeError):
    """ffmpeg could not be run or probed."""


@dataclass(frozen=True)
class FfmpegInfo:
    """An ffmpeg executable and where it was found (``config``, ``bin``, ``imageio-ffmpeg``,
    ``PATH``). Version and encoders are probed on first use and cached per binary."""

    path: Path
    source: str

    @property
    def version(self) -> str:
        return probe_version(self.path)

    @property
    def encoders(self) -> frozenset[str]:
        return probe_encoders(self.path)

    def has_encoder(self, name: str) -> bool:
        return name in self.encoders

    @property
    def filters(self) -> frozenset[str]:
        return probe_filters(self.path)

    def stabilise_support(self) -> str | None:
        """Why this ffmpeg cannot stabilise a render (``None`` when it can)."""
        return stabilise_support(self.path)


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _project_bins() -> list[Path]:
    project = Path(__file__).resolve().parents[1]
    cwd = Path.cwd()
    bins = [project / "bin" / _EXE]
    if cwd.resolve() != project:
        bins.append(cwd / "bin" / _EXE)
    return bins


def find_ffmpeg(config_path: str | os.PathLike[str] | None = None) -> FfmpegInfo:
    """The ffmpeg to use. ``config_path`` is an explicit ffmpeg (the config's ``ffmpeg_path``
    already resolved against the config's folder, or a ``--ffmpeg`` option): if given it must
    work. Raises :class:`FfmpegNotFound` saying where it looked."""
    if config_path:
        explicit = Path(os.path.expanduser(os.fspath(config_path)))
        if explicit.is_dir():
            explicit = explicit / _EXE
        if not explicit.exists():
            # a bare name such as "ffmpeg" means "look it up on PATH"
            found = shutil.which(os.fspath(config_path)) if explicit.parent == Path() else None
            if found:
                return FfmpegInfo(Path(found), "config")
            raise FfmpegNotFound(f"ffmpeg_path {os.fspath(config_path)!r} does not exist")
        if not _usable(explicit):
            raise FfmpegNotFound(f"ffmpeg_path {os.fspath(explicit)!r} is not an executable file")
        return FfmpegInfo(explicit.absolute(), "config")
    looked = []
    for candidate in _project_bins():
        looked.append(str(candidate))
        if _usable(candidate):
            return FfmpegInfo(candidate, "bin")
    try:
        import imageio_ffmpeg

        bundled = Path(imageio_ffmpeg.get_ffmpeg_exe())
        if _usable(bundled):
            return FfmpegInfo(bundled, "imageio-ffmpeg")
        looked.append(f"{bundled} (imageio-ffmpeg)")
    except Exception as exc:  # not installed, or no binary for this platform
        looked.append(f"imageio-ffmpeg ({exc})")
    on_path = shutil.which(_EXE)
    if on_path:
        return FfmpegInfo(Path(on_path), "PATH")
    looked.append("PATH")
    raise FfmpegNotFound(
        "no ffmpeg found (looked in " + ", ".join(looked) + "); install imageio-ffmpeg, put an "
        "ffmpeg in bin/, or set 'ffmpeg_path' in the config"
    )


def configured_ffmpeg(config: Any) -> str | None:
    """The explicit ffmpeg a :class:`~pylapse.config.Config` asks for, for :func:`find_ffmpeg`.

    A relative ``ffmpeg_path`` is relative to the config's folder; a bare name (``"ffmpeg"``)
    that is not there means the one on ``PATH``.
    """
    value: str | None = getattr(config, "ffmpeg_path", None)
    if not value:
        return None
    resolved: Path = config.resolve(value)
    if not resolved.exists() and os.sep not in value and "/" not in value:
        return value
    return os.fspath(resolved)


def _probe_output(path: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            [os.fspath(path), "-hide_banner", *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FfmpegError(f"cannot run {path}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise FfmpegError(f"{path} {' '.join(args)} failed ({done.returncode}): {tail[0]}")
    return done.stdout


def _stamp(path: Path) -> tuple[str, int, int]:
    """The cache key of a binary: replacing the file invalidates what we know about it."""
    st = Path(path).stat()
    return (os.fspath(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _version(stamp: tuple[str, int, int]) -> str:
    first = _probe_output(Path(stamp[0]), "-version").strip().splitlines()
    match = re.match(r"ffmpeg version (\S+)", first[0] if first else "")
    return match.group(1) if match else (first[0] if first else "unknown")


_ENCODER_LINE = re.compile(r"^\s*([VAS][A-Z.]{5})\s+(\S+)\s")


@functools.lru_cache(maxsize=16)
def _encoders(stamp: tuple[str, int, int]) -> frozenset[str]:
    names = set()
    for line in _probe_output(Path(stamp[0]), "-encoders").splitlines():
        match = _ENCODER_LINE.match(line)
        if match and match.group(2) != "=":  # "=" lines are the legend above the list
            names.add(match.group(2))
    return frozenset(names)


_FILTER_LINE = re.compile(r"^\s*[T.][S.C.]{0,2}\s+(\w+)\s+\S+->\S+\s")
#: the two passes of libvidstab: motion detection, then the smoothed transform
VIDSTAB_FILTERS = ("vidstabdetect", "vidstabtransform")


@functools.lru_cache(maxsize=16)
def _filters(stamp: tuple[str, int, int]) -> frozenset[str]:
    names = set()
    for line in _probe_output(Path(stamp[0]), "-filters").splitlines():
        match = _FILTER_LINE.match(line)
        if match:
            names.add(match.group(1))
    return frozenset(names)


def probe_filters(path: str | os.PathLike[str]) -> frozenset[str]:
    """Names of the filters the ffmpeg at ``path`` has (``scale``, ``vidstabdetect``, ...)."""
    return _filters(_stamp(Path(path)))


def stabilise_support(path: str | os.PathLike[str]) -> str | None:
    """Why the ffmpeg at ``path`` cannot stabilise (``None`` when it can): stabilising needs
    both vidstab filters, which exist only in builds configured with ``--enable-libvidstab``."""
    try:
        have = probe_filters(path)
    except FfmpegError as exc:
        return f"its filters could not be listed: {exc}"
    missing = [name for name in VIDSTAB_FILTERS if name not in have]
    if missing:
        return (
            f"this ffmpeg lacks {' and '.join(missing)} (it was built without "
            "--enable-libvidstab); use a build with libvidstab, e.g. via ffmpeg_path"
        )
    return None


def probe_version(path: str | os.PathLike[str]) -> str:
    """The version string of the ffmpeg at ``path`` (e.g. ``n9.0.2-17-g2a571b6068-20260930``)."""
    return _version(_stamp(Path(path)))


def probe_encoders(path: str | os.PathLike[str]) -> frozenset[str]:
    """Names of the encoders the ffmpeg at ``path`` has (``libx264``, ``gif``, ...)."""
    return _encoders(_stamp(Path(path)))


# --- the runner ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stderr_tail: str
    frames: int = 0  # the last frame count ffmpeg reported
    elapsed: float = 0.0
    # (frames reported before the line came, line): where in the output each error happened
    marks: tuple[tuple[int, str], ...] = ()


@dataclass
class _ProgressState:
    """Turns ffmpeg's ``key=value`` progress blocks into monotonic, clamped reports."""

    total: int
    stage: str
    sink: Callable[[Progress], None]  # never raises: a queue's put
    fps: float | None = None
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    frames: int = 0  # raw frame count, unclamped (for the caller's check)
    block: dict[str, str] = field(default_factory=dict)

    def feed(self, line: str) -> None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return
        self.block[key] = value.strip()
        if key == "progress":  # the last key of every block
            self._report(self.block)
            self.block = {}

    def _report(self, block: dict[str, str]) -> None:
        with contextlib.suppress(ValueError):
            if "frame" in block:
                self.frames = max(self.frames, int(block["frame"]))
            elif self.fps:  # an output without a frame count: its time (microseconds, even
                # in the key named out_time_ms) times the rate
                micros = int(block.get("out_time_us") or block.get("out_time_ms") or 0)
                self.frames = max(self.frames, round(micros / 1e6 * self.fps))
        done = max(self.done, min(self.frames, self.total)) if self.total > 0 else self.frames
        self.done = done
        rate = None
        with contextlib.suppress(ValueError):
            rate = float(block.get("fps", "")) or None
        if rate is None:  # ffmpeg prints fps=0.00 in its first reports
            elapsed = time.monotonic() - self.started
            rate = done / elapsed if done and elapsed > 0 else None
        eta = (self.total - done) / rate if rate and self.total > 0 else None
        self.sink(Progress(self.stage, done, self.total, rate, eta))

    def finish(self) -> Progress | None:
        """The 100 % report, unless the last block already said so."""
        if self.total > 0 and self.done < self.total:
            self.done = self.total
            return Progress(self.stage, self.total, self.total, None, 0.0)
        return None


def _drain(stream: IO[str], sink: Callable[[str], None], done: Callable[[], None] | None) -> None:
    try:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                sink(line)
    finally:
        if done is not None:
            done()


def _stop(proc: subprocess.Popen[str]) -> None:
    """Terminate, give ffmpeg a moment to exit, then kill; always reap it."""
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.terminate()
        try:
            proc.wait(TERMINATE_GRACE)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()


def run_ffmpeg(
    command: Sequence[str],
    *,
    total: int = 0,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    remove_on_cancel: Iterable[str | os.PathLike[str]] = (),
    stage: str = "encode",
    fps: float | None = None,
    on_start: Callable[[subprocess.Popen[str]], None] | None = None,  # tests watch the pid
) -> RunResult:
    """Run ``command`` (an argument list, ``-progress pipe:1`` is added after the binary).

    Reports ``Progress(stage, frames done, total)`` in the caller's thread (``fps`` lets output
    time stand in for a missing frame count); on success the last report is 100 %.
    When ``cancel`` is set, ffmpeg is stopped, ``remove_on_cancel`` files are deleted and
    :class:`~pylapse.progress.Cancelled` is raised.
    """
    cmd = [command[0], "-nostdin", "-progress", "pipe:1", "-nostats", *command[1:]]
    # Reports travel through a queue so the callback runs in the caller's thread and a slow
    # callback never stalls the pipe; None marks the end of ffmpeg's stdout (it has exited).
    events: queue.SimpleQueue[Progress | None] = queue.SimpleQueue()
    state = _ProgressState(total, stage, events.put, fps)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    marks: list[tuple[int, str]] = []

    def on_stderr(line: str) -> None:
        tail.append(line)
        if len(marks) < STDERR_MARK_LINES:
            marks.append((state.frames, line.rstrip()))

    started = time.monotonic()
    # ffmpeg dies with us: a kill -9 of a render must not leave it encoding for nobody
    argv, dies_with_us = orphans.child_argv(cmd)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            bufsize=1,
            **dies_with_us,
        )
    except OSError as exc:
        raise FfmpegError(f"cannot start {command[0]}: {exc}") from None
    if on_start is not None:
        on_start(proc)
    readers = [
        threading.Thread(
            target=_drain, args=(proc.stdout, state.feed, lambda: events.put(None)), daemon=True
        ),
        threading.Thread(target=_drain, args=(proc.stderr, on_stderr, None), daemon=True),
    ]
    for reader in readers:
        reader.start()
    cancelled = False
    try:
        while True:
            try:
                event = events.get(timeout=0.05)
            except queue.Empty:
                pass  # nothing new: only look at cancel
            else:
                if event is None:
                    break
                safe_report(progress, event)
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
        if not cancelled:
            proc.wait()
    finally:
        _stop(proc)  # also on KeyboardInterrupt: never leave an ffmpeg behind
        for reader in readers:
            reader.join(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
    if cancelled:
        for leftover in remove_on_cancel:
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        raise Cancelled(f"cancelled after {state.done} of {total} frames")
    final = state.finish() if proc.returncode == 0 and state.frames >= total else None
    if final is not None:  # the last block can come before the final frame count settles
        safe_report(progress, final)
    return RunResult(
        proc.returncode,
        "".join(tail).strip(),
        state.frames,
        time.monotonic() - started,
        tuple(marks),
    )
