"""Render schedules (issue 20 §1): when each fires, which period it covers, the run, keep-N.

A schedule (:class:`~pylapse.config.render_schedules.RenderScheduleConfig`) fires daily at
``at`` in its zone (the schedule's ``timezone``, else its collection's) for the named periods,
or by its cron rule. All times are computed from an explicit instant, never the wall clock, and
in the zone's own calendar: "yesterday" is the local day before the firing (23 or 25 hours
across a DST change); a firing time that a spring-forward skips moves onto the real clock
(:func:`pylapse.timeutil.localize`), one that autumn repeats fires once (its first instance).

Periods, for a firing at local time F on day D (half-open [start, end)):

- ``yesterday``: D-1 00:00 to D 00:00;  ``last_7_days``: D-7 00:00 to D 00:00;
- ``month_to_date``: the 1st of D's month to F (on the 1st: the whole month before);
- ``all``: from the first frame to F;  a cron rule: its previous firing to F.

A run renders the collection's frames of the period (the schedule's ``select`` rules) to
``<output_dir>/<name>.mp4`` with the period in the name, through the per-day segment cache
(:mod:`pylapse.video.segments`, ``<data>/cache/segments/<collection>``) unless the schedule
turns it off or its options need a whole render. The manifest beside the video says which
schedule and period made it; keep-N removes older outputs of that schedule found by those
manifests, and nothing else. In a process with a job runner a run is an ordinary ``render`` job
whose params carry ``"schedule"`` (so notifications send ``render.scheduled``); headless
capture runs it in the timer's thread.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pylapse import timeutil
from pylapse.config.render_schedules import NAMED_PERIODS, RenderScheduleConfig, cron_trigger
from pylapse.progress import ProgressCallback
from pylapse.tasks.render import render
from pylapse.tasks.render_firings import FiringLog
from pylapse.video.codecs import resolve_codec
from pylapse.video.manifest import MANIFEST_SUFFIX, manifest_path, read_manifest, write_manifest
from pylapse.video.segments import CACHE_FOLDER

if TYPE_CHECKING:
    from pylapse.collection import Collection
    from pylapse.config.models import Config
    from pylapse.index.store import FrameIndex
    from pylapse.jobs.runner import JobRunner

__all__ = [
    "CHECK_EVERY",
    "Period",
    "ScheduleTimer",
    "due_fire",
    "keep_newest",
    "next_fire",
    "output_path",
    "period_of",
    "queue_schedule",
    "run_schedule",
    "schedule_zone",
]

log = logging.getLogger(__name__)

CHECK_EVERY = 30.0  # seconds between the timer's checks


@dataclass(frozen=True)
class Period:
    """The frames a firing covers: ``[start, end)`` local, aware; ``start`` None = all."""

    start: datetime | None
    end: datetime
    label: str  # in the output name: 2026-12-06, 2026-11-30_2026-12-06, ...


def schedule_zone(config: Config, schedule: RenderScheduleConfig) -> tzinfo:
    """The schedule's zone, else its collection's (or camera's), else the machine's."""
    name = schedule.timezone
    if name is None:
        coll = config.all_collections().get(schedule.collection)
        camera = config.cameras.get(schedule.collection)
        name = (coll.timezone if coll is not None else None) or (
            camera.timezone if camera is not None else None
        )
    return timeutil.zone(name)


def _utc(when: datetime) -> float:
    """An instant to compare by: two times of one zone compare by their wall clocks (Python's
    rule), so the two 02:30s of an autumn night would be equal and the later one smaller."""
    return when.timestamp()


def _at(day: date, at: str, zone: tzinfo) -> datetime:
    hour, minute = (int(x) for x in at.split(":"))
    naive = datetime(day.year, day.month, day.day, hour, minute)  # noqa: DTZ001 - localized next
    return timeutil.localize(naive, zone)


def next_fire(schedule: RenderScheduleConfig, after: datetime, zone: tzinfo) -> datetime:
    """The first firing strictly after ``after`` (aware), in ``zone``."""
    if schedule.period not in NAMED_PERIODS:
        fire = cron_trigger(schedule.period, zone).get_next_fire_time(None, after)
        while fire is not None and _utc(fire) <= _utc(after):  # it may return ``after``
            fire = cron_trigger(schedule.period, zone).get_next_fire_time(
                None, after + timedelta(seconds=1)
            )
        if fire is None:
            raise ValueError(f"cron rule {schedule.period!r} never fires after {after}")
        found: datetime = fire.astimezone(zone)
        return found
    day = after.astimezone(zone).date()
    while True:
        fire = _at(day, schedule.at, zone)
        if _utc(fire) > _utc(after):
            return fire
        day += timedelta(days=1)


def _previous_fire(schedule: RenderScheduleConfig, fire: datetime, zone: tzinfo) -> datetime:
    """A cron rule's firing before ``fire``: searched backwards a step at a time."""
    probe = fire
    for tries in range(48 + 400):  # hours back for two days, then days back for a year
        probe -= timedelta(hours=1 if tries < 48 else 24)
        found = next_fire(schedule, probe, zone)
        if _utc(found) < _utc(fire):  # the latest firing before ``fire``: step forward
            latest = found
            while _utc(after := next_fire(schedule, latest, zone)) < _utc(fire):
                latest = after
            return latest
    raise ValueError(f"cron rule {schedule.period!r} fired no time in the year before {fire}")


def _midnight(day: date, zone: tzinfo) -> datetime:
    return timeutil.localize(datetime(day.year, day.month, day.day), zone)  # noqa: DTZ001


def period_of(schedule: RenderScheduleConfig, fire: datetime, zone: tzinfo) -> Period:
    """The period a firing at ``fire`` covers (see the module)."""
    local = fire.astimezone(zone)
    day = local.date()
    if schedule.period == "yesterday":
        first = day - timedelta(days=1)
        return Period(_midnight(first, zone), _midnight(day, zone), first.isoformat())
    if schedule.period == "last_7_days":
        first = day - timedelta(days=7)
        label = f"{first.isoformat()}_{(day - timedelta(days=1)).isoformat()}"
        return Period(_midnight(first, zone), _midnight(day, zone), label)
    if schedule.period == "month_to_date":
        if day.day == 1:  # nothing of this month yet: the month that just ended
            first = (day - timedelta(days=1)).replace(day=1)
            return Period(_midnight(first, zone), _midnight(day, zone), f"{first:%Y-%m}")
        first = day.replace(day=1)
        return Period(_midnight(first, zone), local, f"{first.isoformat()}_{day.isoformat()}")
    if schedule.period == "all":
        return Period(None, local, f"all_{day.isoformat()}")
    start = _previous_fire(schedule, local, zone)
    return Period(start, local, f"{start:%Y-%m-%dT%H%M}_{local:%Y-%m-%dT%H%M}")


def output_path(config: Config, schedule_id: str, schedule: RenderScheduleConfig,
                period: Period) -> Path:  # fmt: skip
    """Where the firing's video goes: ``output_dir`` / the name rule with the period in it."""
    if schedule.output_dir:
        folder = config.resolve(schedule.output_dir)
    elif config.videos_folder is not None:
        folder = config.videos_folder
    else:
        raise ValueError(f"render_schedules.{schedule_id}.output_dir: not set and no storage root")
    stem = schedule.name.format(
        schedule=schedule_id, collection=schedule.collection, period=period.label
    )
    return folder / f"{stem}{resolve_codec(schedule.codec).default_extension}"


def _options(schedule: RenderScheduleConfig) -> dict[str, Any]:
    names = ("codec", "fps", "crf", "speed", "size", "deflicker")
    return {name: getattr(schedule, name) for name in names}


def _schedule(config: Config, schedule_id: str) -> RenderScheduleConfig:
    found = config.render_schedules.get(schedule_id)
    if found is None:
        known = ", ".join(sorted(config.render_schedules)) or "none"
        raise KeyError(f"no render schedule {schedule_id!r}; the config has: {known}")
    return found


@dataclass(frozen=True)
class _Plan:
    schedule: RenderScheduleConfig
    collection: Collection
    period: Period
    fire: datetime
    output: Path
    params: dict[str, Any]


def _plan(config: Config, index: FrameIndex, schedule_id: str, fire: datetime) -> _Plan:
    from pylapse.collection import Collection

    schedule = _schedule(config, schedule_id)
    zone = schedule_zone(config, schedule)
    coll = Collection.from_config(config, schedule.collection, index)
    period = period_of(schedule, fire, zone)
    output = output_path(config, schedule_id, schedule, period)
    params = {"schedule": schedule_id, "source": "collection", "collection": schedule.collection,
              "period": period.label, "fire": fire.isoformat()}  # fmt: skip
    return _Plan(schedule, coll, period, fire, output, params)


def _run(config: Config, plan: _Plan, schedule_id: str, progress: ProgressCallback | None,
         cancel: threading.Event | None) -> dict[str, Any]:  # fmt: skip
    """Render the plan's period, note the schedule in the manifest, then keep the newest N."""
    period, schedule = plan.period, plan.schedule
    rules = dict(schedule.select)
    last = period.end - timedelta(microseconds=1)  # select's datetime end is inclusive

    preset = None
    if schedule.preset is not None:
        found = config.exports.get(schedule.preset)
        if found is None:
            known = ", ".join(sorted(config.exports)) or "none"
            raise ValueError(f"render_schedules.{schedule_id}.preset: no export preset "
                             f"{schedule.preset!r}; the config has: {known}")  # fmt: skip
        # the preset's rules over the period: model_copy keeps them and takes the datetimes
        preset = found.model_copy(update={"date_from": period.start, "date_to": last})

    def frames() -> Any:
        # an incremental scan first: frames added, replaced or removed by hand since the last
        # scan count (each day's segment is checked against what the index then says)
        plan.collection.refresh()
        if preset is not None:
            return plan.collection.preset_selection(preset)
        return plan.collection.select(date_from=period.start, date_to=last, **rules)

    cache = None
    if schedule.segment_cache:
        cache = config.data_path / CACHE_FOLDER / schedule.collection
    roots = [*config.root_paths, *plan.collection.roots]
    result = render(config, frames, plan.output, _options(schedule), progress, cancel,
                    if_exists="replace", roots=roots, segment_cache=cache)  # fmt: skip
    video = Path(result["output"])
    manifest = read_manifest(video) or {}
    start = period.start.isoformat() if period.start else None
    manifest["schedule"] = {"id": schedule_id, "period": schedule.period, "label": period.label,
                            "start": start, "end": period.end.isoformat(),
                            "fire": plan.fire.isoformat()}  # fmt: skip
    write_manifest(video, manifest)
    result["removed"] = [str(p) for p in keep_newest(video.parent, schedule_id, schedule.keep)]
    result["period"] = period.label
    return result


def run_schedule(
    config: Config,
    index: FrameIndex,
    schedule_id: str,
    fire: datetime | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """Run one firing now, in this thread (``fire`` default: now); returns the render summary
    plus ``period`` and the ``removed`` older outputs."""
    plan = _plan(config, index, schedule_id, fire or datetime.now().astimezone())
    return _run(config, plan, schedule_id, progress, cancel)


def queue_schedule(jobs: JobRunner, config: Config, index: FrameIndex, schedule_id: str,
                   fire: datetime | None = None) -> int:  # fmt: skip
    """Queue one firing as a ``render`` job (params carry ``schedule``); returns its id."""
    from pylapse.video.command import RenderOptions
    from pylapse.video.render import render_steps

    plan = _plan(config, index, schedule_id, fire or datetime.now().astimezone())
    opts = RenderOptions.from_dict(_options(plan.schedule))  # bad options fail before the queue

    def fn(progress: ProgressCallback, cancel: threading.Event) -> dict[str, Any]:
        return _run(config, plan, schedule_id, progress, cancel)

    title = f"Scheduled render {schedule_id} ({plan.period.label})"
    params = {**plan.params, "output": str(plan.output), "codec": opts.codec, "replace": True}
    return jobs.submit("render", title, fn, steps={"select": 1.0, **render_steps(opts)},
                       params=params)  # fmt: skip


def keep_newest(folder: Path, schedule_id: str, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest outputs of ``schedule_id`` in ``folder`` (0: keep
    all): videos whose manifest names that schedule, newest by period end then creation; a
    file without such a manifest is never touched. Returns the videos removed."""
    if keep <= 0:
        return []
    mine: list[tuple[float, str, Path]] = []
    for meta in folder.glob("*" + MANIFEST_SUFFIX):
        video = meta.with_name(meta.name.removesuffix(MANIFEST_SUFFIX))
        data = read_manifest(video)
        made_by = (data or {}).get("schedule")
        if not (data and isinstance(made_by, dict) and made_by.get("id") == schedule_id):
            continue
        if data.get("video") != video.name or not video.is_file():
            continue
        mine.append((_instant(made_by.get("end")), str(data.get("created", "")), video))
    mine.sort(reverse=True)
    removed = []
    for _end, _created, video in mine[keep:]:
        video.unlink(missing_ok=True)
        manifest_path(video).unlink(missing_ok=True)
        removed.append(video)
    return removed


def _instant(text: Any) -> float:
    """UTC seconds of an ISO time with offset (ends in another offset sort by instant, not by
    text); 0 when missing or unreadable, so such an output counts as the oldest."""
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return 0.0


# --- the timer ---------------------------------------------------------------------------------


def due_fire(schedule: RenderScheduleConfig, last: datetime, now: datetime,
             zone: tzinfo) -> datetime | None:  # fmt: skip
    """The latest firing in ``(last, now]`` (one run for several missed while off), or None."""
    fire = next_fire(schedule, last, zone)
    if _utc(fire) > _utc(now):
        return None
    while _utc(after := next_fire(schedule, fire, zone)) <= _utc(now):
        fire = after
    return fire


class ScheduleTimer:
    """A thread that fires due render schedules every ``every`` seconds. Each schedule's last
    firing is kept in the index database (:class:`~pylapse.tasks.render_firings.FiringLog`) so
    a restart neither repeats a run nor runs a backlog (a schedule seen for the first time
    starts from then). ``run(schedule_id, fire, stop)`` queues a job (the dashboard) or renders
    in this thread (headless capture; ``stop`` is set when the timer stops, to cancel a render
    under way).

    ``active()`` says whether this process fires schedules now: several capture hosts on one
    index run one timer each, and only the holder of the site duty fires (issue 21 §2); a host
    taking the duty over carries on from the record its dead holder left in the index, and
    renders again a firing that holder claimed and never finished (it died mid-render).

    A firing is finished when ``run`` returns None (it rendered in this thread) or raises;
    when ``run`` returns something else (a queued job's id) it stays pending until
    :meth:`finish` is called for it (the job's end)."""

    def __init__(self, config: Callable[[], Config],
                 run: Callable[[str, datetime, threading.Event], object],
                 every: float = CHECK_EVERY,
                 active: Callable[[], bool] = lambda: True) -> None:  # fmt: skip
        self._config, self._run, self._every = config, run, every
        self._active = active
        # this timer's claims: a pending firing under another token is a dead claimer's
        self.token = uuid.uuid4().hex
        self._log: tuple[str, FiringLog] | None = None  # opened at the first check, by location
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="pylapse-render-schedules",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._log is not None:
            self._log[1].close()
            self._log = None

    def _firings(self, config: Config) -> FiringLog:
        location = str(config.index_location)
        if self._log is None or self._log[0] != location:
            if self._log is not None:
                self._log[1].close()
            self._log = (location, FiringLog(location, legacy=config.data_path))
        return self._log[1]

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.check(time.time())
            except Exception:  # a bad config moment must not end the timer
                log.exception("checking render schedules failed (will retry)")

    def check(self, now: float) -> list[tuple[str, datetime]]:
        """Fire every schedule due at ``now`` (UTC seconds); returns what was fired (nothing
        while another host holds the site duty)."""
        if not self._active():
            return []
        config = self._config()
        firings = self._firings(config)
        state = firings.last()
        pending = firings.pending()
        fired = []
        for sid, schedule in config.render_schedules.items():
            if not schedule.enabled:
                continue
            zone = schedule_zone(config, schedule)
            left = pending.get(sid)
            dead = left is not None and left[1] != self.token
            if left is not None and dead and firings.adopt(sid, left[1], self.token):
                # its claimer died before finishing it (another host, or this one before a
                # restart): rendered again here, once (adopting moved the token)
                again = datetime.fromtimestamp(left[0], zone)
                log.warning("render schedule %s: the firing of %s was left unfinished by its "
                            "claimer; rendering it again", sid, again.isoformat())  # fmt: skip
                if self._fire(firings, sid, again):
                    fired.append((sid, again))
                state = firings.last()
            if sid not in state:
                firings.claim(sid, None, now)  # first seen: from now on, no backlog
                continue
            last = datetime.fromtimestamp(state[sid], zone)
            fire = due_fire(schedule, last, datetime.fromtimestamp(now, zone), zone)
            claim = (fire.timestamp(), self.token) if fire is not None else None
            if fire is None or not firings.claim(sid, state[sid], now, claim):  # never twice
                continue
            if self._fire(firings, sid, fire):
                fired.append((sid, fire))
        return fired

    def _fire(self, firings: FiringLog, sid: str, fire: datetime) -> bool:
        """Run a claimed firing; finished here unless ``run`` queued it. False if it failed."""
        try:
            queued = self._run(sid, fire, self._stop)
        except Exception:  # one schedule's trouble never stops the others
            log.exception("render schedule %s failed", sid)
            firings.finish(sid, self.token)  # failed for good: not redone by the next holder
            return False
        if queued is None:
            firings.finish(sid, self.token)
        return True

    def finish(self, schedule_id: str) -> None:
        """A firing this timer queued has ended (done, failed or cancelled)."""
        if self._log is not None:
            self._log[1].finish(schedule_id, self.token)
