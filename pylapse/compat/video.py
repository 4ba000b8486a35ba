"""0.2's ``pyLapse.img_seq.video.render_sequence_to_video`` on today's renderer."""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["render_sequence_to_video"]


def render_sequence_to_video(
    input_dir: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    fps: int = 24,
    pattern: str = "*.jpg",
    codec: str = "libx264",
    pixel_fmt: str = "yuv420p",
    ffmpeg_path: str | None = None,
    progress: bool = True,
    progress_callback: Callable[[int, int, str], None] | None = None,
) -> str:
    """Render the images in ``input_dir`` matching ``pattern`` to ``output_path``; returns
    ``output_path`` as a string. ffmpeg is ``ffmpeg_path``, else the one pyLapse finds (``bin/``
    or the bundled one). ``FileNotFoundError`` for a missing folder, ``ValueError`` when nothing
    matches, ``RuntimeError`` when ffmpeg fails, as in 0.2."""
    from pylapse.video.render import render_sequence_to_video as render

    render(
        input_dir,
        output_path,
        fps=fps,
        pattern=pattern,
        codec=codec,
        pixel_fmt=pixel_fmt,
        ffmpeg_path=ffmpeg_path,
        progress=progress,
        progress_callback=progress_callback,
    )
    return str(output_path)
