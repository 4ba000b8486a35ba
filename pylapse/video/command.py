"""Render options and the ffmpeg command lines they make (pure: no file or process is touched).

The filter chain crops odd inputs to even dimensions, fits every frame into the output size keeping
its aspect ratio and pads the rest (so frames of mixed sizes make one clean video), converts JPEG's
full range to the TV range players expect, and sets the pixel format. Every step holds for any
frame size down to 1x1, so a frame of another size can never stop the encode. Input is a concat
list read at a forced rate (``-r`` before ``-i``): one list line is one output frame. Decoding
errors do not stop ffmpeg (no ``-xerror``): the renderer checks frames before and names the ones
ffmpeg dropped after (:mod:`pylapse.video.framecheck`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from pylapse.imaging.deflicker import DEFAULT_STRENGTH, DEFAULT_WINDOW
from pylapse.video.codecs import SPEEDS, Codec, codec_args, resolve_codec, speed_settings
from pylapse.video.framecheck import OtherSizes

__all__ = [
    "MAX_FPS",
    "MIN_FPS",
    "RenderOptions",
    "build_command",
    "build_palette_command",
    "build_stabilise_command",
    "check_options",
    "check_rate",
    "fit_size",
    "parse_size",
    "tone_filter",
    "tone_script",
]

MAX_FPS = 240.0
MIN_FPS = 0.01


@dataclass(frozen=True)
class RenderOptions:
    """Everything that shapes a render; all of it is recorded in the manifest."""

    fps: float = 24.0
    duration: float | None = None  # target length in seconds; sets the fps
    codec: str = "h264"  # h264, h265, mpeg4, vp9, gif (or an encoder name such as libx264)
    crf: int | None = None  # quality (CRF, or q:v for mpeg4); None = the codec's default
    preset: str | None = None  # x264-style speed preset; None = the codec's default
    # "draft" or "final": a preset + quality pair per codec (crf and preset above win over it)
    speed: str | None = None
    size: tuple[int, int] | None = None  # fit inside this box keeping the aspect ratio
    pix_fmt: str = "yuv420p"
    fill_gaps: bool = False  # a None slot repeats the previous frame instead of being skipped
    # a frame of another size than most frames: "skip" (listed in the result) or "fit" (scaled
    # and padded in); unreadable frames are always skipped and listed
    other_sizes: str = OtherSizes.SKIP.value
    skip_corrupt: bool = False  # no effect, kept so older calls run: bad frames are always skipped
    ffmpeg_path: str | None = None  # explicit ffmpeg (the config's ffmpeg_path, --ffmpeg)
    # two passes of vidstab (vidstabdetect, then vidstabtransform in the encode); needs an
    # ffmpeg built with libvidstab (pylapse.ffmpeg.stabilise_support says why not)
    stabilise: bool = False
    # a per-frame gain from the frames' luma curve (pylapse.imaging.deflicker, as exports use),
    # applied inside ffmpeg's filter graph: no extra decode
    deflicker: bool = False
    deflicker_window: int = DEFAULT_WINDOW  # frames in the local fit (odd: ±6 around each)
    deflicker_strength: float = DEFAULT_STRENGTH  # 0-1: share of the way to the smoothed luma

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RenderOptions:
        """Options from plain data (a form, job parameters); ``size`` may be ``"WxH"``.

        Unknown keys are an error naming them; ``None`` values mean the default."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            accepted = ", ".join(sorted(known))
            raise ValueError(f"unknown render option(s) {', '.join(unknown)}; accepted: {accepted}")
        values = {k: v for k, v in data.items() if v is not None}
        size = values.get("size")
        if isinstance(size, str):
            values["size"] = parse_size(size)
        elif size is not None:
            values["size"] = tuple(size)
        return cls(**values)


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)``; a clear ``ValueError`` otherwise."""
    w, sep, h = text.lower().replace(" ", "").partition("x")
    if not sep or not (w.isdigit() and h.isdigit()) or int(w) < 2 or int(h) < 2:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT with both at least 2, e.g. 1280x720")
    return int(w), int(h)


def fit_size(src: tuple[int, int], box: tuple[int, int] | None) -> tuple[int, int]:
    """The even output size: ``src`` scaled to fit ``box`` (or as is), each side rounded down."""
    w, h = src
    if box:
        scale = min(box[0] / w, box[1] / h)
        w, h = round(w * scale), round(h * scale)
    return max(2, w - w % 2), max(2, h - h % 2)


def check_rate(fps: float, what: str = "fps") -> float:
    if not MIN_FPS <= fps <= MAX_FPS:
        raise ValueError(f"{what} {fps:g} is outside {MIN_FPS:g}-{MAX_FPS:g} frames per second")
    return fps


def check_options(options: RenderOptions) -> None:
    if options.duration is not None and not options.duration > 0:
        raise ValueError(f"duration {options.duration!r} must be more than 0 seconds")
    check_rate(options.fps)
    if not re.fullmatch(r"[a-z0-9_]{2,32}", options.pix_fmt):  # it goes into a filter graph
        raise ValueError(f"pix_fmt {options.pix_fmt!r} is not a pixel format name like yuv420p")
    if options.size is not None and (len(options.size) != 2 or min(options.size) < 2):
        raise ValueError(f"size {options.size!r} must be (width, height), each at least 2")
    if options.speed is not None and options.speed not in SPEEDS:
        raise ValueError(f"speed {options.speed!r} is not one of {', '.join(SPEEDS)}")
    if not 3 <= options.deflicker_window <= 1001:
        raise ValueError(f"deflicker_window must be 3-1001 frames, got {options.deflicker_window}")
    if not 0.0 <= options.deflicker_strength <= 1.0:
        raise ValueError(f"deflicker_strength must be 0-1, got {options.deflicker_strength}")
    if options.other_sizes not in set(OtherSizes):
        accepted = " or ".join(repr(v.value) for v in OtherSizes)
        raise ValueError(f"other_sizes {options.other_sizes!r} is not {accepted}")


# --- the command -------------------------------------------------------------------------------


def _rate(fps: float) -> str:
    frac = Fraction(fps).limit_denominator(1001)
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def _filters(
    codec: Codec, size: tuple[int, int], pix_fmt: str, palette: bool, extra: str = ""
) -> list[str]:
    """Even-crop, fit into ``size`` keeping aspect, pad, ``extra`` filters (stabilising), then
    the pixel format or the palette.

    A GIF's palette comes from a first pass (:func:`build_palette_command`) read as a second
    input: the one-pass ``split,palettegen,paletteuse`` graph holds every frame in memory until
    the palette is known, which a day of frames does not fit in.
    """
    w, h = size
    # crop's default rounds to the chroma grid (1 -> 0, an error), and scale's
    # force_original_aspect_ratio can round a side to 0: both are written out so a 1x1 or a
    # 3000x1 frame still makes a picture
    fit = f"min({w}/iw,{h}/ih)"
    chain = (
        "crop='if(gte(iw,2),floor(iw/2)*2,iw)':'if(gte(ih,2),floor(ih/2)*2,ih)':exact=1,"
        f"scale=w='max(1,round(iw*{fit}))':h='max(1,round(ih*{fit}))'"
        # deflicker's eq works in TV range (_eq_settings), so a GIF's chain is put there too
        + (":out_range=tv" if codec.name != "gif" or _TONE_MARK in extra else "")
        + f",pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
        + (f",{extra}" if extra else "")
    )
    if codec.name != "gif":
        return ["-vf", f"{chain},format={pix_fmt}"]
    if palette:
        return ["-vf", f"{chain},palettegen=stats_mode=diff"]
    return ["-filter_complex", f"[0:v]{chain}[v];[v][1:v]paletteuse=dither=bayer:bayer_scale=3"]


def _input(ffmpeg: str | os.PathLike[str], list_file: str | os.PathLike[str],
           rate: str) -> list[str]:  # fmt: skip
    # no -xerror: a frame ffmpeg cannot decode is dropped, not the whole render; the renderer
    # names it afterwards from the error lines and the frame counts
    cmd = [os.fspath(ffmpeg), "-hide_banner", "-y", "-loglevel", "error"]
    return [*cmd, "-r", rate, "-f", "concat", "-safe", "0", "-i", os.fspath(list_file)]


def build_palette_command(
    ffmpeg: str | os.PathLike[str],
    list_file: str | os.PathLike[str],
    palette: str | os.PathLike[str],
    options: RenderOptions,
    *,
    fps: float,
    size: tuple[int, int],
    tones: str | os.PathLike[str] | None = None,
) -> list[str]:
    """A GIF's first pass: one palette image for the whole video (pure); ``tones`` as in
    :func:`build_command`, so the palette holds the deflickered colours."""
    codec = resolve_codec(options.codec)
    cmd = _input(ffmpeg, list_file, _rate(fps))
    extra = tone_filter(tones)
    return [*cmd, *_filters(codec, size, options.pix_fmt, True, extra), "-update", "1",
            "-frames:v", "1",
            "-c:v", "png", "-f", "image2", os.fspath(palette)]  # fmt: skip


#: vidstab's settings for a fixed timelapse camera: wind and a loose mount shake it a little
#: (shakiness 4 of 10), and the correction is smoothed over ±15 frames so a slow pan stays
_DETECT = "vidstabdetect=shakiness=4:accuracy=15:stepsize=6:result={path}"
_TRANSFORM = (
    "vidstabtransform=input={path}:smoothing=15:optzoom=1:interpol=bicubic,"
    "unsharp=5:5:0.6:3:3:0.3"  # the transform's resampling softens a little
)


#: deflicker: sendcmd sets eq's settings frame by frame (see :func:`tone_script`). gamma 2 with
#: gamma_weight 0 has no effect on the picture but puts eq on its exact 256-entry lookup table
#: (its fixed-point path rounds brightness to steps of 2.5 levels); lutyuv then clips to the TV
#: range as an RGB multiply clips at white (a table made once: lutyuv's defaults)
_TONE = "sendcmd=f={path},eq=gamma=2:gamma_r=2:gamma_b=2:gamma_weight=0,lutyuv"
_TONE_MARK = "sendcmd=f="
_BLACK = 16  # the TV range's black: the chain converts to TV range before deflicker


def _transforms_arg(path: str | os.PathLike[str], what: str = "stabilise transforms") -> str:
    """``path`` as a filter-graph argument. Paths with characters that the graph treats
    specially are refused rather than escaped: the renderer names the file in its temp dir."""
    text = os.fspath(path)
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", text):
        raise ValueError(f"{what} file {text!r}: use a plain path (no : , ' or ;)")
    return text


def tone_filter(tones: str | os.PathLike[str] | None) -> str:
    """The filters that apply a :func:`tone_script` file (after the chain's TV-range scale)."""
    return _TONE.format(path=_transforms_arg(tones, "deflicker commands")) if tones else ""


def _eq_settings(gain: float) -> tuple[float, float]:
    """eq's (contrast, brightness) that multiply TV-range luma by ``gain`` from black:
    ``round(16 + gain * (Y - 16))``, i.e. an RGB multiply as exports apply it. eq's table is
    ``floor(256 * (contrast * (Y/255 - 0.5) + 0.5 + brightness))``, solved for that line; a
    thousandth of a level keeps ties rounding up. The same contrast as saturation scales chroma
    about neutral 128 (within one level of the exact product: eq has no chroma offset)."""
    contrast = 255 * gain / 256
    brightness = (_BLACK * (1 - gain) + 0.5 + 1e-3) / 256 - 0.5 + contrast / 2
    return contrast, brightness


def tone_script(gains: Sequence[tuple[int, float]], fps: float) -> str:
    """The sendcmd file that deflickers a render (pure): ``gains`` are (first output frame,
    gain) pairs in order, one per list entry. A command is written only where the gain
    changes, half a frame before the frame it is for (frame times are n/fps, so rounding never
    moves it to a neighbour); ``""`` when every gain is 1 (no filter is needed)."""
    if all(f"{g:.4f}" == "1.0000" for _, g in gains):
        return ""
    lines, last = [], ""
    for frame, gain in gains:
        text = f"{gain:.4f}"
        if text == last:
            continue
        at = 0.0 if frame == 0 else (frame - 0.5) / fps
        contrast, brightness = _eq_settings(float(text))
        lines.append(f"{at:.6f} eq contrast {contrast:.8f}, eq brightness {brightness:.8f}, "
                     f"eq saturation {contrast:.8f};")  # fmt: skip
        last = text
    return "\n".join(lines) + "\n"


def build_stabilise_command(
    ffmpeg: str | os.PathLike[str],
    list_file: str | os.PathLike[str],
    transforms: str | os.PathLike[str],
    options: RenderOptions,
    *,
    fps: float,
    size: tuple[int, int],
) -> list[str]:
    """Stabilising's first pass: vidstabdetect measures each frame's shake into ``transforms``
    (pure). Frames go through the same crop/fit/pad as the render, so the motion it measures
    is the motion :func:`build_command` with ``transforms`` corrects."""
    codec = resolve_codec(options.codec)
    detect = _DETECT.format(path=_transforms_arg(transforms))
    chain = _filters(codec, size, "yuv420p", False, detect)
    if chain[0] != "-vf":  # a GIF's chain is a graph with its palette: detection needs neither
        chain = _filters(resolve_codec("h264"), size, "yuv420p", False, detect)
    return [*_input(ffmpeg, list_file, _rate(fps)), *chain, "-f", "null", "-"]


def build_command(
    ffmpeg: str | os.PathLike[str],
    list_file: str | os.PathLike[str],
    output: str | os.PathLike[str],
    options: RenderOptions,
    *,
    fps: float,
    size: tuple[int, int],
    frames: int,
    container: str,
    palette: str | os.PathLike[str] | None = None,
    transforms: str | os.PathLike[str] | None = None,
    tones: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The ffmpeg argument list (pure: no file or process is touched). A GIF needs the
    ``palette`` made by :func:`build_palette_command`; ``transforms`` (made by
    :func:`build_stabilise_command`) stabilises the video; ``tones`` (a :func:`tone_script`
    file) deflickers it, before stabilising."""
    codec = resolve_codec(options.codec)
    rate = _rate(fps)
    cmd = _input(ffmpeg, list_file, rate)
    if codec.name == "gif":
        if palette is None:
            raise ValueError("a GIF needs its palette (build_palette_command) as an input")
        cmd += ["-i", os.fspath(palette)]
    steady = _TRANSFORM.format(path=_transforms_arg(transforms)) if transforms else ""
    extra = ",".join(f for f in (tone_filter(tones), steady) if f)
    cmd += [*_filters(codec, size, options.pix_fmt, False, extra), "-r", rate]
    cmd += ["-frames:v", str(frames)]
    crf, preset = speed_settings(codec, options.speed, options.crf, options.preset)
    cmd += codec_args(codec, crf, preset, container)
    if codec.name != "gif":
        cmd += ["-color_range", "tv"]  # JPEGs decode full range; players expect TV range
    if container in ("mp4", "mov"):
        cmd += ["-movflags", "+faststart"]
    cmd += ["-f", container, os.fspath(output)]
    return cmd
