"""Retention as a use case for the dashboard, the CLI and headless capture (issue 20, section 4).

A run is previewed first: every local day older than the camera's ``keep_all_days`` is planned
(:func:`pylapse.retention.plan.plan_day`) into counts and bytes per day, which a dry run returns
and a real run logs; the real run then plans each day again and moves what that day's plan
lists into the camera's trash (:mod:`pylapse.retention.run`), so the preview and the run decide
alike. Last, trash folders past their grace period are emptied.

Steps as a job: recover (an interrupted run is finished) -> plan -> move -> trash.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import storage
from pylapse.config.models import Config
from pylapse.config.retention import RetentionConfig
from pylapse.progress import Cancelled, Progress, ProgressCallback, safe_report
from pylapse.retention.forecast import Growth
from pylapse.retention.plan import Candidate, DayPlan, Policy, Reason, plan_day
from pylapse.retention.protect import Span, keep_spans, preset_spans
from pylapse.retention.run import (
    BATCH,
    camera_root,
    folder_problem,
    move_to_trash,
    recover,
    restore_run,
)
from pylapse.retention.trash import empty_trash
from pylapse.selection.targets import resolve_range

if TYPE_CHECKING:
    from pylapse.index.store import FrameIndex
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "STEPS",
    "CameraRetention",
    "DaySummary",
    "Preview",
    "RetentionError",
    "camera_folder",
    "camera_retention",
    "cameras_with_retention",
    "growth_of",
    "plan_days",
    "preview",
    "queue_retention",
    "restore",
    "run_retention",
]

log = logging.getLogger(__name__)

#: the job's steps, weighted by what each costs
STEPS = {"recover": 1, "plan": 3, "move": 10, "trash": 1}


class RetentionError(ValueError):
    """Retention cannot run for this camera; the message says why."""


@dataclass(frozen=True)
class CameraRetention:
    """What a run needs to know about one camera, from the config."""

    camera: str  # also its frames' index key
    retention: RetentionConfig
    root: Path  # the camera's folder, resolved inside a storage root
    roots: tuple[Path, ...]  # the storage roots, resolved
    zone: tzinfo
    protected: tuple[Span, ...]


def cameras_with_retention(config: Config) -> list[str]:
    """Ids of the cameras whose retention is enabled."""
    return sorted(c for c, cam in config.cameras.items() if cam.retention and cam.retention.enabled)


def camera_folder(config: Config, camera_id: str) -> tuple[Any, Path, tuple[Path, ...]]:
    """(camera, its folder resolved, the storage roots resolved) or :class:`RetentionError`."""
    camera = config.cameras.get(camera_id)
    if camera is None:
        known = ", ".join(sorted(config.cameras)) or "none"
        raise RetentionError(f"no camera {camera_id!r}; known: {known}")
    try:
        roots = tuple(storage.resolved_roots(config.root_paths))
        root = camera_root(config.resolve(camera.output_dir), roots)
    except storage.PathNotAllowed as exc:
        raise RetentionError(
            f"camera {camera_id!r}: retention moves frames only inside the storage roots: {exc}"
        ) from None
    return camera, root, roots


def camera_retention(config: Config, camera_id: str) -> CameraRetention:
    """The camera's retention settings checked; :class:`RetentionError` saying what is wrong."""
    camera = config.cameras.get(camera_id)
    retention = camera.retention if camera is not None else None
    if camera is not None and (retention is None or not retention.enabled):
        raise RetentionError(
            f"camera {camera_id!r} has no retention enabled: add "
            '"retention": {"enabled": true, "thin_minutes": ..., "delete_after_days": ...} '
            "to it in the config"
        )
    camera, root, roots = camera_folder(config, camera_id)
    assert retention is not None
    zone = camera.zone()
    presets = []
    for preset in config.exports.values():
        coll = config.collections.get(preset.collection or "")
        if preset.collection == camera_id or (coll is not None and coll.camera == camera_id):
            # a collection's own zone where it has one, else the camera's
            presets.append((preset, coll.zone() if coll is not None and coll.timezone else zone))
    spans = (*keep_spans(retention, zone), *preset_spans(presets))
    return CameraRetention(camera_id, retention, root, roots, zone, spans)


