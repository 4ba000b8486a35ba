"""Frames to video with ffmpeg: a plan (pure), one command (pure), one run (:mod:`pylapse.ffmpeg`).

Input always goes through a concat-demuxer list file, never as paths on the command line (which
breaks at a few thousand frames). Every frame is one ``file`` line read at a forced input rate
(``-r`` before ``-i``), so the output has exactly as many frames as the list has lines: a frame
shown longer, or a gap filled with the previous frame, is the same line repeated. This avoids the
concat demuxer's ``duration`` directives, whose microsecond rounding drifts over long renders and
whose last file must be listed twice (adding a frame).

One bad frame never kills a render: frames are looked at before the encode
(:mod:`pylapse.video.framecheck`: header and end marker, no decoding) and unreadable ones, or ones
of another size unless ``other_sizes="fit"``, are left out and listed in the result. A frame ffmpeg
still cannot decode is dropped by ffmpeg and named afterwards; when one stops ffmpeg, it is named
from ffmpeg's error output and the encode runs again without it. A failure that no frame explains
is a :class:`RenderError` naming the frame ffmpeg was at and what to do. The encode, its
attempts and these errors are :mod:`pylapse.video.encode`.

Every video is encoded to a temp name in the output folder and given its name only on success,
so a failed or cancelled render never replaces a previous video. The name is taken as asked
(``if_exists``): replacing a video there, refusing, or taking the first free name
(``day-2.mp4``) atomically. A manifest (:mod:`pylapse.video.manifest`) is written beside it.

A render killed outright (``kill -9``) takes its ffmpeg with it, and the temp files it could not
remove carry its pid: the next render into the folder, or the next start of the dashboard for
the renders its job history says were interrupted, sweeps them (:mod:`pylapse.video.temps`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pylapse import storage, timeutil
from pylapse.ffmpeg import find_ffmpeg
from pylapse.progress import Progress, ProgressCallback, safe_report
from pylapse.storage import IfExists
from pylapse.video import deflicker
from pylapse.video.codecs import Codec, resolve_codec
from pylapse.video.command import RenderOptions, check_options, fit_size
from pylapse.video.encode import (
    STABILISE,
    CodecUnavailable,
    RenderError,
    StabiliseUnavailable,
    check_ffmpeg,
    encode_frames,
    output_fps,
)
from pylapse.video.framecheck import SkippedFrame, check_frames
from pylapse.video.framelist import NoFramesError, folder_frames, plan_frames
from pylapse.video.manifest import frame_list_hash, manifest_path, write_manifest
from pylapse.video.temps import settle, temp_output

__all__ = [
    "CodecUnavailable",
    "RenderError",
    "RenderResult",
    "StabiliseUnavailable",
    "render_frames",
    "render_sequence_to_video",
    "render_steps",
]

log = logging.getLogger(__name__)

_MANIFEST_SKIPPED = 1000  # skipped frames named in the manifest (all are counted)


def render_steps(options: RenderOptions) -> dict[str, float]:
    """The progress stages a render with ``options`` reports, in order, with their weights
    (a job declares them after its own ``select``): measuring brightness for deflicker (only
    when no frame has a stored luma), stabilising's detection pass, the encode."""
    steps: dict[str, float] = {}
    if options.deflicker:
        steps[deflicker.STAGE] = 1  # 80 real 768x576 frames: 0.1 s of draft decodes, 3.8 s encode
    if options.stabilise:
        steps[STABILISE] = 2  # vidstabdetect: about a tenth of the encode (0.45 s of 3.9 s there)
    steps["encode"] = 19
    return steps


@dataclass(frozen=True)
class RenderResult:
    output: Path  # the name the video got (another than asked with if_exists="rename")
    manifest: Path
    frames: int
    fps: float
    width: int
    height: int
    elapsed: float
    command: list[str] = field(repr=False)
    skipped: tuple[SkippedFrame, ...] = ()  # frames left out, each with its reason
    fitted: int = 0  # frames of another size scaled in (other_sizes="fit")


# --- running -----------------------------------------------------------------------------------


