"""Deflicker for renders: each list entry's gain from the luma curve, as exports compute it.

The gains are :func:`pylapse.imaging.deflicker.gains` of the frames' stored luma (the index's,
carried on each :class:`~pylapse.video.framelist.ListEntry`); a frame without a stored luma gets
gain 1. Only when no frame has one (a plain folder of frames) is the curve measured here, from
JPEG draft decodes at an eighth of the size, as an export does in the same case. The gains are
applied inside the encode's filter graph (:func:`pylapse.video.command.tone_script`), so the
frames are decoded once, by ffmpeg.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from PIL import Image

from pylapse.imaging.deflicker import gains, measure_luma
from pylapse.progress import Progress, ProgressCallback, safe_report
from pylapse.video.framecheck import map_threaded
from pylapse.video.framelist import ListEntry

__all__ = ["STAGE", "entry_gains", "frame_gains"]

STAGE = "deflicker"  # the progress stage of measuring lumas no one stored


def _draft_luma(path: str) -> float | None:
    """A frame's mean luma from a draft decode (JPEG: an eighth of its size, a few ms); None
    when it cannot be read (the frame check has left such frames out already)."""
    try:
        with Image.open(path) as image:
            image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
            return measure_luma(image)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _lumas(entries: Sequence[ListEntry], progress: ProgressCallback | None,
           cancel: threading.Event | None) -> list[float | None]:  # fmt: skip
    stored = [e.luma for e in entries]
    if any(v is not None for v in stored):
        return stored
    total = len(entries)
    safe_report(progress, Progress(STAGE, 0, total, message="measuring brightness"))

    def report(done: int) -> None:
        safe_report(progress, Progress(STAGE, done, total, message="measuring brightness"))

    measured: list[float | None] = map_threaded(
        _draft_luma, [e.path for e in entries], report, cancel
    )
    return measured


def frame_gains(
    entries: Sequence[ListEntry],
    window: int,
    strength: float,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, float]:
    """Each frame's deflicker gain by path (a frame listed twice has one gain)."""
    lumas = _lumas(entries, progress, cancel)
    return {e.path: g for e, g in zip(entries, gains(lumas, window, strength), strict=True)}


def entry_gains(entries: Sequence[ListEntry], by_path: Mapping[str, float]
                ) -> list[tuple[int, float]]:  # fmt: skip
    """(first output frame, gain) of each entry, for :func:`~pylapse.video.command.tone_script`;
    a frame with no gain (none computed for it) keeps its brightness."""
    out, frame = [], 0
    for entry in entries:
        out.append((frame, by_path.get(entry.path, 1.0)))
        frame += entry.repeats
    return out