def growth_of(config: Config, camera_id: str, index: FrameIndex, rate: float) -> Growth | None:
    """How the camera's folder grows under its retention at ``rate`` bytes a day (for the disk
    forecast); None when the camera has no retention enabled. The share thinning keeps comes
    from the frames a day of the last full days the index holds."""
    camera = config.cameras.get(camera_id)
    if camera is None or camera.retention is None or not camera.retention.enabled:
        return None
    counts = list(index.count_by_day(camera_id, camera.zone()).values())[-4:]
    full = counts[:-1] if len(counts) > 1 else counts  # the newest day may still be filling
    per_day = sum(full) / len(full) if full else None
    return Growth.of(rate, camera.retention, per_day)


def _day_span(day: date, zone: tzinfo) -> tuple[float, float]:
    span = resolve_range(day, day, zone)
    assert span.start is not None and span.stop is not None
    return span.start, span.stop


def plan_days(
    index: FrameIndex,
    setup: CameraRetention,
    now: float,
    progress: ProgressCallback | None = None,
) -> Iterator[DayPlan]:
    """Each local day holding frames older than ``keep_all_days``, planned, oldest first; only
    frames inside the camera's folder are planned."""
    policy = Policy.of(setup.retention, now)
    days = [
        d
        for d in index.count_by_day(setup.camera, setup.zone)
        if _day_span(d, setup.zone)[0] < policy.keep_cutoff
    ]
    ours: dict[str, bool] = {}  # folder -> inside the camera's folder (a day: one folder)

    def inside(folder: str) -> bool:
        if folder not in ours:
            real = Path(os.path.realpath(folder))
            ours[folder] = folder_problem(real, setup.root, setup.roots) is None
        return ours[folder]

    for i, day in enumerate(days):
        start, stop = _day_span(day, setup.zone)
        rows = index.file_rows(setup.camera, start, stop)
        # frames of the camera's key elsewhere (a collection over another folder that names
        # the camera) are not its to remove: left out of the plan, so a preview says so too
        frames = [Candidate._make(r) for r in rows if inside(r[1])]
        safe_report(progress, Progress("plan", i, len(days), message=f"{day}"))
        yield plan_day(day, frames, policy, setup.protected)
    safe_report(progress, Progress("plan", len(days), len(days)))


@dataclass(frozen=True)
class DaySummary:
    """One day of a preview."""

    day: date
    frames: int
    kept: int
    thinned: int
    expired: int
    protected: int
    bytes: int

    @property
    def removed(self) -> int:
        return self.thinned + self.expired


@dataclass
class Preview:
    """What a run would remove, per day (only days that lose frames or keep protected ones)."""

    camera: str
    now: float
    days: list[DaySummary] = field(default_factory=list)

    @property
    def removed(self) -> int:
        return sum(d.removed for d in self.days)

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.days)

    @property
    def protected(self) -> int:
        return sum(d.protected for d in self.days)

    def summary(self) -> dict[str, Any]:
        return {"camera": self.camera, "removed": self.removed, "bytes": self.bytes,
                "protected": self.protected, "days": len(self.days)}  # fmt: skip


def _sized(plan: DayPlan) -> DayPlan:
    """``plan`` with the sizes the index did not know read from the files."""
    if not plan.unsized:
        return plan
    doomed = []
    for d in plan.doomed:
        if d.size is None:
            try:
                d = d._replace(size=os.lstat(os.path.join(d.folder, d.name)).st_size)
            except OSError:
                d = d._replace(size=0)  # already gone: removing it frees nothing
        doomed.append(d)
    return replace(plan, doomed=tuple(doomed))


