"""CaptureScheduler: APScheduler 3.x jobs built from the config, one per (camera, schedule).

* Triggers are evaluated in the camera's own zone: a cron ``hour=7`` camera in Tokyo fires at 07:00
  Tokyo time, and a Berlin camera keeps 07:00 local across DST (:mod:`pylapse.capture.triggers`).
* Runs go to daemon workers that grow with demand (:mod:`pylapse.capture.runpool`), and
  ``max_instances=1`` bounds each job to one run, so a hanging camera holds exactly one worker
  and delays nobody else; there is no fixed pool for it to exhaust. ``coalesce`` folds runs
  missed while the machine slept into one; ``misfire_grace_time`` drops runs too late to mean
  their slot.
* The frame is named for the *scheduled* fire time that APScheduler hands the executor, not for
  the moment the download finishes.
* A failed attempt schedules its retry as a separate one-off job (delay doubling per attempt);
  a retried frame is named for the retry's own fire time, when it was really taken. The
  camera's next regular slot replaces any retry still pending for it.
* Pause is durable (:mod:`pylapse.capture.pause`): paused scopes (everything, or one camera) are
  rows in ``pylapse.db``, read back on start and kept across reloads.
* A camera runs only where its lease is held (:mod:`pylapse.capture.leasekeeper`): a second
  scheduler on the same data (another host, or a second process here) captures only the
  cameras nobody else holds, and takes over unpinned ones whose holder stopped renewing. One
  scheduler at a time also holds the site duty (:attr:`CaptureScheduler.has_duty`): it alone
  runs the render schedules.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from pylapse import db, timeutil
from pylapse.capture.camera import Camera
from pylapse.capture.confignotes import ConfigNotes
from pylapse.capture.disk import DiskGuard
from pylapse.capture.jobplan import (
    NextRun,
    camera_signature,
    in_zone,
    next_runs,
    planned_jobs,
    retry_id,
)
from pylapse.capture.leasekeeper import LeaseKeeper
from pylapse.capture.leases import LeaseHolder, LeaseStore
from pylapse.capture.livecameras import prepare_camera, retire_camera, sweep_camera_temp
from pylapse.capture.pause import ALL, PauseStore
from pylapse.capture.retry import Attempt, AttemptRunner, RetryPolicy
from pylapse.capture.runpool import CaptureExecutor, fire_time
from pylapse.capture.triggers import build_trigger
from pylapse.config.capture import host_name

if TYPE_CHECKING:
    from pylapse.capture.health import HealthStore
    from pylapse.config.models import Config
    from pylapse.index.store import FrameIndex

__all__ = [
    "CaptureScheduler",
    "ReloadSummary",
]

log = logging.getLogger("pylapse.capture")

MISFIRE_GRACE = 30  # seconds late a run may still start; later ones are skipped (coalesced)
SHUTDOWN_WAIT = 2.0  # seconds shutdown waits for captures in flight
PAUSED_BY_USER = "capture paused (resume it on the dashboard or with the API)"
SAVE_YIELD = 0.25  # longest a save waits for the slot's other requests to go out first


@dataclass(frozen=True)
class ReloadSummary:
    added: list[str]  # job ids created or replaced (their schedule changed)
    removed: list[str]
    unchanged: list[str]  # kept as they were, next fire time included


class CaptureScheduler:
    """Captures every enabled camera on its schedules until :meth:`shutdown`."""

    def __init__(
        self,
        config: Config,
        *,
        index: FrameIndex | None = None,
        health: HealthStore | None = None,
        data_path: str | Path | None = None,
        lock: bool = True,
        host: str | None = None,
    ) -> None:
        """``lock``: capture only the cameras whose lease this scheduler holds (False: every
        enabled camera, no lease; for tools and tests). ``host`` names this host for the
        leases and ``capture_host`` (default: :func:`pylapse.config.capture.host_name`)."""
        self.data_path = Path(data_path) if data_path else config.data_path
        self.index = index
        self.health = health
        self._config = config
        self._stop = threading.Event()
        self.host = host_name(config.capture, host)
        self.leases: LeaseKeeper | None = None
        if lock:
            self.leases = LeaseKeeper(
                LeaseStore(config.index_location),  # beside the frame index: shared by hosts
                LeaseHolder.this_process(self.host),
                seconds=config.capture.lease_seconds,
                wanted=self._wanted_cameras,
                on_change=self._leases_changed,
                duty=True,  # and the site-wide duty: render schedules run on one host only
            )
        self._state_lock = threading.RLock()
        self._cameras: dict[str, Camera] = {}
        self._camera_sigs: dict[str, str | None] = {}
        self._job_sigs: dict[str, str] = {}
        self._retries: set[str] = set()  # ids of retry jobs scheduled and not yet run
        self.pauses = PauseStore(self.data_path / db.DB_NAME)
        self._executor = CaptureExecutor()
        # Saving (decode, encode, write, index, health) is CPU work: a small shared pool does
        # it, so the per-camera workers only wait on the network and a slot's requests all go
        # out at once instead of queuing for the GIL behind earlier cameras' JPEG decoding.
        self._processor = ThreadPoolExecutor(
            max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="pylapse-save"
        )
        self.runner = AttemptRunner(
            index=index,
            health=health,
            guard=DiskGuard(config.min_free_mb),
            cancel=self._stop,
            processor=self._processor,
            before_save=lambda: self._executor.wait_for_starts(SAVE_YIELD),
            may_write=self.leases.may_write if self.leases is not None else None,
            data_path=self.data_path,
        )
        self._sched = BackgroundScheduler(
            executors={"default": self._executor},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE,
            },
            timezone=UTC,
        )
        self._sched.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self._started = False
        self._notes = ConfigNotes()

    def _on_skipped(self, event: JobEvent) -> None:
        """Our own log line for a slot APScheduler did not run (its own logs are turned down)."""
        job = self._sched.get_job(event.job_id)
        name = job.name if job is not None else event.job_id
        when = getattr(event, "scheduled_run_time", None)
        if when is None and getattr(event, "scheduled_run_times", None):
            when = event.scheduled_run_times[-1]
        if event.code == EVENT_JOB_MAX_INSTANCES:
            why = "the previous capture of this camera is still running"
        else:
            why = f"more than {MISFIRE_GRACE} s late (machine asleep or overloaded)"
        stamp = when.isoformat(timespec="seconds") if isinstance(when, datetime) else "?"
        log.warning("%s: %s slot skipped: %s", name, stamp, why)

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._started and not self._stop.is_set()

    def start(self) -> None:
        """Take the leases of the cameras nobody else holds and start firing."""
        if self._started:
            return
        if self.leases is not None:
            self.leases.start()
        try:
            self._apply(self._config)
            self._sync_pause_reasons()
            self._sweep_temp()
            self._executor.prestart(len(self._job_sigs))
            self._prepare_cameras()
            self._sched.start()
        except BaseException:
            if self.leases is not None:
                self.leases.stop()
            raise
        self._started = True
        log.info(
            "scheduler started: %d job(s) for %d camera(s)%s",
            len(self._job_sigs),
            len(self._cameras),
            " (paused)" if self.paused else "",
        )
        self._notes.report(self._config, self.host if self.leases is not None else None)

    def shutdown(self, wait: float = SHUTDOWN_WAIT) -> None:
        """Stop firing, wait up to ``wait`` s for captures in flight, release the leases.

        A capture still downloading after that is abandoned: it checks the stop event before
        writing, so it leaves no frame and no temp file.
        """
        if self._stop.is_set():
            return
        self._stop.set()
        if self._started:
            self._sched.shutdown(wait=False)
            left = self._executor.join(wait)
            if left:
                log.info("%d capture(s) still downloading were abandoned at shutdown", left)
        self._processor.shutdown(wait=False, cancel_futures=True)
        for camera in self._cameras.values():
            camera.close()
        if self.leases is not None:
            self.leases.stop()
            self.leases.store.close()
        self.pauses.close()
        self._started = False

    def _prepare_cameras(self) -> None:
        """Set sources up before the first slot (see :func:`prepare_camera`)."""
        for camera in list(self._cameras.values()):
            prepare_camera(camera)

    def _sweep_temp(self) -> None:
        """Remove temp files a crash left in today's and yesterday's day folders (of the
        cameras captured here only: another host's capture may be writing the others')."""
        for camera in self._cameras.values():
            sweep_camera_temp(camera)

    # --- configuration -------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return self._config

    def camera(self, camera_id: str) -> Camera:
        """The live :class:`Camera` for ``camera_id`` (KeyError if not configured)."""
        with self._state_lock:
            if camera_id not in self._cameras:
                cfg = self._config.cameras[camera_id]
                self._cameras[camera_id] = Camera.from_config(camera_id, cfg, self._config)
            return self._cameras[camera_id]

    def reload(self, config: Config) -> ReloadSummary:
        """Switch to ``config``, replacing only the jobs and cameras that changed."""
        summary = self._apply(config)
        if self.leases is not None and self._started and not self._stop.is_set():
            # cameras added, removed or pinned elsewhere: their leases follow at once
            self.leases.seconds = config.capture.lease_seconds
            try:
                self.leases.reconcile()
            except Exception:  # the lease thread tries again at its next heartbeat
                log.exception("updating the camera leases after a config change failed")
        self._sync_pause_reasons()
        if self._started:
            self._notes.report(config, self.host if self.leases is not None else None)
        if summary.added or summary.removed:
            log.info(
                "config reloaded: %d job(s) added or changed, %d removed, %d unchanged",
                len(summary.added),
                len(summary.removed),
                len(summary.unchanged),
            )
        return summary

    def _apply(self, config: Config) -> ReloadSummary:
        added, removed, unchanged = [], [], []
        with self._state_lock:
            self._config = config
            self.runner.guard = DiskGuard(config.min_free_mb)
            self._sync_cameras(config)
            wanted = {
                job_id: job
                for job_id, job in planned_jobs(config).items()
                if self._runs_here(job.camera_id)
            }
            for job_id in set(self._job_sigs) - set(wanted):
                self._remove_job(job_id)
                self._remove_job(job_id.replace("capture:", "retry:", 1))
                self._job_sigs.pop(job_id, None)
                removed.append(job_id)
            for job_id, (sig, camera_id, schedule, tz) in wanted.items():
                if self._job_sigs.get(job_id) == sig:
                    unchanged.append(job_id)
                    continue
                added.append(job_id)
                self._remove_job(job_id)
                self._sched.add_job(
                    self._fire,
                    trigger=build_trigger(schedule, tz),
                    id=job_id,
                    name=f"{camera_id}/{schedule.id}",
                    kwargs={"camera_id": camera_id, "schedule_id": schedule.id},
                )
                self._job_sigs[job_id] = sig
                log.debug("scheduled %s", job_id)
        return ReloadSummary(sorted(added), sorted(removed), sorted(unchanged))

    def _sync_cameras(self, config: Config) -> None:
        for camera_id in list(self._cameras):
            sig = camera_signature(config, camera_id)
            if sig != self._camera_sigs.get(camera_id) or not self._runs_here(camera_id):
                retire_camera(self._cameras.pop(camera_id))
                self._camera_sigs.pop(camera_id, None)
        for camera_id, cfg in config.cameras.items():
            if self.health is not None:
                self.health.set_enabled(camera_id, cfg.enabled)
            if cfg.enabled and camera_id not in self._cameras and self._runs_here(camera_id):
                self._cameras[camera_id] = Camera.from_config(camera_id, cfg, config)
                self._camera_sigs[camera_id] = camera_signature(config, camera_id)

    # --- leases ------------------------------------------------------------------------------

    def _runs_here(self, camera_id: str) -> bool:
        """Whether this scheduler captures ``camera_id`` now (it holds its lease)."""
        return self.leases is None or camera_id in self.leases.held

    @property
    def has_duty(self) -> bool:
        """Whether this scheduler runs the site-wide timers (the render schedules): it holds the
        site duty lease (:data:`~pylapse.capture.leases.SITE_DUTY`), or takes no leases."""
        return self.leases is None or self.leases.has_duty

    def _wanted_cameras(self) -> list[str]:
        """The cameras whose leases this scheduler tries to hold: enabled, with a schedule,
        and pinned to this host or to none."""
        config = self._config
        return [
            camera_id
            for camera_id, cfg in config.cameras.items()
            if cfg.enabled
            and any(s.enabled for s in cfg.schedules)
            and cfg.capture_host in (None, self.host)
        ]

    def _leases_changed(self, held: frozenset[str]) -> None:
        """The leases held changed (from the lease thread): start and stop cameras to match."""
        if self._stop.is_set():
            return
        with self._state_lock:
            before = set(self._cameras)
            summary = self._apply(self._config)
            gained = [self._cameras[c] for c in sorted(set(self._cameras) - before)]
        log.info(
            "cameras captured here now: %s (%d job(s) added, %d removed)",
            ", ".join(sorted(held)) or "none", len(summary.added), len(summary.removed),
        )  # fmt: skip
        if gained:
            self._sync_pause_reasons()  # this host's pause of a camera it took shows on it now
        for camera in gained:
            try:  # what a dead holder left, before this host's first slot of it writes
                sweep_camera_temp(camera)
            except OSError as exc:
                log.debug("%s: sweeping temp files: %s", camera.id, exc)
            # off the lease thread: opening a stream must not delay the renewals
            threading.Thread(target=prepare_camera, args=(camera,), daemon=True).start()

    def _remove_job(self, job_id: str) -> None:
        if self._sched.get_job(job_id) is not None:
            self._sched.remove_job(job_id)

    # --- pause ---------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True when all capture is paused."""
        return self.pauses.everything

    def is_paused(self, camera_id: str | None = None) -> bool:
        return self.pauses.is_paused(camera_id)

    def paused_cameras(self) -> set[str]:
        return self.pauses.cameras()

    def pause(self, camera_id: str | None = None) -> None:
        """Pause everything (or one camera); remembered in the database across restarts."""
        self.pauses.pause(camera_id or ALL)
        self._sync_pause_reasons()
        log.info("capture paused: %s", camera_id or "all cameras")

    def resume(self, camera_id: str | None = None) -> None:
        self.pauses.resume(camera_id or ALL)
        self._sync_pause_reasons()
        log.info("capture resumed: %s", camera_id or "all cameras")

    def _sync_pause_reasons(self) -> None:
        """Show a user pause in each camera's health (``paused_reason``), and clear it on resume
        (a disk-space reason is left to the disk guard). Only for the cameras captured here:
        health is shared by the hosts on one index, and pauses are each host's own."""
        if self.health is None:
            return
        for camera_id in self._config.cameras:
            if not self._runs_here(camera_id):
                continue
            current = self.health.get(camera_id).paused_reason
            if self.is_paused(camera_id):
                wanted = PAUSED_BY_USER
            elif current == PAUSED_BY_USER:
                wanted = None
            else:
                continue
            if current != wanted:
                self.health.set_paused_reason(camera_id, wanted)
                self.runner.forget_reason(camera_id)

    # --- running -------------------------------------------------------------------------------

    def _scheduled_time(self, camera: Camera) -> datetime:
        return in_zone(fire_time() or timeutil.now(), camera.zone)

    def _fire(self, camera_id: str, schedule_id: str) -> Attempt | None:
        """A regular slot: supersedes any retry still pending for this schedule."""
        retry = retry_id(camera_id, schedule_id)
        if retry in self._retries:  # checked first: the job store lock is a shared one
            self._retries.discard(retry)
            self._remove_job(retry)
        return self._attempt(camera_id, schedule_id, 0)

    def _retry(self, camera_id: str, schedule_id: str, attempt: int) -> Attempt | None:
        self._retries.discard(retry_id(camera_id, schedule_id))
        return self._attempt(camera_id, schedule_id, attempt)

    def _attempt(self, camera_id: str, schedule_id: str, attempt: int) -> Attempt | None:
        if self._stop.is_set() or self.is_paused(camera_id) or not self._runs_here(camera_id):
            return None
        with self._state_lock:
            camera = self._cameras.get(camera_id)
            policy = RetryPolicy(self._config.max_retries, self._config.retry_delay)
        if camera is None:  # removed by a reload a moment ago
            return None
        when = self._scheduled_time(camera)
        delay = policy.delay_for(attempt)
        note = f"; retry in {delay:g} s" if delay is not None else ""
        if attempt and delay is None:
            note = "; giving up on this slot"
        outcome = self.runner.run(camera, when, attempt, note=note)
        if outcome.failed and delay is not None and not self._stop.is_set():
            self._schedule_retry(camera_id, schedule_id, attempt + 1, delay)
        return outcome

    def _schedule_retry(self, camera_id: str, schedule_id: str, attempt: int, delay: float) -> None:
        run_at = timeutil.now() + timedelta(seconds=delay)
        try:
            self._sched.add_job(
                self._retry,
                trigger=DateTrigger(run_date=run_at, timezone=UTC),
                id=retry_id(camera_id, schedule_id),
                name=f"{camera_id}/{schedule_id} retry {attempt}",
                kwargs={"camera_id": camera_id, "schedule_id": schedule_id, "attempt": attempt},
                replace_existing=True,
            )
            self._retries.add(retry_id(camera_id, schedule_id))
        except Exception:  # the scheduler shut down between the check and here
            log.debug("retry not scheduled", exc_info=True)

    # --- listings ------------------------------------------------------------------------------

    def next_runs(self, limit: int = 10) -> list[NextRun]:
        """The next ``limit`` captures across all cameras, soonest first (paused ones left out)."""
        if self.paused:
            return []
        return next_runs(self._config, timeutil.now(), limit, skip=self.is_paused)

    def pending_retries(self) -> list[tuple[str, datetime]]:
        """(job name, when) of retries waiting to run."""
        return [
            (job.name, job.next_run_time)
            for job in self._sched.get_jobs()
            if job.id.startswith("retry:") and job.next_run_time is not None
        ]
