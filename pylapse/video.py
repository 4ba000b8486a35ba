"""Frames to video with ffmpeg: a plan (pure), one command (pure), one run (:mod:`pylapse.ffmpeg`).

Input always goes through a concat-demuxer list file, never as paths on the command line (which
breaks at a few thousand frames). Every frame is one ``file`` line read at a forced input rate
(``-r`` before ``-i``), so the output has exactly as many frames as the list has lines: a frame
shown longer, or a gap filled with the previous frame, is the same line repeated. This avoids the
concat demuxer's ``duration`` directives, whose microsecond rounding drifts over long renders and
whose last file must be listed twice (adding a frame).

Every video is encoded to a temp name in the output folder and renamed on success, so a failed or
cancelled render never replaces a previous video; a manifest (:mod:`pylapse.manifest`) is written
beside it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pylapse import storage, timeutil
from pylapse.codecs import CODECS, Codec, available_codecs, resolve_codec
from pylapse.ffmpeg import FfmpegInfo, RunResult, find_ffmpeg, run_ffmpeg
from pylapse.framelist import (
    ListEntry,
    NoFramesError,
    concat_list,
    folder_frames,
    order_paths,
    plan_frames,
)
from pylapse.manifest import frame_list_hash, write_manifest
from pylapse.progress import Progress, ProgressCallback, safe_report
from pylapse.render_command import (
    RenderOptions,
    build_command,
    build_palette_command,
    check_options,
    check_rate,
    fit_size,
    parse_size,
)

__all__ = [
    "CODECS",
    "CodecUnavailable",
    "NoFramesError",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "build_command",
    "build_palette_command",
    "concat_list",
    "find_ffmpeg",
    "order_paths",
    "parse_size",
    "plan_frames",
    "render_frames",
    "render_sequence_to_video",
]

_CORRUPT_SEARCH = 400  # files checked after ffmpeg stopped on a decode error


class RenderError(RuntimeError):
    """A render that failed; ``stderr_tail`` holds the end of ffmpeg's error output."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class CodecUnavailable(RenderError):
    """The ffmpeg in use has no encoder for the requested codec."""


@dataclass(frozen=True)
class RenderResult:
    output: Path
    manifest: Path
    frames: int
    fps: float
    width: int
    height: int
    elapsed: float
    command: list[str] = field(repr=False)


# --- running -----------------------------------------------------------------------------------


def _first_size(entries: Sequence[ListEntry], skip_corrupt: bool) -> tuple[int, int]:
    """The first frame's size (header only); with ``skip_corrupt`` the first readable one's."""
    from PIL import Image, UnidentifiedImageError

    problem = ""
    for entry in entries if skip_corrupt else entries[:1]:
        try:
            with Image.open(entry.path) as image:
                return image.size
        except (OSError, UnidentifiedImageError) as exc:
            problem = problem or f"{entry.path} is not a readable image: {exc}"
    raise RenderError(
        f"first frame {problem}" if not skip_corrupt else f"no readable frame; {problem}"
    )


def _find_corrupt(entries: Sequence[ListEntry], done: int) -> str | None:
    """After a decode error: the first unreadable file at or after output frame ``done``."""
    position, start = 0, 0
    for k, entry in enumerate(entries):
        if position + entry.repeats > done:
            start = k
            break
        position += entry.repeats
    for entry in entries[start : start + _CORRUPT_SEARCH]:
        try:
            storage.validate_image(Path(entry.path).read_bytes())
        except (OSError, storage.InvalidImage) as exc:
            return f"{entry.path}: {exc}"
    return None


def _check_output(output: Path, codec: Codec) -> str:
    ext = output.suffix.lower()
    if ext not in codec.containers:
        accepted = ", ".join(sorted(codec.containers))
        raise ValueError(f"{output.name}: codec {codec.name} is written to {accepted} files")
    if output.is_dir():
        raise ValueError(f"output {output} is a folder; give a file name such as video{ext}")
    return codec.containers[ext]


def _temp_output(output: Path) -> Path:
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{output.name}.", suffix=storage.TEMP_SUFFIX, dir=output.parent
        )
    except OSError as exc:
        raise PermissionError(f"cannot write to {output.parent}: {exc.strerror or exc}") from None
    os.close(fd)
    return Path(name)


