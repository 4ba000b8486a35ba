"""The composition root: config -> index -> health -> jobs -> scheduler, started and stopped once.

``web_ui.py`` and ``autocapture.py`` each build exactly one :class:`Runtime` and hand it down;
nothing else in pyLapse holds global state. Building one opens the database and creates
objects but starts nothing: :meth:`Runtime.start` starts the job runner and the scheduler (which
takes the leases of the cameras no other scheduler holds) and :meth:`Runtime.stop` undoes it all.

Camera health changes (a camera turning frozen, blank, dark, failing, offline and back) are
events: :meth:`Runtime.add_health_listener` subscribes a callable that gets each
:class:`~pylapse.capture.health.HealthChange` once, from the capturing thread, after it is
written (notifications subscribe here). A listener must return quickly (hand the change to a
queue); one that raises is logged and never stops capture or the other listeners.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pylapse import db, timeutil
from pylapse.capture import disk
from pylapse.capture.camera import Camera, CaptureResult, on_saved
from pylapse.capture.health import (
    CameraHealth,
    HealthChange,
    HealthListener,
    HealthStore,
    as_seen,
)
from pylapse.capture.leases import Lease, LeaseStore
from pylapse.capture.retry import AttemptRunner
from pylapse.capture.scheduler import CaptureScheduler
from pylapse.config.base import ConfigError
from pylapse.config.file import save_config
from pylapse.config.models import Config
from pylapse.config.poll import ConfigPoll
from pylapse.config.watch import ConfigNotice, ConfigWatch
from pylapse.imaging.thumbmaker import ThumbMaker
from pylapse.notify import translate
from pylapse.notify.deliverylog import DeliveryLog
from pylapse.notify.events import Event
from pylapse.notify.notifier import Notifier
from pylapse.notify.rules import Rule, target_kind
from pylapse.retention.forecast import Growth
from pylapse.sources.base import GrabError
from pylapse.tasks.render_sweep import sweep_interrupted_renders
from pylapse.tasks.retention import growth_of
from pylapse.tasks.retention_daily import DailyRetention

if TYPE_CHECKING:
    from datetime import datetime

    from pylapse.collection import Collection
    from pylapse.index.store import FrameIndex
    from pylapse.jobs.record import JobRecord
    from pylapse.jobs.runner import JobRunner
    from pylapse.tasks.render_schedule import ScheduleTimer

__all__ = ["Runtime"]

log = logging.getLogger(__name__)


class Runtime:
    """Everything a running pyLapse needs, built from one :class:`~pylapse.config.Config`."""

    def __init__(
        self,
        config: Config,
        *,
        config_path: str | os.PathLike[str] | None = None,
        scheduler: bool = True,
        jobs: bool = True,
        host: str | None = None,
    ) -> None:
        """``host``: this capture host's name for the camera leases (default:
        ``$PYLAPSE_HOST``, the config's ``capture.host`` or the machine's name)."""
        from pylapse.index.store import FrameIndex

        self._config = config
        self.config_path = Path(config_path) if config_path else config.source
        # hand edits of the file are picked up on every read of ``config`` (and by a slow poll)
        self.config_watch: ConfigWatch | None = (
            ConfigWatch(self.config_path, config, self._switch_to) if self.config_path else None
        )
        self._config_poll = ConfigPoll(self.config_watch) if self.config_watch is not None else None
        self.data_path = config.data_path
        self.data_path.mkdir(parents=True, exist_ok=True)
        self.db_path = self.data_path / db.DB_NAME
        self.index: FrameIndex = FrameIndex(config.index_location)
        self._health_listeners: tuple[HealthListener, ...] = ()
        # beside the frame index and the leases: every host's dashboard sees every camera's
        self.health = HealthStore(
            config.index_location, data_path=self.data_path, listener=self._tell_health
        )
        self.jobs: JobRunner | None = self._job_runner() if jobs else None
        self.scheduler: CaptureScheduler | None = (
            CaptureScheduler(
                config, index=self.index, health=self.health, data_path=self.data_path, host=host
            )
            if scheduler
            else None
        )
        self._cameras: dict[str, Camera] = {}  # used when there is no scheduler
        # each camera's retention once a day, where it is captured (the holder of its lease)
        self.retention = DailyRetention(self._captured_here, self.index) if scheduler else None
        # render schedules fire where capture runs, on the host holding the site duty: as
        # jobs when there is a runner, else in the timer's own thread (headless capture)
        self.render_schedules: ScheduleTimer | None = None
        if scheduler:
            from pylapse.tasks.render_schedule import ScheduleTimer  # renders load ffmpeg's side

            self.render_schedules = ScheduleTimer(
                lambda: self.config, self._fire_render_schedule, active=self._holds_duty
            )
        # thumbnails and day-player previews of new frames, made in the background
        self.thumbs = ThumbMaker(self.data_path / "thumbs", self._picture_roots, feed=self.index)
        self._unhook_thumbs: Callable[[], None] | None = None
        self._lock = threading.RLock()
        self._lease_store: LeaseStore | None = None  # for display, when no scheduler has one
        self._started = False
        # notifications: health changes, disk pauses and finished jobs become events
        self.notifier = Notifier(notification_rules(config), DeliveryLog(self.db_path))
        self.add_health_listener(self._notify_health)
        if self.jobs is not None:
            self.jobs.add_finish_listener(self._notify_job)
            self.jobs.add_finish_listener(self._scheduled_render_ended)
        if self.scheduler is not None:
            self.scheduler.runner.on_pause = self._notify_pause

    # --- health events ---------------------------------------------------------------------------

    def add_health_listener(self, listener: HealthListener) -> Callable[[], None]:
        """Call ``listener`` with every camera health change from now on; returns the call
        that unsubscribes it (see the module)."""
        with self._lock:
            self._health_listeners = (*self._health_listeners, listener)

        def remove() -> None:
            with self._lock:
                kept = list(self._health_listeners)
                if listener in kept:
                    kept.remove(listener)
                self._health_listeners = tuple(kept)

        return remove

    def _tell_health(self, change: HealthChange) -> None:
        for listener in self._health_listeners:  # a tuple: subscribing meanwhile is safe
            try:
                listener(change)
            except Exception:  # one listener's fault must not keep the change from the others
                log.exception("health listener %r failed on %s", listener, change)

    # --- notifications -------------------------------------------------------------------------

    def _notify(self, events: list[Event]) -> None:
        for event in events:
            self.notifier.notify(event)

    def _notify_health(self, change: HealthChange) -> None:
        event = translate.health_event(
            change.camera_id, change.old, change.new, change.time, change.reason
        )
        self._notify([event] if event is not None else [])

    def _notify_pause(self, camera_id: str, folder: str, reason: str | None) -> None:
        self._notify(translate.pause_events(camera_id, folder, reason))

    def _notify_job(self, record: JobRecord) -> None:
        self._notify(translate.job_events(
            record.kind, record.state, record.title, record.id, params=record.params,
            result=record.result, error=record.error, when=record.finished,
        ))  # fmt: skip

    def _fire_render_schedule(self, schedule_id: str, fire: datetime,
                              stop: threading.Event) -> int | None:  # fmt: skip
        """Render a firing: queued as a job (its id returned; the timer hears of its end from
        :meth:`_scheduled_render_ended`), or in the timer's thread (None: done)."""
        from pylapse.tasks.render_schedule import queue_schedule, run_schedule

        if self.jobs is not None:  # the job's end tells notifications (render.scheduled)
            return queue_schedule(self.jobs, self.config, self.index, schedule_id, fire)
        title = f"Scheduled render {schedule_id}"
        params = {"schedule": schedule_id, "fire": fire.isoformat()}
        try:
            result = run_schedule(self.config, self.index, schedule_id, fire, cancel=stop)
        except Exception as exc:  # told as a job's failure would be, then logged by the timer
            self._notify(translate.job_events("render", "failed", title, 0, params=params,
                                              error=str(exc)))  # fmt: skip
            raise
        self._notify(translate.job_events("render", "done", title, 0, params=params,
                                          result=result))  # fmt: skip
        return None

    def _scheduled_render_ended(self, record: JobRecord) -> None:
        """A scheduled render's job ended: its firing is finished (not redone by the next
        holder of the site duty)."""
        schedule = record.params.get("schedule")
        if record.kind == "render" and isinstance(schedule, str) and self.render_schedules:
            self.render_schedules.finish(schedule)

    def _job_runner(self) -> JobRunner:
        from pylapse.jobs.runner import JobRunner  # only when jobs run (the capture CLI has none)

        return JobRunner(self.db_path)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the job runner and the scheduler."""
        if self._started:
            return
        if self.jobs is not None:
            self.jobs.start()
            sweep_interrupted_renders(self.jobs)
        if self.scheduler is not None:
            try:
                self.scheduler.start()
            except BaseException:
                if self.jobs is not None:
                    self.jobs.shutdown()
                raise
        self.notifier.start()
        if self.retention is not None:
            self.retention.start()
        if self.render_schedules is not None:
            self.render_schedules.start()
        if self._config_poll is not None:
            self._config_poll.start()
        if self._unhook_thumbs is None:
            self.thumbs.start()
            self._unhook_thumbs = on_saved(self.index, self.thumbs.submit)
        if self.config_path is not None:  # pyLapse 0.2's dashboard data beside the config, once
            from pylapse.tasks.import_v02 import import_at_first_start

            import_at_first_start(self)
        self._started = True

    def stop(self) -> None:
        """Stop capture and jobs, close cameras and the database connections."""
        if self._config_poll is not None:
            self._config_poll.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.retention is not None:
            self.retention.stop()  # a run under way stops between two frames
        if self.render_schedules is not None:
            self.render_schedules.stop()  # a headless render under way is cancelled
        if self.jobs is not None and self._started:
            self.jobs.shutdown()
        if self._unhook_thumbs is not None:
            self._unhook_thumbs()
            self._unhook_thumbs = None
        self.thumbs.stop()
        self.notifier.stop(drain=3.0)  # after jobs and capture: their last events go out
        for camera in self._cameras.values():
            camera.close()
        self._cameras.clear()
        preview = sys.modules.get("pylapse.capture.preview")  # only if some viewer ever used it
        if preview is not None:
            preview.shutdown_default_hub()
        self.health.close()
        if self._lease_store is not None:
            self._lease_store.close()
            self._lease_store = None
        if self.notifier.log is not None:
            self.notifier.log.close()
        self.index.close()
        self._started = False

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- configuration -------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The config in effect; a change of the file on disk is picked up first."""
        if self.config_watch is not None:
            return self.config_watch.config
        return self._config

    def config_snapshot(self) -> tuple[Config, str | None]:
        """The config in effect and the token of its generation, for a later
        :meth:`apply_config` (``expect=``); the token is None when there is no file."""
        if self.config_watch is None:
            return self._config, None
        return self.config_watch.snapshot()

    def check_config_token(self, expect: str | None) -> None:
        """Raise :class:`~pylapse.config.ConfigConflict` if the file changed on disk since the
        generation ``expect`` was read (a no-op without a file or a token)."""
        if self.config_watch is not None:
            self.config_watch.check()
            self.config_watch.check_token(expect)

    def reload_config(self) -> bool:
        """Read the file again now (True when something changed and was applied); a problem
        is reported by :attr:`config_notice`, never raised."""
        if self.config_watch is None:
            return False
        return self.config_watch.check(force=True)

    @property
    def config_notice(self) -> ConfigNotice | None:
        """What the dashboard should say about the config file (a reload, an error), or None."""
        return self.config_watch.notice if self.config_watch is not None else None

    def apply_config(self, new_config: Config, *, expect: str | None = None) -> Path | None:
        """Save ``new_config`` atomically and switch to it without a restart.

        The save is refused (:class:`~pylapse.config.ConfigConflict`) when the file changed on
        disk since the generation ``expect`` was read (see :meth:`config_snapshot`), or while
        the file holds an error. Only the scheduler jobs and cameras that changed are replaced.
        Moving ``data_dir`` needs a restart (the database and lock live there) and is refused.
        """
        self._check_data_dir(new_config)
        if self.config_watch is not None:
            return self.config_watch.save(new_config, expect)  # switches once written
        path = save_config(new_config) if new_config.source is not None else None
        self._switch_to(new_config)
        return path

    def _check_data_dir(self, new_config: Config) -> None:
        if new_config.data_path != self.data_path:
            raise ConfigError(
                f"data_dir changed to {new_config.data_path}; restart pyLapse to move the data "
                f"folder (it is {self.data_path} now)"
            )

    def _switch_to(self, new_config: Config) -> None:
        """Run on ``new_config`` from now on (after a save, or a hand edit loaded from disk).

        Called under the config watch's lock; code holding ``self._lock`` reads ``_config``,
        never ``config`` (whose check takes the watch's lock: the other order would deadlock).
        """
        self._check_data_dir(new_config)
        with self._lock:
            self._config = new_config
            for camera in self._cameras.values():
                camera.close()
            self._cameras.clear()
            if self.scheduler is not None:
                self.scheduler.reload(new_config)
            self.notifier.set_rules(notification_rules(new_config))

    def _holds_duty(self) -> bool:
        """Whether this process runs the site-wide timers (see CaptureScheduler.has_duty)."""
        return self.scheduler is not None and self.scheduler.has_duty

    def _captured_here(self) -> Config:
        """The config with only the cameras this process captures now (their leases held
        here), so that per-camera duties such as retention run on one host only."""
        config = self.config
        leases = self.scheduler.leases if self.scheduler is not None else None
        if leases is None:
            return config
        held = leases.held
        cameras = {cid: cfg for cid, cfg in config.cameras.items() if cid in held}
        return config.model_copy(update={"cameras": cameras})

    def _picture_roots(self) -> list[Path]:
        """Where the thumbnail maker may read frames: the storage roots, the cameras' folders
        and the collections' (what the dashboard serves frames from)."""
        config = self.config
        roots = list(config.root_paths)
        roots += [config.resolve(camera.output_dir) for camera in config.cameras.values()]
        for collection in self.collections().values():
            roots.extend(collection.roots)
        return roots

    # --- cameras -------------------------------------------------------------------------------

    def camera(self, camera_id: str) -> Camera:
        """The :class:`Camera` for a configured camera id (KeyError if there is none)."""
        if camera_id not in self.config.cameras:
            raise KeyError(f"no camera {camera_id!r} in the config")
        if self.scheduler is not None:
            return self.scheduler.camera(camera_id)
        with self._lock:
            if camera_id not in self._cameras:
                config = self._config
                cfg = config.cameras[camera_id]
                self._cameras[camera_id] = Camera.from_config(camera_id, cfg, config)
            return self._cameras[camera_id]

    def grab_now(self, camera_id: str) -> CaptureResult:
        """Capture one frame now, saved and indexed like a scheduled one.

        Raises :class:`~pylapse.sources.GrabError` with the reason when it did not work (the
        camera's health and log record the failure as for any attempt).
        """
        camera = self.camera(camera_id)
        # The scheduler's runner when there is one: it knows which paused reason each camera
        # shows, and a frame saved while the database's disk is full gets its row from it
        # once there is room (a runner made for this one call would forget both).
        scheduler = self.scheduler
        if scheduler is not None and scheduler.running:
            runner = scheduler.runner
        else:
            runner = AttemptRunner(
                index=self.index,
                health=self.health,
                guard=disk.DiskGuard(self.config.min_free_mb),
                on_pause=self._notify_pause,
                data_path=self.data_path,
            )
        outcome = runner.run(camera, timeutil.now(camera.zone), note=" (grab now)")
        if outcome.result is None:
            raise GrabError(f"{camera_id}: {outcome.error or outcome.skipped}")
        return outcome.result

    def camera_health(
        self, camera_id: str, leases: Mapping[str, Lease] | None = None
    ) -> CameraHealth:
        """The camera's health as the dashboard shows it: as its capture host recorded it in
        the index, with that host's name, or ``host silent`` when the host stopped renewing the
        camera's lease. ``leases``: every camera's lease (:meth:`lease_rows`), read once for
        many cameras."""
        lease = (self.lease_rows() if leases is None else leases).get(camera_id)
        host = lease.host if lease is not None else None
        live = lease is not None and lease.live()
        keeper = self.scheduler.leases if self.scheduler is not None else None
        # another live host's camera: not paused by this host's full data folder
        elsewhere = (
            lease is not None and live and (keeper is None or lease.holder != keeper.holder.id)
        )
        return as_seen(self.health.get(camera_id, here=not elsewhere), host, live)

    def lease_rows(self) -> dict[str, Lease]:
        """Every camera's lease, expired ones included (their host went silent), by camera."""
        return {lease.camera_id: lease for lease in self.leases.leases()}

    @property
    def leases(self) -> LeaseStore:
        """The camera leases and capture hosts (which host captures which camera, and each
        host's last heartbeat), this scheduler's or any other's on the same index."""
        keeper = self.scheduler.leases if self.scheduler is not None else None
        if keeper is not None:
            return keeper.store
        with self._lock:
            if self._lease_store is None:
                self._lease_store = LeaseStore(self.config.index_location)
            return self._lease_store

    # --- collections and disks -----------------------------------------------------------------

    def collections(self) -> dict[str, Collection]:
        """The configured collections plus one implicit collection (id = camera id) per camera
        that no configured collection already covers, so no frames are listed twice."""
        from pylapse.collection import Collection

        config = self.config
        found = config.all_collections()
        ids = [
            *(c for c in config.cameras if c in found),
            *(c for c in found if c not in config.cameras),
        ]
        return {cid: Collection.from_config(config, cid, self.index) for cid in ids}

    def volume_usage(self) -> list[disk.VolumeUsage]:
        """Each storage volume under the cameras' folders and storage roots, with days-until-full
        from the last day's capture volume."""
        folders = {cid: self.config.resolve(c.output_dir) for cid, c in self.config.cameras.items()}
        rates: dict[str | os.PathLike[str], float] = {}
        retained: dict[str | os.PathLike[str], Growth] = {}  # the same under retention
        for camera_id, folder in folders.items():
            rate = self.health.bytes_per_day(camera_id)
            if rate:
                rates[folder] = rates.get(folder, 0.0) + rate
                growth = growth_of(self.config, camera_id, self.index, rate)
                if growth is not None:
                    retained[folder] = growth
        return disk.volume_usage(
            [*folders.values(), *self.config.root_paths], bytes_per_day=rates, retention=retained
        )


def notification_rules(config: Config) -> list[Rule]:
    """The config's ``notifications`` as the notifier's rules."""
    rules = []
    for rule_id, c in config.notifications.items():
        rule = Rule.of(rule_id, c.url, c.events, secret=c.secret, cooldown=c.cooldown)
        rules.append(replace(rule, kind=target_kind(c.url, c.kind), enabled=c.enabled))
    return rules
