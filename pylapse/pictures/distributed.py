"""One-day pictures over a range of days, a day a Celery task (``jobs.backend = "celery"``,
issue 21 §3).

The process that queued the job plans every day (:func:`~pylapse.pictures.make.plan_day`:
which frame fills which slot, the manifest): that needs the index, which workers may not
reach. A worker draws the day from those paths (:func:`~pylapse.pictures.make.draw_day`, as
the in-process picture does, so the pixels are the same) and saves it; the save writes each
file through a temporary name renamed into place, so a task redone after its worker died
writes the same picture again and a killed one leaves no partial file.

Workers must see the frames and the pictures folder under the same paths as the process that
queued the job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pylapse.jobs.fanout import TaskCall, run_tasks
from pylapse.pictures.make import READ, draw_day
from pylapse.pictures.request import PictureRequest
from pylapse.progress import Progress, ProgressCallback

__all__ = ["PICTURE_TASK", "DayPlan", "draw_and_save", "draw_days_on_workers", "saved_summary"]

#: the name the one-day picture task is registered under in ``pylapse worker``
PICTURE_TASK = "pylapse.pictures.day"

#: a day's planned picture: its request (with the day), its slots' paths, its manifest, where
#: it goes
DayPlan = tuple[PictureRequest, list[str | None], dict[str, Any], Path]


def saved_summary(output: Path, image_size: tuple[int, int], paths: Sequence[str | None]
                  ) -> dict[str, Any]:  # fmt: skip
    """What a job keeps of a saved day's picture."""
    return {"output": str(output), "width": image_size[0], "height": image_size[1],
            "frames": sum(1 for p in paths if p)}  # fmt: skip


def draw_and_save(
    parameters: dict[str, Any],
    paths: list[str | None],
    manifest: dict[str, Any],
    output: str,
    thumbnail: bool = False,
    report: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Draw one planned day and save it with its manifest (a Celery task's body; every argument
    JSON); :func:`saved_summary`."""
    request = PictureRequest.from_parameters(parameters)

    def progress(p: Progress) -> None:
        if report is not None and p.stage == READ:
            report(p.done)

    picture = draw_day(request, paths, manifest, progress, cancel)
    saved = picture.save(output, thumbnail=thumbnail)
    return saved_summary(saved.path, picture.image.size, paths)


def draw_days_on_workers(
    app: Any,
    queue: str,
    plans: Sequence[DayPlan],
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    thumbnail: bool = False,
) -> list[dict[str, Any]]:
    """Each planned day drawn and saved by a Celery task on ``queue``; their summaries in
    order. Progress counts the slots of all days (stage ``read``)."""
    calls = [
        TaskCall(PICTURE_TASK,
                 (request.parameters(), paths, manifest, str(output), thumbnail),
                 len(paths))
        for request, paths, manifest, output in plans
    ]  # fmt: skip
    return run_tasks(app, calls, queue=queue, stage=READ, progress=progress, cancel=cancel)
