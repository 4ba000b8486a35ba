"""Export use cases shared by the dashboard, the CLI and the API: a preset run as a job, with
a video of the result queued after it when asked (see :meth:`Collection.export_preset`, the one
way a preset runs)."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import timeutil
from pylapse.jobs.record import JobQueueFull
from pylapse.progress import ProgressCallback
from pylapse.tasks.render import queue_render
from pylapse.video.codecs import resolve_codec
from pylapse.video.framelist import folder_frames

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.config.presets import ExportPreset
    from pylapse.export.options import ExportOptions
    from pylapse.export.run import ExportResult
    from pylapse.jobs.runner import JobRunner
    from pylapse.selection.selection import Selection

__all__ = ["VideoAfter", "export_preset", "queue_export", "video_output"]


@dataclass(frozen=True, slots=True)
class VideoAfter:
    """A video to render from an export's frames once the export has finished."""

    codec: str
    fps: float


def video_output(config: Config, stem: str, codec: str) -> Path:
    """A new video's path in the videos folder: ``stem`` made file-safe, a local time stamp and
    the codec's extension (``ValueError`` when there is no storage root to hold it)."""
    folder = config.videos_folder
    if folder is None:
        raise ValueError("no storage roots are configured to hold videos")
    safe = re.sub(r"[^\w-]+", "-", stem).strip("-") or "video"
    stamp = timeutil.now().strftime("%Y-%m-%d_%H-%M-%S")
    return folder / f"{safe}-{stamp}{resolve_codec(codec).default_extension}"


def export_preset(
    config: Config,
    collection: Collection,
    preset: ExportPreset,
    output_dir: str | os.PathLike[str],
    options: ExportOptions,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    selection: Selection | None = None,
    name: str = "",
) -> ExportResult:
    """Run the preset's export where the config's ``jobs`` say: in this process
    (:meth:`Collection.export_preset`), or with its frames written by Celery workers
    (:func:`~pylapse.export.distributed.run_export_on_workers`); the same files either way."""
    jobs = config.jobs
    export: Callable[..., ExportResult] | None = None
    if jobs.backend == "celery":
        from pylapse.export.distributed import run_export_on_workers
        from pylapse.jobs.celery_app import client_app

        assert jobs.broker_url is not None and jobs.results_url is not None  # the model checks
        app = client_app(jobs.broker_url, jobs.results_url, jobs.visibility_timeout)
        export = functools.partial(
            run_export_on_workers, app=app, queue=jobs.queue, chunk_frames=jobs.chunk_frames
        )
    return collection.export_preset(
        preset, output_dir, options, progress, cancel, selection=selection, name=name,
        export=export,
    )  # fmt: skip


def queue_export(
    jobs: JobRunner,
    config: Config,
    collection: Collection,
    preset_id: str,
    preset: ExportPreset,
    folder: Path,
    options: ExportOptions,
    *,
    video: VideoAfter | None = None,
    replaces: int = 0,
) -> int:
    """Queue the preset's export into ``folder`` as an ``export`` job; returns its id.

    With ``video``, the job queues a render of the frames it wrote when it has finished (the
    render job's id is in the export's result as ``video_job``, or why it was not queued as
    ``video_error``). ``replaces`` is how many files of an earlier export the run replaces.
    """

    def fn(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        result = export_preset(
            config, collection, preset, folder, options, progress, cancel, name=preset_id
        )
        summary = result.summary()
        if video is not None:
            try:
                summary["video_job"] = queue_render(
                    jobs,
                    config,
                    title=f"Render export {preset_id}",
                    frames=lambda: folder_frames(folder, f"{options.prefix}*.{options.ext}", None),
                    output=video_output(config, preset_id, video.codec),
                    options={"codec": video.codec, "fps": video.fps},
                    params={"source": "export", "export_dir": str(folder), "preset": preset_id},
                )
            except (JobQueueFull, ValueError) as exc:
                summary["video_error"] = f"the video was not queued: {exc}"
        return summary

    params = {"preset": preset_id, "collection": preset.collection, "output_dir": str(folder),
              "video": None if video is None else {"codec": video.codec, "fps": video.fps},
              "replaces": replaces}  # fmt: skip
    steps = {"select": 1, "process": 19}  # choosing the frames is quick next to writing them
    return jobs.submit("export", f"Export {preset_id}", fn, steps=steps, params=params)
