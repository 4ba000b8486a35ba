"""The daystrip movie: a video in which the day's daystrip is drawn slot by slot, each video
frame the strip up to its moment and black below (issue 18 §3).

ffmpeg does the drawing: the strip (one still, scaled to the video's size) is overlaid by a black
canvas whose top edge moves down one step a frame (``overlay`` with ``eval=frame``), so no frame
is ever written by us and memory stays one still. The video is written to a temporary name
beside the output and renamed when ffmpeg has finished, so a failed or cancelled run leaves an
earlier video at the same path as it was.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pylapse.ffmpeg import FfmpegError, find_ffmpeg, run_ffmpeg
from pylapse.pictures.kinds import PictureError
from pylapse.progress import ProgressCallback
from pylapse.storage import fsync_dir

__all__ = ["DEFAULT_SIZE", "StripMovie", "daystrip_movie", "reveal_command"]

DEFAULT_SIZE = (1920, 1080)
STAGE = "encode"


def reveal_command(
    ffmpeg: str, still: str, output: str, size: tuple[int, int], fps: float, frames: int
) -> list[str]:
    """The ffmpeg arguments that draw ``still`` top to bottom over ``frames`` video frames of
    ``size`` at ``fps``: frame ``n`` (0-based) shows the top ``ceil(H * (n + 1) / frames)`` rows
    (the whole still on the last frame)."""
    width, height = size
    # the frame number from the time: overlay's own ``n`` starts at 1 on its first output frame
    shown = f"ceil({height}*(round(t*{fps:g})+1)/{frames})"
    graph = (
        f"[0:v]scale={width}:{height},setsar=1[strip];"
        f"[strip][1:v]overlay=x=0:y='{shown}':eval=frame,format=yuv420p"
    )
    return [
        ffmpeg, "-y", "-loglevel", "error",
        "-loop", "1", "-framerate", f"{fps:g}", "-i", still,
        "-f", "lavfi", "-i", f"color=c=black:s={width}x{height}:r={fps:g}",
        "-filter_complex", graph, "-frames:v", str(frames),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-movflags", "+faststart",
        output,
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class StripMovie:
    """A daystrip movie to make beside a daystrip: where, its size, frame rate and length."""

    output: Path
    size: tuple[int, int] = DEFAULT_SIZE
    fps: float = 30.0
    seconds: float = 20.0


def daystrip_movie(
    strip: Image.Image,
    output: str | os.PathLike[str],
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    fps: float = 30.0,
    seconds: float = 20.0,
    ffmpeg: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Encode the movie of ``strip`` (drawn over ``seconds`` at ``fps``) to ``output`` (an
    .mp4); ``ffmpeg``: the configured binary (default: the one :func:`find_ffmpeg` finds)."""
    width, height = size
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise PictureError(f"movie size: {width}x{height} must be even numbers, at least 2x2")
    if not fps > 0 or not seconds > 0:
        raise PictureError(f"movie fps ({fps!r}) and seconds ({seconds!r}) must be more than 0")
    frames = max(1, round(fps * seconds))
    target = Path(output)
    if target.suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise PictureError(f"movie output: {str(target)!r} must end in .mp4, .m4v, .mov or .mkv")
    binary = str(find_ffmpeg(ffmpeg).path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pylapse-strip-", dir=target.parent) as work:
        still = Path(work) / "strip.png"
        strip.convert("RGB").save(still)
        partial = Path(work) / f"movie{target.suffix}"
        command = reveal_command(binary, str(still), str(partial), size, fps, frames)
        result = run_ffmpeg(command, total=frames, progress=progress, cancel=cancel, stage=STAGE)
        if result.returncode != 0 or not partial.is_file():
            raise FfmpegError(f"ffmpeg could not encode the daystrip movie: {result.stderr_tail}")
        os.replace(partial, target)  # the same folder: the earlier video is replaced whole
    fsync_dir(target.parent)
    return target
