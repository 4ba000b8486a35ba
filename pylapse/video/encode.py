"""The encode of a render: whether the ffmpeg in use can do it, the ffmpeg runs of one attempt
(a GIF's palette pass, stabilising's detection pass, the encode, each with the temp files it
needs), the attempts again without each frame that stops ffmpeg, and the errors a render raises
(:class:`RenderError` naming the frame ffmpeg was at, and what to do).

The frames come in checked and planned (:mod:`pylapse.video.framecheck`,
:mod:`pylapse.video.framelist`); :func:`pylapse.video.render.render_frames` runs the encode
into its temp output and gives the video its name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pylapse import orphans
from pylapse.ffmpeg import FfmpegInfo, RunResult, run_ffmpeg
from pylapse.progress import Progress, ProgressCallback, safe_report
from pylapse.video import deflicker
from pylapse.video.codecs import Codec, available_codecs, resolve_codec
from pylapse.video.command import (
    RenderOptions,
    build_command,
    build_palette_command,
    build_stabilise_command,
    check_rate,
    tone_script,
)
from pylapse.video.damage import damaged_frames, explained
from pylapse.video.errors import fix_for, key_line, named_paths
from pylapse.video.framecheck import SkippedFrame, drop_frames, entry_at
from pylapse.video.framelist import ListEntry, NoFramesError, concat_list
from pylapse.video.temps import LIST_SUFFIX, TEMP_LABELS, TONES_SUFFIX, TRANSFORMS_SUFFIX

__all__ = [
    "STABILISE",
    "CodecUnavailable",
    "Encode",
    "RenderError",
    "StabiliseUnavailable",
    "check_ffmpeg",
    "encode_frames",
    "output_fps",
]

_ATTEMPTS = 3  # encodes at most: frames that stop ffmpeg are left out and it runs again
STABILISE = "stabilise"  # the progress stage of the detection pass


class RenderError(RuntimeError):
    """A render that failed; ``stderr_tail`` holds the end of ffmpeg's error output."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class CodecUnavailable(RenderError):
    """The ffmpeg in use has no encoder for the requested codec."""


class StabiliseUnavailable(RenderError):
    """Stabilising was asked for and the ffmpeg in use has no vidstab filters."""


def check_ffmpeg(info: FfmpegInfo, codec: Codec, options: RenderOptions) -> None:
    """Refuse before any frame is looked at when ``info``'s ffmpeg has no encoder for ``codec``
    or, with ``stabilise``, no vidstab filters."""
    if not info.has_encoder(codec.encoder):
        usable = [c.name for c in available_codecs(info.encoders)]
        raise CodecUnavailable(
            f"codec {codec.name} needs the {codec.encoder} encoder, which {info.path} "
            f"(ffmpeg {info.version}) lacks; available: {', '.join(usable) or 'none'}"
        )
    if options.stabilise and (why_not := info.stabilise_support()) is not None:
        raise StabiliseUnavailable(f"stabilise: {info.path} cannot: {why_not}")


def output_fps(options: RenderOptions, total: int) -> float:
    """The output rate: ``fps``, or what fits ``total`` frames into ``duration`` seconds."""
    if options.duration:
        return check_rate(total / options.duration, f"{total} frames in {options.duration:g} s is")
    return options.fps