def _check_output(output: Path, codec: Codec) -> str:
    ext = output.suffix.lower()
    if ext not in codec.containers:
        accepted = ", ".join(sorted(codec.containers))
        raise ValueError(f"{output.name}: codec {codec.name} is written to {accepted} files")
    if output.is_dir():
        raise ValueError(f"output {output} is a folder; give a file name such as video{ext}")
    return codec.containers[ext]


def _if_exists(value: str, output: Path) -> IfExists:
    try:
        policy = IfExists(value)
    except ValueError:
        accepted = ", ".join(repr(v.value) for v in IfExists)
        raise ValueError(f"if_exists {value!r} is not one of {accepted}") from None
    if policy is IfExists.ERROR and output.exists():  # before minutes of encoding
        raise FileExistsError(
            f"{output} exists; nothing was replaced (if_exists='replace' replaces it, "
            "'rename' picks a free name)"
        )
    return policy


def _iso(utc: float | None, offset: int | None) -> str | None:
    if utc is None:
        return None
    return timeutil.from_utc(utc, offset or 0).isoformat()


def _report_check(progress: ProgressCallback | None, planned: int, stage: str
                  ) -> Callable[[int, int], None]:  # fmt: skip
    """Checking frames is reported on the first stage after it at 0 (its own counts are files,
    not output frames), so a bar never runs ahead of the work it waits for."""

    def report(done: int, total: int) -> None:
        message = f"checked {done:,} of {total:,} frames"
        safe_report(progress, Progress(stage, 0, planned, message=message))

    return report


def render_frames(
    frames: Iterable[Any],
    output: str | os.PathLike[str],
    options: RenderOptions | Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    if_exists: str = IfExists.REPLACE,
    roots: Iterable[str | os.PathLike[str]] = (),
) -> RenderResult:
    """Render ``frames`` (see :func:`plan_frames`) to ``output``; returns what was made.

    With ``roots`` (the dashboard's storage roots), frames whose file does not resolve inside
    them are left out and listed in ``RenderResult.skipped``.

    ``if_exists``: ``"replace"`` (a video at ``output`` is replaced once the new one is
    complete, as pyLapse always did), ``"rename"`` (the first free name: ``day-2.mp4``; see
    ``RenderResult.output``) or ``"error"`` (``FileExistsError`` before anything is encoded).

    Frames that cannot be read, and with ``other_sizes="skip"`` frames of another size, are left
    out and listed in ``RenderResult.skipped``.

    ``stabilise=True`` runs vidstabdetect over the frames first (progress stage
    ``"stabilise"``) and vidstabtransform in the encode; ``deflicker=True`` multiplies each
    frame by its gain from the luma curve inside the encode (stored lumas, else measured first:
    stage ``"deflicker"``). See :func:`render_steps`.

    Raises ``ValueError`` for bad options,
    :class:`NoFramesError` (also when every frame was skipped), :class:`CodecUnavailable`,
    :class:`StabiliseUnavailable`,
    ``PermissionError`` for an unwritable output, ``FileExistsError``, :class:`RenderError`
    (naming the frame ffmpeg was at, with its stderr tail) and
    :class:`~pylapse.progress.Cancelled`.
    """
    if not isinstance(options, RenderOptions):
        options = RenderOptions.from_dict(options or {})
    output = Path(output).absolute()
    codec = resolve_codec(options.codec)
    container = _check_output(output, codec)
    check_options(options)
    policy = _if_exists(if_exists, output)
    entries = plan_frames(frames, None if options.duration else options.fps, options.fill_gaps)
    planned = sum(e.repeats for e in entries)
    if planned == 0:
        raise NoFramesError("no frames to render")
    output_fps(options, planned)  # a duration asking an impossible rate fails before the check
    info = find_ffmpeg(options.ffmpeg_path)
    check_ffmpeg(info, codec, options)
    report = _report_check(progress, planned, next(iter(render_steps(options))))
    report(0, len(entries))
    check = check_frames(entries, options.other_sizes, options.fill_gaps, report, cancel, roots)
    skipped, size = list(check.skipped), fit_size(check.size, options.size)
    gains = None
    if options.deflicker:
        gains = deflicker.frame_gains(check.entries, options.deflicker_window,
                                      options.deflicker_strength, progress, cancel)  # fmt: skip
    owned = temp_output(output)
    temp = owned.path
    try:
        job, commands, result = encode_frames(info, temp, output.name, options, check.entries,
                                              size, container, skipped, progress, cancel,
                                              gains)  # fmt: skip
        settle(temp)
        final = storage.place_file(temp, output, policy, taken=lambda p: manifest_path(p).exists())
        storage.fsync_dir(output.parent)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()  # gone already once placed
        owned.close()
    made = min(result.frames, job.total)
    if skipped or made < job.total:  # the bar still ends at 100 %
        note = f"{len(skipped)} frame(s) skipped" if skipped else ""
        safe_report(progress, Progress("encode", job.total, job.total, None, 0.0, note))
    public = {k: [final.as_posix() if a == "<output>" else a for a in cmd]
              for k, cmd in commands.items()}  # fmt: skip
    manifest = write_manifest(
        final,
        {
            "video": final.name,
            "created": datetime.now(UTC).isoformat(),
            "frame_list_hash": frame_list_hash(job.list_text),
            "frame_count": len(job.entries),
            "output_frames": made,
            "skipped_frames": len(skipped),
            "skipped": [{"path": s.path, "reason": s.reason} for s in skipped[:_MANIFEST_SKIPPED]],
            "fitted_frames": check.fitted,
            "fps": job.fps,
            "width": size[0],
            "height": size[1],
            "first_frame": job.entries[0].path,
            "last_frame": job.entries[-1].path,
            "first_time": _iso(job.entries[0].utc, job.entries[0].offset),
            "last_time": _iso(job.entries[-1].utc, job.entries[-1].offset),
            "options": asdict(options),
            "codec": {"name": codec.name, "encoder": codec.encoder, "container": container},
            "ffmpeg": {"path": str(info.path), "source": info.source, "version": info.version},
            "command": public["encode"],
            "palette_command": public.get("palette"),
            "stabilise_command": public.get("stabilise"),
            "deflicker": _gain_summary(gains),
            "elapsed": round(result.elapsed, 3),
            "bytes": final.stat().st_size,
        },
    )
    return RenderResult(final, manifest, made, job.fps, *size, result.elapsed, public["encode"],
                        tuple(skipped), check.fitted)  # fmt: skip