def preview(
    index: FrameIndex,
    setup: CameraRetention,
    now: float,
    progress: ProgressCallback | None = None,
) -> Preview:
    """Counts and bytes per day of what a run at ``now`` would move to the trash."""
    out = Preview(setup.camera, now)
    for plan in plan_days(index, setup, now, progress):
        if not plan.doomed and not plan.protected:
            continue
        plan = _sized(plan)
        out.days.append(
            DaySummary(
                plan.day,
                plan.frames,
                plan.kept,
                plan.count(Reason.THIN),
                plan.count(Reason.EXPIRED),
                plan.protected,
                plan.bytes,
            )
        )
    return out


def run_retention(
    config: Config,
    camera_id: str,
    index: FrameIndex,
    *,
    now: float | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    batch: int = BATCH,
) -> dict[str, Any]:
    """Preview, then (unless ``dry_run``) move and empty the trash; a summary for a job.
    ``batch``: frames per journal batch (their rows go in one transaction)."""
    when = time.time() if now is None else now
    setup = camera_retention(config, camera_id)
    if not dry_run:
        safe_report(progress, Progress("recover", 0, 1))
        recovered = recover(setup.root, setup.roots, index)
        safe_report(progress, Progress("recover", 1, 1))
    seen = preview(index, setup, when, progress)
    days = [
        {"day": d.day.isoformat(), "frames": d.frames, "kept": d.kept, "thinned": d.thinned,
         "expired": d.expired, "protected": d.protected, "bytes": d.bytes}
        for d in seen.days
    ]  # fmt: skip
    at = datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
    log.info("retention of %s at %s, preview: %s", camera_id, at, seen.summary())
    for d in days if not dry_run else ():
        log.info("retention of %s, %s", camera_id, d)
    result: dict[str, Any] = {**seen.summary(), "dry_run": dry_run, "preview": days}
    if dry_run:
        return result
    if cancel is not None and cancel.is_set():
        raise Cancelled("retention was cancelled before anything was moved")
    moved = move_to_trash(
        plan_days(index, setup, when), collection=camera_id, root=setup.root, roots=setup.roots,
        index=index, now=when, total=seen.removed, progress=progress, cancel=cancel, batch=batch,
    )  # fmt: skip
    safe_report(progress, Progress("trash", 0, 1))
    emptied = empty_trash(setup.root, when, setup.retention.trash_days, camera_id)
    safe_report(progress, Progress("trash", 1, 1))
    result.update(moved.summary())
    result["recovered"] = [*recovered, *moved.recovered]
    result["trash_emptied"] = {"runs": emptied.emptied, "files": emptied.files,
                               "bytes": emptied.bytes, "waiting": emptied.waiting}  # fmt: skip
    return result


def restore(config: Config, camera_id: str, index: FrameIndex, run_id: str) -> dict[str, Any]:
    """Put a run's trashed frames back and index the camera's folder again; a summary."""
    from pylapse.collection import Collection

    _camera, root, _roots = camera_folder(config, camera_id)  # retention may be off by now
    done = restore_run(root, run_id)
    Collection.from_config(config, camera_id, index).refresh()
    return {"run": run_id, "restored": done.restored, "left": done.left, "notes": done.notes[:5]}


def queue_retention(
    jobs: JobRunner, config: Config, camera_id: str, index: FrameIndex, *, dry_run: bool = False
) -> int:
    """Queue a ``retention`` job for ``camera_id``; returns its id. A camera that cannot run
    retention fails here, before anything is queued."""
    camera_retention(config, camera_id)

    def fn(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return run_retention(
            config, camera_id, index, dry_run=dry_run, progress=progress, cancel=cancel
        )

    title = f"Retention of {camera_id}" + (" (preview)" if dry_run else "")
    steps = {"plan": 1} if dry_run else STEPS
    return jobs.submit("retention", title, fn, steps=steps, params={"camera": camera_id})
