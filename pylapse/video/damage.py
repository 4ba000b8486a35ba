"""After an encode that failed or came out short: which frames ffmpeg lost, and why.

ffmpeg names few of the frames it cannot read (:mod:`pylapse.video.errors` places the others
by the output frame it was at), and it decodes some files Pillow refuses and refuses some
Pillow reads, so a suspect is tried with ffmpeg alone before it is left out. The render leaves
the frames found out and encodes again (:func:`pylapse.video.render.render_frames`).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from pylapse.ffmpeg import RunResult
from pylapse.video.errors import decode_error_positions, named_paths
from pylapse.video.framecheck import SkippedFrame, map_threaded, near, undecodable
from pylapse.video.framelist import ListEntry

__all__ = ["damaged_frames", "explained"]

_CONFIRM = 50  # damaged frames tried with ffmpeg alone after an encode, at most
_CONFIRM_TIMEOUT = 30.0  # seconds for ffmpeg to decode one picture
_GONE = re.compile(r"Impossible to open|No such file or directory")


def damaged_frames(
    ffmpeg: Path, entries: Sequence[ListEntry], total: int, result: RunResult
) -> list[SkippedFrame]:
    """The frames of ``entries`` (``total`` output frames) that made ``ffmpeg`` fail or drop
    frames in ``result``, from its error lines.

    Frames it names and frames moved or deleted meanwhile (all are found at once, by their
    absence) come first; then frames near where it reported errors that do not decode in full,
    each tried with ffmpeg alone, which patches some damage Pillow reports (such a frame is in
    the video, so it is not listed). When that does not explain what ffmpeg lost, the frames
    near the errors are tried with ffmpeg alone: it cannot decode some files Pillow can."""
    lines = [line for _, line in result.marks]
    paths = list(dict.fromkeys(e.path for e in entries))
    named = named_paths(lines, set(paths))
    positions = decode_error_positions(result.marks)
    found: dict[str, str] = {}
    if named or any(_GONE.search(line) for line in lines):
        gone = "the file is gone (moved or deleted during the render)"
        found.update((p, gone) for p in paths if not os.path.exists(p))
    if named or positions:
        pillow = [f for f in undecodable(entries, positions, named) if f.path not in found]
        if len(pillow) <= _CONFIRM:  # else too many to try one by one: Pillow's word
            decodes = map_threaded(lambda p: _ffmpeg_decodes(ffmpeg, p), [f.path for f in pillow])
            pillow = [f for f, ok in zip(pillow, decodes, strict=True) if not ok]
        found.update((f.path, f.reason) for f in pillow)
    if positions and not explained(entries, total, result, found):
        rest = [p for p in near(entries, positions, _CONFIRM) if p not in found]
        decodes = map_threaded(lambda p: _ffmpeg_decodes(ffmpeg, p), rest)
        found.update(
            (p, "ffmpeg cannot decode it") for p, ok in zip(rest, decodes, strict=True) if not ok
        )
    return [SkippedFrame(p, r) for p, r in found.items()]


def explained(
    entries: Sequence[ListEntry], total: int, result: RunResult, found: Mapping[str, str]
) -> bool:
    """Whether leaving out ``found`` accounts for what the run lost: for a failed run, any
    frame to leave out; for a finished one, as many output frames as are missing."""
    if result.returncode != 0:
        return bool(found)
    lost = sum(e.repeats for e in entries if e.path in found)
    return total - result.frames <= lost


def _ffmpeg_decodes(ffmpeg: Path, path: str) -> bool:
    """Whether ``ffmpeg`` makes a picture of the one file ``path``."""
    command = [os.fspath(ffmpeg), "-hide_banner", "-nostdin", "-v", "error",
               "-i", "file:" + os.path.abspath(path), "-f", "framecrc", "-"]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, errors="replace",
            timeout=_CONFIRM_TIMEOUT, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line and not line.startswith("#") for line in done.stdout.splitlines())