def _gain_summary(gains: Mapping[str, float] | None) -> dict[str, Any] | None:
    """What the manifest says of deflicker: how many frames it changed and by how much."""
    if gains is None:
        return None
    values = list(gains.values())
    changed = [g for g in values if abs(g - 1.0) >= 5e-5]
    return {"frames": len(values), "changed": len(changed),
            "min_gain": round(min(values, default=1.0), 4),
            "max_gain": round(max(values, default=1.0), 4)}  # fmt: skip


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
    if_exists: str = IfExists.REPLACE,
    **options: Any,
) -> str:
    """Render the images in ``input_dir`` matching ``pattern`` (in time order) to a video.

    The original pyLapse call, unchanged: ``progress=True`` draws a bar, ``progress_callback``
    gets ``(done, total, "Encoding")``, a video at ``output_path`` is replaced (once the new one
    is complete). Also accepts a :class:`~pylapse.progress.Progress` callback as ``progress``,
    ``if_exists`` as :func:`render_frames` does (``"rename"``, ``"error"``) and any
    :class:`RenderOptions` field as a keyword (``crf``, ``preset``, ``size``, ``duration``,
    ``other_sizes``, ``deflicker=True`` with ``deflicker_window``/``deflicker_strength``,
    ``stabilise=True``, ...). Returns the path of the video written. Skipped frames are logged as
    a warning and listed in the manifest.
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
        result = render_frames(frames, output_path, opts, report if callbacks else None, cancel,
                               if_exists=if_exists)  # fmt: skip
    finally:
        close()
    if result.skipped:
        log.warning("%s: %d frame(s) skipped: %s", result.output.name, len(result.skipped),
                    "; ".join(map(str, result.skipped[:20])))  # fmt: skip
    return str(result.output)
