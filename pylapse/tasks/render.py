"""Render use cases shared by the dashboard, the CLI and the API: which codecs this machine can
write, where videos go, and a render queued as a job (its result summarised for history)."""

from __future__ import annotations

import contextlib
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse.ffmpeg import FfmpegError, FfmpegNotFound, configured_ffmpeg, find_ffmpeg
from pylapse.progress import Progress, ProgressCallback
from pylapse.video import segments
from pylapse.video.codecs import Codec, available_codecs
from pylapse.video.command import RenderOptions
from pylapse.video.manifest import read_manifest
from pylapse.video.render import RenderResult, render_frames, render_steps

if TYPE_CHECKING:
    from pylapse.config.models import Config
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "SKIPPED_SHOWN",
    "queue_render",
    "render",
    "stabilise_unavailable",
    "summary",
    "usable_codecs",
]

SKIPPED_SHOWN = 50  # skipped frames stored with a job (the manifest lists up to 1000)
#: under the data folder: the segments of renders on workers without the segment cache
PARTS_FOLDER = Path("cache") / "render-parts"


def usable_codecs(config: Config) -> tuple[list[Codec], str]:
    """The codecs the configured ffmpeg can write, and why there are none when it is unusable."""
    try:
        info = find_ffmpeg(configured_ffmpeg(config))
        return available_codecs(info.encoders), ""
    except (FfmpegNotFound, FfmpegError, OSError) as exc:
        return [], str(exc)


def stabilise_unavailable(config: Config) -> str | None:
    """Why renders cannot be stabilised with the configured ffmpeg; None when they can (the
    form offers the option only then)."""
    try:
        info = find_ffmpeg(configured_ffmpeg(config))
    except (FfmpegNotFound, FfmpegError, OSError) as exc:
        return str(exc)
    return info.stabilise_support()


def summary(result: RenderResult, codec: str) -> dict[str, Any]:
    """What a render job keeps in its history: the file, its size and stamp (so the page can
    tell whether the file at that path is still this video), timing and the frames left out."""
    stat = result.output.stat()
    manifest = read_manifest(result.output) or {}
    return {
        "output": str(result.output),
        "manifest": str(result.manifest),
        "frames": result.frames,
        "fps": round(result.fps, 3),
        "width": result.width,
        "height": result.height,
        "seconds": round(result.frames / result.fps, 2) if result.fps else None,
        "elapsed": round(result.elapsed, 2),
        "bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "created": manifest.get("created"),
        "codec": codec,
        "skipped": len(result.skipped),
        "skipped_frames": [[f.path, f.reason] for f in result.skipped[:SKIPPED_SHOWN]],
        "fitted": result.fitted,
    }


def render(
    config: Config,
    frames: Callable[[], Sequence[Any]],
    output: Path,
    options: dict[str, Any],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    if_exists: str = "rename",
    roots: Sequence[Path] | None = None,
    segment_cache: Path | None = None,
) -> dict[str, Any]:
    """Render ``frames()`` (listed when the render starts) to ``output`` with the config's
    ffmpeg; returns :func:`summary`. Frames whose file does not resolve inside ``roots``
    (default: the storage roots) are left out and listed.

    ``segment_cache`` (a collection's folder under the data folder's ``cache/segments``)
    renders through the per-day segment cache when the options allow it
    (:func:`pylapse.video.segments.why_not`); the summary then says which days were encoded.

    With the config's ``jobs.backend`` "celery", the days are encoded by the workers
    (:mod:`pylapse.video.distributed`) and joined here, with or without ``segment_cache``
    (without, in a folder of this render's own, removed afterwards)."""
    opts = RenderOptions.from_dict({**options, "ffmpeg_path": configured_ffmpeg(config)})
    allowed = list(roots if roots is not None else config.root_paths)
    report = progress or (lambda _p: None)
    report(Progress("select", 0, 1, message="listing frames"))
    chosen = frames()
    report(Progress("select", 1, 1))
    output.parent.mkdir(parents=True, exist_ok=True)
    encode = _workers(config)
    if (segment_cache is not None or encode is not None) and segments.why_not(opts, output) is None:
        own = None if segment_cache is not None else _parts_folder(config)
        cache = segment_cache or own
        assert cache is not None
        try:
            # frames without times (not from an index), or days of another frame shape: one piece
            with contextlib.suppress(segments.UntimedFrames, segments.OtherSize):
                made = segments.render_segmented(
                    chosen, output, opts, cache, progress, cancel,
                    if_exists=if_exists, roots=allowed, encode=encode,
                )  # fmt: skip
                return {**summary(made.result, opts.codec),
                        "segments_encoded": list(made.encoded),
                        "segments_reused": len(made.reused)}  # fmt: skip
        finally:
            if own is not None:
                shutil.rmtree(own, ignore_errors=True)
    result = render_frames(
        chosen, output, opts, progress, cancel, if_exists=if_exists, roots=allowed
    )
    return summary(result, opts.codec)


def _workers(config: Config) -> segments.EncodeDays | None:
    """The days' encode on Celery workers when the config's jobs say so; None: in process."""
    jobs = config.jobs
    if jobs.backend != "celery":
        return None
    from pylapse.jobs.celery_app import client_app
    from pylapse.video.distributed import encode_on_workers

    assert jobs.broker_url is not None and jobs.results_url is not None  # the model checks it
    app = client_app(jobs.broker_url, jobs.results_url, jobs.visibility_timeout)
    return encode_on_workers(app, jobs.queue)


def _parts_folder(config: Config) -> Path:
    """A folder of one render's own for the segments workers encode (the workers see the data
    folder under the same path, as they see the frames)."""
    return config.data_path / PARTS_FOLDER / uuid.uuid4().hex


def queue_render(
    jobs: JobRunner,
    config: Config,
    *,
    title: str,
    frames: Callable[[], Sequence[Any]],
    output: Path,
    options: dict[str, Any],
    params: dict[str, Any],
    if_exists: str = "rename",
    roots: Sequence[Path] | None = None,
    segment_cache: Path | None = None,
) -> int:
    """Queue :func:`render` as a ``render`` job; returns its id (``segment_cache`` as
    :func:`render` takes it).

    Bad options fail here, before anything is queued (``ValueError``); a full queue raises
    :class:`~pylapse.jobs.record.JobQueueFull`. An existing video at ``output`` is kept and
    the new one takes a free name unless ``if_exists`` is ``"replace"``.
    """
    opts = RenderOptions.from_dict({**options, "ffmpeg_path": configured_ffmpeg(config)})
    codec = opts.codec

    def fn(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return render(config, frames, output, options, progress, cancel, if_exists=if_exists,
                      roots=roots, segment_cache=segment_cache)  # fmt: skip

    params = {**params, "output": str(output), "codec": codec, "replace": if_exists == "replace"}
    # listing the frames is quick next to encoding them; deflicker's measuring and
    # stabilising's detection pass are steps of their own when asked for
    steps = {"select": 1.0, **render_steps(opts)}
    return jobs.submit("render", title, fn, steps=steps, params=params)
