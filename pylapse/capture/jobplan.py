"""The capture plan a config means: one job per enabled schedule of an enabled camera.

Each planned job carries a signature of everything its trigger depends on, so a reload
replaces only the jobs whose signature changed (:class:`~pylapse.capture.scheduler.CaptureScheduler`
keeps the rest, next fire time included); a built :class:`~pylapse.capture.camera.Camera` has
its own signature (:func:`camera_signature`). :func:`next_runs` lists the captures the plan
makes next, without asking APScheduler (which knows only the jobs run on this host).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from pylapse.capture.triggers import build_trigger, fire_times

if TYPE_CHECKING:
    from pylapse.config.cameras import Schedule
    from pylapse.config.models import Config

__all__ = [
    "NextRun",
    "PlannedJob",
    "camera_signature",
    "in_zone",
    "job_id",
    "next_runs",
    "planned_jobs",
    "retry_id",
]


@dataclass(frozen=True)
class NextRun:
    camera_id: str
    schedule_id: str
    when: datetime  # in the camera's zone


class PlannedJob(NamedTuple):
    sig: str  # changes when the job's trigger would
    camera_id: str
    schedule: Schedule
    tz: tzinfo  # the camera's zone: its triggers fire on its wall clock


def job_id(camera_id: str, schedule_id: str) -> str:
    return f"capture:{camera_id}:{schedule_id}"


def retry_id(camera_id: str, schedule_id: str) -> str:
    return f"retry:{camera_id}:{schedule_id}"


def in_zone(when: datetime, tz: tzinfo) -> datetime:
    # through UTC: astimezone() to the datetime's own tzinfo would not normalize it
    return when.astimezone(UTC).astimezone(tz)


def _signature(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def planned_jobs(config: Config) -> dict[str, PlannedJob]:
    """Every job ``config`` means, by job id (on whichever host captures the camera)."""
    wanted = {}
    for camera_id, cfg in config.cameras.items():
        if not cfg.enabled:
            continue
        for schedule in cfg.schedules:
            if not schedule.enabled:
                continue
            sig = _signature([
                schedule.model_dump(mode="json"), cfg.timezone, schedule.sun_place()
            ])  # fmt: skip
            wanted[job_id(camera_id, schedule.id)] = PlannedJob(
                sig, camera_id, schedule, cfg.zone()
            )
    return wanted


def camera_signature(config: Config, camera_id: str) -> str | None:
    """What a built :class:`Camera` depends on: its entry and the config-wide settings
    :meth:`Camera.from_config` reads (a hand edit of the top-level layout, the ffmpeg or the
    data folder rebuilds the running cameras)."""
    cfg = config.cameras.get(camera_id)
    if cfg is None:
        return None
    return _signature([
        cfg.model_dump(mode="json"),
        config.camera_layout(camera_id),
        str(config.resolve(config.ffmpeg_path)) if config.ffmpeg_path else None,
        str(config.data_path),
        str(config.resolve(cfg.output_dir)),
    ])  # fmt: skip


def _runs(job: PlannedJob, key: str, after: datetime, limit: int
          ) -> Iterator[tuple[float, str, NextRun]]:  # fmt: skip
    times = islice(fire_times(build_trigger(job.schedule, job.tz), after), limit)
    return (
        (t.timestamp(), key, NextRun(job.camera_id, job.schedule.id, in_zone(t, job.tz)))
        for t in times
    )


def next_runs(config: Config, after: datetime, limit: int,
              skip: Callable[[str], bool] = lambda camera_id: False) -> list[NextRun]:  # fmt: skip
    """The next ``limit`` captures of ``config`` after ``after``, soonest first (ties by job
    id), leaving out the cameras ``skip`` names (paused ones)."""
    streams = [
        _runs(job, key, after, limit)
        for key, job in planned_jobs(config).items()
        if not skip(job.camera_id)
    ]
    merged = heapq.merge(*streams, key=lambda item: (item[0], item[1]))
    return [item[2] for item in islice(merged, limit)]
