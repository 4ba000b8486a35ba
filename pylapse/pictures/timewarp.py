"""The time warp: a video in which time runs along the x axis as well as from frame to frame.

Video frame ``j`` is cut into bands of ``band`` columns; band ``b`` shows the same columns of
source frame ``j + b``, so each video frame is a slit-scan of ``bands`` consecutive slots and the
whole picture slides forward one slot a frame. Frames are read once, in order (see
:mod:`pylapse.pictures.frames`); each fills its band of the ``bands`` video frames still open,
so memory is ``bands`` frames whatever the count (``band`` sets the trade-off: wider bands,
fewer frames open). Gaps leave their band black.

The frames go to ffmpeg as raw RGB through a pipe, into a temporary name beside the output
that is renamed when ffmpeg has finished: a failed or cancelled run leaves an earlier video as
it was.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from pathlib import Path

from PIL import Image

from pylapse import orphans
from pylapse.ffmpeg import FfmpegError, find_ffmpeg
from pylapse.pictures.frames import read_frames
from pylapse.pictures.kinds import PictureError
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report
from pylapse.storage import fsync_dir

__all__ = ["timewarp", "timewarp_frames"]

STAGE = "encode"


def _fit(frame: Image.Image, _: int, size: tuple[int, int]) -> Image.Image:
    return frame if frame.size == size else frame.resize(size, Image.Resampling.BILINEAR)


def timewarp_frames(
    paths: Sequence[str | os.PathLike[str] | None],
    size: tuple[int, int],
    band: int,
    *,
    scale: int = 1,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Iterator[Image.Image]:
    """The time warp's video frames, ``len(paths) - bands + 1`` of them (``bands`` =
    ``ceil(width / band)``), each ``size``; frames of another size are resized to it."""
    if band < 1:
        raise PictureError(f"band: {band} must be at least 1 column")
    width, height = size
    bands = -(-width // band)
    count = len(paths) - bands + 1
    if count < 1:
        raise PictureError(
            f"a time warp {width} columns wide in bands of {band} needs at least {bands} slots; "
            f"there are {len(paths)}"
        )
    open_frames: deque[Image.Image] = deque()  # video frames first..i, the oldest first
    first = 0  # the video frame open_frames[0] is

    take = functools.partial(_fit, size=size)
    read = read_frames(paths, take, scale=scale, workers=workers, cancel=cancel, executor=executor)
    for i, frame in enumerate(read):
        if i < count:
            open_frames.append(Image.new("RGB", size))
        if frame is not None:
            for j in range(max(first, i - bands + 1), min(i, count - 1) + 1):
                b = i - j  # source i is band b of video frame j
                box = (b * band, 0, min(width, (b + 1) * band), height)
                open_frames[j - first].paste(frame.crop(box), box[:2])
        if i - bands + 1 >= first and open_frames:  # video frame `first` has all its bands
            yield open_frames.popleft()
            first += 1


def timewarp(
    paths: Sequence[str | os.PathLike[str] | None],
    output: str | os.PathLike[str],
    size: tuple[int, int],
    *,
    band: int = 4,
    fps: float = 30.0,
    scale: int = 1,
    ffmpeg: str | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    executor: Executor | None = None,
) -> Path:
    """Encode the time warp of ``paths`` (one per slot) to ``output`` (.mp4, .mkv, .mov)."""
    width, height = size
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise PictureError(f"time warp size: {width}x{height} must be even numbers, at least 2x2")
    target = Path(output)
    if target.suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise PictureError(f"time warp output: {str(target)!r} must end in .mp4, .mov or .mkv")
    frames = timewarp_frames(
        paths, size, band, scale=scale, workers=workers, cancel=cancel, executor=executor
    )
    total = len(paths) - (-(-width // band)) + 1
    binary = str(find_ffmpeg(ffmpeg).path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pylapse-warp-", dir=target.parent) as work:
        partial = Path(work) / f"warp{target.suffix}"
        _encode(binary, frames, size, fps, partial, total, progress, Path(work) / "ffmpeg.log")
        os.replace(partial, target)  # the same folder: the earlier video is replaced whole
    fsync_dir(target.parent)
    return target


def _encode(
    binary: str,
    frames: Iterator[Image.Image],
    size: tuple[int, int],
    fps: float,
    output: Path,
    total: int,
    progress: ProgressCallback | None,
    log: Path,
) -> None:
    width, height = size
    command = [
        binary, "-nostdin", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "pipe:0",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-movflags", "+faststart", str(output),
    ]  # fmt: skip
    argv, dies_with_us = orphans.child_argv(command)
    with open(log, "wb") as errors:
        # ffmpeg's messages go to a file: a pipe nobody reads could fill and stall it
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=errors, **dies_with_us)
        assert proc.stdin is not None  # stdin=PIPE
        done = 0
        try:
            for frame in frames:
                proc.stdin.write(frame.tobytes())
                done += 1
                safe_report(progress, Progress(STAGE, done, total))
            proc.stdin.close()
            proc.wait()
        except BrokenPipeError:
            proc.wait()
        except BaseException:  # cancelled, a bad frame, Ctrl-C: never leave ffmpeg behind
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
            raise
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip()[-2000:]
        raise FfmpegError(f"ffmpeg could not encode the time warp: {tail or proc.returncode}")
    if done != total:
        raise Cancelled(f"the time warp stopped after {done} of {total} frames")
