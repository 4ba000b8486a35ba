"""Video: turning frames into a video with ffmpeg (command, frame list, codecs, manifest, checks).

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.ffmpeg import find_ffmpeg
    from pylapse.storage import IfExists
    from pylapse.video.codecs import CODECS
    from pylapse.video.command import (
        RenderOptions,
        build_command,
        build_palette_command,
        parse_size,
    )
    from pylapse.video.framecheck import OtherSizes, SkippedFrame
    from pylapse.video.framelist import NoFramesError, concat_list, order_paths, plan_frames
    from pylapse.video.render import (
        CodecUnavailable,
        RenderError,
        RenderResult,
        StabiliseUnavailable,
        render_frames,
        render_sequence_to_video,
    )
    from pylapse.video.temps import sweep_render_temps

_WHERE = {
    "CODECS": "codecs",
    "CodecUnavailable": "render",
    "IfExists": "pylapse.storage",
    "NoFramesError": "framelist",
    "OtherSizes": "framecheck",
    "RenderError": "render",
    "RenderOptions": "command",
    "RenderResult": "render",
    "SkippedFrame": "framecheck",
    "StabiliseUnavailable": "render",
    "build_command": "command",
    "build_palette_command": "command",
    "concat_list": "framelist",
    "find_ffmpeg": "pylapse.ffmpeg",
    "order_paths": "framelist",
    "parse_size": "command",
    "plan_frames": "framelist",
    "render_frames": "render",
    "render_sequence_to_video": "render",
    "sweep_render_temps": "temps",
}

__all__ = [
    "CODECS",
    "CodecUnavailable",
    "IfExists",
    "NoFramesError",
    "OtherSizes",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "SkippedFrame",
    "StabiliseUnavailable",
    "build_command",
    "build_palette_command",
    "concat_list",
    "find_ffmpeg",
    "order_paths",
    "parse_size",
    "plan_frames",
    "render_frames",
    "render_sequence_to_video",
    "sweep_render_temps",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
