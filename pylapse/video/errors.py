"""Reading ffmpeg's error output after a render: which frame, what went wrong, what to do.

A render runs ffmpeg with ``-loglevel error``, so stderr holds only problems, each line tagged by
the part of ffmpeg that printed it (``[mjpeg @ 0x..]``, ``[in#0/concat @ 0x..]``). Few lines name
a file (the concat input's "Impossible to open '<path>'" does); the others are placed by the
output frame count at the moment they came (:attr:`pylapse.ffmpeg.RunResult.marks`). Pure: no
file or process is touched.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

__all__ = ["decode_error_positions", "fix_for", "key_line", "named_paths"]

_QUOTED = re.compile(r"'([^']+)'")
# lines that say a frame could not be read or decoded (ffmpeg 4 to 8 wordings)
_DECODE = re.compile(
    r"Error (submitting packet to|while) decod|Invalid data found|No JPEG data|Impossible to open"
    r"|decode error|Error during demuxing|EOI missing|overread|Truncated|bad vlc|corrupt",
    re.IGNORECASE,
)
# thread housekeeping that repeats an error already printed
_NOISE = re.compile(r"Task finished with error|Terminating thread|Error processing packet in")
_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")

# (pattern, advice), first match wins
_FIXES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), advice)
    for pattern, advice in (
        (r"No space left on device", "free space on the disk the video is written to"),
        (r"Permission denied|Read-only file system",
         "check that the output folder is writable and the frames are readable"),
        (r"Impossible to open|No such file or directory",
         "a frame was moved or deleted during the render; render again"),
        (r"non positive size|reinitializing filters|Invalid too big",
         "the frame has a size the video cannot take: delete or replace it, or render with "
         "other sizes skipped"),
        (r"Invalid data found|decod|No JPEG data|corrupt|Truncated",
         "the frame is damaged: delete or replace it and render again"),
        (r"encoder|Invalid argument|not divisible by 2",
         "try another codec or size, or see the ffmpeg lines in the error details"),
        (r"Cannot allocate memory|Out of memory", "render a smaller size or fewer frames at once"),
    )
)  # fmt: skip


def named_paths(lines: Iterable[str], known: Collection[str]) -> list[str]:
    """Frame paths ffmpeg quoted in ``lines`` (only those in ``known``), in order."""
    found: dict[str, None] = {}
    for line in lines:
        for quoted in _QUOTED.findall(line):
            if quoted in known:
                found.setdefault(quoted)
    return list(found)


def decode_error_positions(marks: Iterable[tuple[int, str]]) -> list[int]:
    """Output frame counts at which ffmpeg reported a frame it could not read or decode."""
    return sorted({frames for frames, line in marks if _DECODE.search(line)})


def key_line(text: str) -> str:
    """The line of ffmpeg's error output that says what happened, without its ``[tag @ 0x..]``.

    The first line that is not thread housekeeping: later lines mostly repeat it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not _NOISE.search(line)] or lines
    return _PREFIX.sub("", useful[0]).strip() if useful else "no error output"


def fix_for(text: str) -> str:
    """Advice for the error in ``text`` (ffmpeg's output, or our message)."""
    for pattern, advice in _FIXES:
        if pattern.search(text):
            return advice
    return "see the ffmpeg lines in the error details; try another codec or render again"