@dataclass
class Encode:
    """The ffmpeg run(s) of one attempt: a GIF's palette pass, stabilising's detection pass,
    then the encode; ``gains`` (by frame path) deflicker it."""

    ffmpeg: Path
    temp: Path
    options: RenderOptions
    entries: list[ListEntry]
    size: tuple[int, int]
    container: str
    gains: Mapping[str, float] | None = None
    list_text: str = ""
    total: int = 0
    fps: float = 0.0

    def __post_init__(self) -> None:
        self.list_text = concat_list(self.entries)
        self.total = sum(e.repeats for e in self.entries)
        self.fps = output_fps(self.options, self.total)

    def run(self, progress: ProgressCallback | None, cancel: threading.Event | None
            ) -> tuple[dict[str, list[str]], RunResult]:  # fmt: skip
        """The commands by pass (``palette``, ``stabilise``, ``encode``; temp files named as
        ``<concat list>`` ...) and the last result; a first pass that fails is returned as the
        result. Every temp file is named for this process and locked while it lives, so one
        killed mid-way leaves them to the next render's sweep."""
        temps: list[orphans.OwnedTemp] = []

        def temp(suffix: str) -> str:
            temps.append(orphans.OwnedTemp(tempfile.gettempdir(), "", suffix))
            return os.fspath(temps[-1].path)

        commands: dict[str, list[str]] = {}
        palette = None
        try:
            list_name = temp(LIST_SUFFIX)
            Path(list_name).write_text(self.list_text, encoding="utf-8")
            tones = self._tones(temp)
            if resolve_codec(self.options.codec).name == "gif":
                # named after the temp video, so a sweep takes it with that
                palette = self.temp.with_name(self.temp.name.removesuffix(".tmp") + ".palette.tmp")
                commands["palette"] = build_palette_command(
                    self.ffmpeg, list_name, palette, self.options, fps=self.fps, size=self.size,
                    tones=tones,
                )  # fmt: skip
                result = run_ffmpeg(commands["palette"], cancel=cancel, remove_on_cancel=[palette])
                if result.returncode != 0:
                    return self._public(commands, temps), result
            transforms = None
            if self.options.stabilise:
                transforms = temp(TRANSFORMS_SUFFIX)
                commands["stabilise"] = build_stabilise_command(
                    self.ffmpeg, list_name, transforms, self.options, fps=self.fps,
                    size=self.size,
                )  # fmt: skip
                result = run_ffmpeg(
                    commands["stabilise"], total=self.total, progress=progress, cancel=cancel,
                    stage=STABILISE, fps=self.fps,
                )  # fmt: skip
                if result.returncode != 0:
                    return self._public(commands, temps), result
            commands["encode"] = build_command(
                self.ffmpeg, list_name, self.temp, self.options, fps=self.fps, size=self.size,
                frames=self.total, container=self.container, palette=palette,
                transforms=transforms, tones=tones,
            )  # fmt: skip
            result = run_ffmpeg(
                commands["encode"], total=self.total, progress=progress, cancel=cancel,
                remove_on_cancel=[self.temp], fps=self.fps,
            )  # fmt: skip
        finally:
            for owned in temps:
                with contextlib.suppress(OSError):
                    owned.path.unlink()
                owned.close()
            if palette is not None:
                with contextlib.suppress(OSError):
                    palette.unlink()
        return self._public(commands, temps), result

    def _tones(self, temp: Callable[[str], str]) -> str | None:
        """deflicker's sendcmd file, or None when there is nothing to change."""
        if not self.gains:
            return None
        script = tone_script(deflicker.entry_gains(self.entries, self.gains), self.fps)
        if not script:
            return None
        name = temp(TONES_SUFFIX)
        Path(name).write_text(script, encoding="utf-8")
        return name

    def _public(self, commands: dict[str, list[str]], temps: Sequence[orphans.OwnedTemp]
                ) -> dict[str, list[str]]:  # fmt: skip
        names = {os.fspath(self.temp): "<output>"}
        for owned in temps:
            for suffix, label in TEMP_LABELS.items():
                if owned.path.name.endswith(suffix):
                    names[os.fspath(owned.path)] = label
        return {k: [_renamed(a, names) for a in cmd] for k, cmd in commands.items()}

    def failure(self, name: str, result: RunResult, damaged: Sequence[SkippedFrame] = ()
                ) -> RenderError:  # fmt: skip
        """The error for a run that failed: the frame ffmpeg named or was at, what to do."""
        tail = result.stderr_tail
        named = named_paths(tail.splitlines(), {e.path for e in self.entries})
        if damaged:
            where = f" at frame {damaged[0]}"
        elif named:
            where = f" at frame {named[0]}"
        else:
            at = entry_at(self.entries, result.frames)
            where = f" near frame {result.frames + 1} of {self.total}"
            where += f" ({at.path})" if at is not None else ""
        if result.returncode == 0:
            what = f"ffmpeg stopped after {result.frames} of {self.total} frames"
        else:
            what = f"ffmpeg exited with code {result.returncode}"
        return RenderError(
            f"render of {name} failed{where}: {what}: {key_line(tail)}; fix: {fix_for(tail)}", tail
        )


def _renamed(arg: str, names: Mapping[str, str]) -> str:
    """``arg`` with each temp path in it (also inside a filter graph) by its label."""
    for path, label in names.items():
        if path in arg:
            arg = arg.replace(path, label)
    return arg


def encode_frames(
    info: FfmpegInfo,
    temp: Path,
    name: str,
    options: RenderOptions,
    entries: list[ListEntry],
    size: tuple[int, int],
    container: str,
    skipped: list[SkippedFrame],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    gains: Mapping[str, float] | None = None,
) -> tuple[Encode, dict[str, list[str]], RunResult]:
    """Encode, leaving out each frame that stops ffmpeg and running again (at most
    :data:`_ATTEMPTS` runs). Frames ffmpeg dropped are added to ``skipped``."""
    for attempt in range(1, _ATTEMPTS + 1):
        job = Encode(info.path, temp, options, entries, size, container, gains)
        if attempt == 1:
            first = STABILISE if options.stabilise else "encode"
            safe_report(progress, Progress(first, 0, job.total))
        commands, result = job.run(progress, cancel)
        if result.returncode == 0 and result.frames >= job.total:
            return job, commands, result
        damaged = damaged_frames(job.ffmpeg, job.entries, job.total, result)
        lost = {d.path: "" for d in damaged}
        if result.returncode == 0 and explained(job.entries, job.total, result, lost):
            skipped += damaged  # dropped by ffmpeg; the rest is complete
            return job, commands, result
        if not damaged or attempt == _ATTEMPTS:
            raise job.failure(name, result, damaged)
        skipped += damaged
        entries = drop_frames(entries, (d.path for d in damaged), options.fill_gaps)
        if not entries:
            raise NoFramesError(f"no frame of {name} could be decoded ({damaged[0]})")
        note = f"{len(damaged)} damaged frame(s) stopped ffmpeg; encoding again without them"
        safe_report(progress, Progress("encode", 0, job.total, message=note))
    raise AssertionError("unreachable")  # pragma: no cover
