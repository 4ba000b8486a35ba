"""The video codecs pyLapse offers, and the encoder arguments each one needs (pure data + code).

A codec is offered only when the ffmpeg in use has its encoder (``FfmpegInfo.has_encoder``).
Quality is a CRF for the modern codecs (lower is better) and ``-q:v`` for MPEG-4; presets use
x264's names for every codec that has a speed/size trade-off, mapped to VP9's own knobs.

A *speed* is the choice users make without knowing those knobs: ``draft`` (a quick look: a fast
preset and a slightly lower quality) or ``final`` (the video to keep: a slow preset, a better
quality). It is a preset + quality pair per codec; an explicit ``crf`` or ``preset`` wins over
the speed's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "CODECS",
    "PRESETS",
    "SPEEDS",
    "Codec",
    "Speed",
    "available_codecs",
    "codec_args",
    "resolve_codec",
    "speed_settings",
]

PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
# VP9 has no presets: (deadline, cpu-used) chosen to land near the x264 preset of the same name.
_VP9_SPEED = {
    "ultrafast": ("realtime", 8),
    "superfast": ("realtime", 7),
    "veryfast": ("realtime", 6),
    "faster": ("good", 5),
    "fast": ("good", 4),
    "medium": ("good", 3),
    "slow": ("good", 2),
    "slower": ("good", 1),
    "veryslow": ("best", 0),
}
_MP4 = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


@dataclass(frozen=True)
class Codec:
    name: str
    encoder: str
    description: str
    containers: dict[str, str] = field(repr=False)  # file extension -> ffmpeg muxer
    quality: tuple[int, int, int] | None = None  # (best, worst, default); None: not adjustable
    preset: str | None = None  # default preset; None: presets do not apply

    @property
    def default_extension(self) -> str:
        return next(iter(self.containers))


CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        Codec("h264", "libx264", "H.264 (MP4), plays everywhere", _MP4, (0, 51, 23), "medium"),
        Codec(
            "h265", "libx265", "H.265/HEVC (MP4, tagged hvc1), half the size", _MP4,
            (0, 51, 28), "medium",
        ),
        Codec("mpeg4", "mpeg4", "MPEG-4 part 2, for old players", {**_MP4, ".avi": "avi"},
              (1, 31, 4)),
        Codec("vp9", "libvpx-vp9", "VP9 in WebM", {".webm": "webm", ".mkv": "matroska"},
              (0, 63, 32), "medium"),
        Codec("gif", "gif", "animated GIF (palette per video)", {".gif": "gif"}),
    )
}  # fmt: skip

_ALIASES = {
    "libx264": "h264",
    "x264": "h264",
    "avc": "h264",
    "libx265": "h265",
    "x265": "h265",
    "hevc": "h265",
    "libvpx-vp9": "vp9",
    "webm": "vp9",
    "mp4v": "mpeg4",
}


@dataclass(frozen=True)
class Speed:
    name: str
    label: str  # what the form and the CLI help call it
    description: str
    preset: str  # x264-style preset (VP9 maps it to deadline/cpu-used)
    quality_step: int  # added to the codec's default quality (CRF or q:v; lower is better)


SPEEDS: dict[str, Speed] = {
    s.name: s
    for s in (
        Speed("draft", "Fast draft", "to check a video quickly: several times faster, a bit "
              "softer", "veryfast", 3),
        Speed("final", "Final quality", "the video to keep: slower, sharper, smaller for its "
              "quality", "slow", -2),
    )
}  # fmt: skip


def speed_settings(
    codec: Codec, speed: str | None, crf: int | None, preset: str | None
) -> tuple[int | None, str | None]:
    """The (crf, preset) a render uses: the explicit values, else the speed's for ``codec``
    (``None``: the codec's default). ``ValueError`` for an unknown speed."""
    if speed is None:
        return crf, preset
    if speed not in SPEEDS:
        raise ValueError(f"speed {speed!r} is not one of {', '.join(SPEEDS)}")
    chosen = SPEEDS[speed]
    if crf is None and codec.quality is not None:
        best, worst, default = codec.quality
        crf = min(worst, max(best, default + chosen.quality_step))
    if preset is None and codec.preset is not None:
        preset = chosen.preset
    return crf, preset


def resolve_codec(name: str) -> Codec:
    """The codec called ``name`` (or an encoder alias such as ``libx264``); ``ValueError``
    listing the accepted names otherwise."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in CODECS:
        raise ValueError(f"unknown codec {name!r}; accepted: {', '.join(CODECS)}")
    return CODECS[key]


def available_codecs(encoders: Iterable[str]) -> list[Codec]:
    """The codecs an ffmpeg with these ``encoders`` (``FfmpegInfo.encoders``) can write."""
    have = set(encoders)
    return [c for c in CODECS.values() if c.encoder in have]


def codec_args(codec: Codec, crf: int | None, preset: str | None, container: str) -> list[str]:
    """``-c:v`` and the quality/speed arguments for ``codec``; ``ValueError`` for values it
    cannot take."""
    if crf is not None:
        if codec.quality is None:
            raise ValueError(f"codec {codec.name} has no quality setting; leave crf unset")
        best, worst, _ = codec.quality
        if not best <= crf <= worst:
            raise ValueError(f"crf {crf} for {codec.name} must be {best}-{worst} (lower is better)")
    if preset is not None:
        if codec.preset is None:
            raise ValueError(f"codec {codec.name} has no presets; leave preset unset")
        if preset not in PRESETS:
            raise ValueError(f"preset {preset!r} is not one of {', '.join(PRESETS)}")
    quality = crf if crf is not None else (codec.quality[2] if codec.quality else None)
    speed = preset or codec.preset
    args = ["-c:v", codec.encoder]
    if codec.name in ("h264", "h265"):
        args += ["-preset", str(speed), "-crf", str(quality)]
        if codec.name == "h265":
            args += ["-x265-params", "log-level=error"]
            if container in ("mp4", "mov"):
                args += ["-tag:v", "hvc1"]  # Safari and browsers refuse the default hev1 tag
    elif codec.name == "mpeg4":
        args += ["-q:v", str(quality)]
    elif codec.name == "vp9":
        deadline, cpu_used = _VP9_SPEED[str(speed)]
        args += ["-crf", str(quality), "-b:v", "0", "-row-mt", "1"]
        args += ["-deadline", deadline, "-cpu-used", str(cpu_used)]
    elif codec.name == "gif":
        args += ["-loop", "0"]
    return args