def _settle(path: Path) -> None:
    """Before the rename: ffmpeg's output on disk, and readable like the frames and exports
    (0644, as storage.atomic_write makes them; mkstemp creates it 0600)."""
    os.chmod(path, 0o644)
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _available(info: FfmpegInfo, codec: Codec) -> None:
    if not info.has_encoder(codec.encoder):
        usable = [c.name for c in available_codecs(info.encoders)]
        raise CodecUnavailable(
            f"codec {codec.name} needs the {codec.encoder} encoder, which {info.path} "
            f"(ffmpeg {info.version}) lacks; available: {', '.join(usable) or 'none'}"
        )


def _iso(utc: float | None, offset: int | None) -> str | None:
    if utc is None:
        return None
    return timeutil.from_utc(utc, offset or 0).isoformat()


@dataclass
class _Encode:
    """The ffmpeg run(s) of one render: a GIF's palette pass, then the encode."""

    ffmpeg: Path
    list_file: str
    temp: Path
    name: str
    options: RenderOptions
    entries: list[ListEntry]
    total: int
    fps: float
    size: tuple[int, int]

    def run(
        self, container: str, progress: ProgressCallback | None, cancel: threading.Event | None
    ) -> tuple[list[list[str]], RunResult]:
        commands: list[list[str]] = []
        palette = None
        try:
            if resolve_codec(self.options.codec).name == "gif":
                # ".tmp" last, so storage.sweep_temp removes it after a crash
                palette = self.temp.with_name(self.temp.name.removesuffix(".tmp") + ".palette.tmp")
                commands.append(
                    build_palette_command(self.ffmpeg, self.list_file, palette, self.options,
                                          fps=self.fps, size=self.size)
                )  # fmt: skip
                first = run_ffmpeg(commands[-1], cancel=cancel, remove_on_cancel=[palette])
                self._check(first, expect=1)
            commands.append(
                build_command(self.ffmpeg, self.list_file, self.temp, self.options, fps=self.fps,
                              size=self.size, frames=self.total, container=container,
                              palette=palette)
            )  # fmt: skip
            result = run_ffmpeg(
                commands[-1], total=self.total, progress=progress, cancel=cancel,
                remove_on_cancel=[self.temp], fps=self.fps,
            )  # fmt: skip
            self._check(result, expect=self.total)
        finally:
            if palette is not None:
                with contextlib.suppress(OSError):
                    palette.unlink()
        return commands, result

    def _check(self, result: RunResult, expect: int) -> None:
        if result.returncode == 0 and (result.frames >= expect or self.options.skip_corrupt):
            return
        corrupt = _find_corrupt(self.entries, result.frames) if result.returncode else None
        reason = (
            f"unreadable or corrupt frame {corrupt}"
            if corrupt
            else f"ffmpeg exited with code {result.returncode} after "
            f"{result.frames} of {expect} frames: {_last_line(result.stderr_tail)}"
        )
        raise RenderError(f"render of {self.name} failed: {reason}", result.stderr_tail)


def render_frames(
    frames: Iterable[Any],
    output: str | os.PathLike[str],
    options: RenderOptions | Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RenderResult:
    """Render ``frames`` (see :func:`plan_frames`) to ``output``; returns what was made.

    Raises ``ValueError`` for bad options, :class:`NoFramesError`, :class:`CodecUnavailable`,
    ``PermissionError`` for an unwritable output, :class:`RenderError` (with ffmpeg's stderr
    tail; naming the corrupt frame when one stopped the render) and
    :class:`~pylapse.progress.Cancelled`.
    """
    if not isinstance(options, RenderOptions):
        options = RenderOptions.from_dict(options or {})
    output = Path(output).absolute()
    codec = resolve_codec(options.codec)
    container = _check_output(output, codec)
    check_options(options)
    entries = plan_frames(frames, None if options.duration else options.fps, options.fill_gaps)
    total = sum(e.repeats for e in entries)
    if total == 0:
        raise NoFramesError("no frames to render")
    fps = options.fps
    if options.duration:
        fps = check_rate(total / options.duration, f"{total} frames in {options.duration:g} s is")
    info = find_ffmpeg(options.ffmpeg_path)
    _available(info, codec)
    size = fit_size(_first_size(entries, options.skip_corrupt), options.size)
    list_text = concat_list(entries)
    temp = _temp_output(output)
    list_fd, list_name = tempfile.mkstemp(prefix="pylapse-concat-", suffix=".txt")
    try:
        with os.fdopen(list_fd, "w", encoding="utf-8") as handle:
            handle.write(list_text)
        safe_report(progress, Progress("encode", 0, total))
        job = _Encode(info.path, list_name, temp, output.name, options, entries, total, fps, size)
        commands, result = job.run(container, progress, cancel)
        _settle(temp)
        os.replace(temp, output)
        storage.fsync_dir(output.parent)
        skipped = max(0, total - result.frames)
        if skipped:  # only with skip_corrupt; the bar still ends at 100 %
            note = f"{skipped} unreadable frame(s) skipped"
            safe_report(progress, Progress("encode", total, total, None, 0.0, note))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(list_name)
        with contextlib.suppress(OSError):
            temp.unlink()  # gone already after the rename
    names = {os.fspath(temp): output.as_posix(), list_name: "<concat list>"}
    public = [[names.get(a, a) for a in cmd] for cmd in commands]
    manifest = write_manifest(
        output,
        {
            "video": output.name,
            "created": datetime.now(UTC).isoformat(),
            "frame_list_hash": frame_list_hash(list_text),
            "frame_count": len(entries),
            "output_frames": total - skipped,
            "skipped_frames": skipped,
            "fps": fps,
            "width": size[0],
            "height": size[1],
            "first_frame": entries[0].path,
            "last_frame": entries[-1].path,
            "first_time": _iso(entries[0].utc, entries[0].offset),
            "last_time": _iso(entries[-1].utc, entries[-1].offset),
            "options": asdict(options),
            "codec": {"name": codec.name, "encoder": codec.encoder, "container": container},
            "ffmpeg": {"path": str(info.path), "source": info.source, "version": info.version},
            "command": public[-1],
            "palette_command": public[0] if len(public) > 1 else None,
            "elapsed": round(result.elapsed, 3),
            "bytes": output.stat().st_size,
        },
    )
    return RenderResult(output, manifest, total - skipped, fps, *size, result.elapsed, public[-1])


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no error output"


# --- the folder API of the original pyLapse -----------------------------------------------------


def tqdm_progress(desc: str = "Rendering") -> tuple[ProgressCallback, Callable[[], None]]:
    """A progress callback drawing tqdm bars on stderr, and the function that closes them.

    Each stage gets its own bar, labelled with the stage and counting its own items (a
    "select 1/1" never turns into "1/2808" frames encoded); a bar is created on its stage's
    first report, once the total is known, and never counts back."""
    from tqdm import tqdm

    bars: list[tuple[str, Any]] = []

    def report(p: Progress) -> None:
        if not bars or bars[-1][0] != p.stage:
            if bars:
                bars[-1][1].close()
            label = f"{desc}: {p.stage}" if p.stage else desc
            bars.append((p.stage, tqdm(total=p.total or None, unit="frame", desc=label,
                                       dynamic_ncols=True)))  # fmt: skip
        bar = bars[-1][1]
        if p.total and bar.total != p.total:
            bar.total = p.total
        if p.rate:
            bar.set_postfix_str(f"{p.rate:.1f} fps", refresh=False)
        bar.update(max(0, p.done - bar.n))

    def close() -> None:
        for _stage, bar in bars:
            bar.close()

    return report, close


def render_sequence_to_video(
    input_dir: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    fps: float = 24,
    pattern: str = "*.jpg",
    codec: str = "h264",
    pixel_fmt: str = "yuv420p",
    ffmpeg_path: str | None = None,
    progress: bool | ProgressCallback = True,
    progress_callback: Callable[[int, int, str], None] | None = None,
    *,
    cancel: threading.Event | None = None,
    timezone: str | None = None,
    **options: Any,
) -> str:
    """Render the images in ``input_dir`` matching ``pattern`` (in time order) to a video.

    The original pyLapse call, unchanged: ``progress=True`` draws a bar, ``progress_callback``
    gets ``(done, total, "Encoding")``. Also accepts a :class:`~pylapse.progress.Progress`
    callback as ``progress`` and any :class:`RenderOptions` field as a keyword (``crf``,
    ``preset``, ``size``, ``duration``, ...). Returns the output path.
    """
    frames = folder_frames(input_dir, pattern, timeutil.zone(timezone))
    opts = RenderOptions(
        fps=fps, codec=codec, pix_fmt=pixel_fmt, ffmpeg_path=ffmpeg_path, **options
    )
    callbacks: list[ProgressCallback] = []
    close: Callable[[], None] = lambda: None  # noqa: E731
    if callable(progress):
        callbacks.append(progress)
    elif progress:
        bar, close = tqdm_progress()
        callbacks.append(bar)
    if progress_callback is not None:
        legacy = progress_callback
        callbacks.append(lambda p: legacy(p.done, p.total, "Encoding"))

    def report(p: Progress) -> None:
        for callback in callbacks:
            safe_report(callback, p)

    try:
        result = render_frames(frames, output_path, opts, report if callbacks else None, cancel)
    finally:
        close()
    return str(result.output)
