"""Render schedules: firing times and periods across DST (explicit instants, never the wall
clock), keep-N by manifest, a run on a real index with real ffmpeg and a real job runner."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from pylapse import naming, storage, timeutil
from pylapse.config.file import load_config
from pylapse.config.models import Config
from pylapse.config.notifications import NotificationConfig
from pylapse.config.render_schedules import RenderScheduleConfig
from pylapse.ffmpeg import FfmpegNotFound, find_ffmpeg
from pylapse.index.store import FrameIndex
from pylapse.jobs.record import JobState
from pylapse.jobs.runner import JobRunner
from pylapse.tasks.render_schedule import (
    Period,
    ScheduleTimer,
    due_fire,
    keep_newest,
    next_fire,
    period_of,
    queue_schedule,
    run_schedule,
)
from pylapse.video.manifest import read_manifest, write_manifest
from tests.pylapse.tasks.test_export import _finished
from tests.servers.webhook_receiver import WebhookReceiver

BERLIN = timeutil.zone("Europe/Berlin")  # DST: 2026-03-29 02:00 -> 03:00, 2026-10-25 3 -> 2


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def hours(period: Period) -> float:
    """A period's real length (subtracting two times of one zone gives the wall-clock span)."""
    assert period.start is not None
    return (period.end.timestamp() - period.start.timestamp()) / 3600


def sched(**kw: object) -> RenderScheduleConfig:
    return RenderScheduleConfig.model_validate({"collection": "cam", **kw})


def test_a_daily_schedule_fires_at_its_local_time_across_both_dst_changes() -> None:
    s = sched(at="06:00")
    assert next_fire(s, at("2026-03-28T07:00+01:00"), BERLIN) == at("2026-03-29T06:00+02:00")
    assert next_fire(s, at("2026-10-24T07:00+02:00"), BERLIN) == at("2026-10-25T06:00+01:00")
    assert next_fire(s, at("2026-10-25T05:59+01:00"), BERLIN) == at("2026-10-25T06:00+01:00")
    assert next_fire(s, at("2026-10-25T06:00+01:00"), BERLIN) == at("2026-10-26T06:00+01:00")


def test_a_time_dst_skips_moves_onto_the_real_clock_and_a_repeated_one_fires_once() -> None:
    s = sched(at="02:30")
    assert next_fire(s, at("2026-03-28T12:00+01:00"), BERLIN) == at("2026-03-29T03:30+02:00")
    first = next_fire(s, at("2026-10-24T12:00+02:00"), BERLIN)
    # the first of the two 02:30s (an ambiguous time never equals another zone's: PEP 495)
    assert first.timestamp() == at("2026-10-25T02:30+02:00").timestamp()
    assert next_fire(s, first, BERLIN) == at("2026-10-26T02:30+01:00")  # not the second one
    second_pass = datetime(2026, 10, 25, 2, 15, tzinfo=BERLIN, fold=1)  # 01:15 UTC, after it
    assert next_fire(s, second_pass, BERLIN) == at("2026-10-26T02:30+01:00")


def test_yesterday_is_the_local_day_before_23_or_25_hours_across_dst() -> None:
    s = sched(period="yesterday")
    spring = period_of(s, at("2026-03-30T06:00+02:00"), BERLIN)
    assert spring.start == at("2026-03-29T00:00+01:00")
    assert spring.end == at("2026-03-30T00:00+02:00")
    assert hours(spring) == 23 and spring.label == "2026-03-29"
    autumn = period_of(s, at("2026-10-26T06:00+01:00"), BERLIN)
    assert hours(autumn) == 25 and autumn.label == "2026-10-25"


def test_the_other_periods() -> None:
    fire = at("2026-04-02T06:00+02:00")
    week = period_of(sched(period="last_7_days"), fire, BERLIN)
    assert (week.start, week.end) == (at("2026-03-26T00:00+01:00"), at("2026-04-02T00:00+02:00"))
    assert week.label == "2026-03-26_2026-04-01"
    month = period_of(sched(period="month_to_date"), fire, BERLIN)
    assert (month.start, month.end) == (at("2026-04-01T00:00+02:00"), fire)
    first = period_of(sched(period="month_to_date"), at("2026-04-01T06:00+02:00"), BERLIN)
    assert (first.start, first.label) == (at("2026-03-01T00:00+01:00"), "2026-03")  # March
    everything = period_of(sched(period="all"), fire, BERLIN)
    assert everything.start is None and everything.end == fire


def test_a_cron_rule_fires_by_the_rule_and_covers_the_time_since_its_last_firing() -> None:
    s = sched(period="0 6 * * 1")  # Mondays 06:00
    fire = next_fire(s, at("2026-03-25T12:00+01:00"), BERLIN)
    assert fire == at("2026-03-30T06:00+02:00")
    week = period_of(s, fire, BERLIN)
    assert week.start == at("2026-03-23T06:00+01:00") and week.end == fire
    assert hours(week) == 7 * 24 - 1  # a week with a spring-forward


def test_a_cron_day_of_week_means_what_crontab_means() -> None:
    monday = at("2026-05-04T06:00+02:00")
    for rule in ("0 6 * * 1", "0 6 * * mon", "0 6 * * 1-1", "0 6 * * 1,3"):
        assert next_fire(sched(period=rule), at("2026-05-03T12:00+02:00"), BERLIN) == monday
    sunday = next_fire(sched(period="0 6 * * 7"), monday, BERLIN)
    assert sunday == at("2026-05-10T06:00+02:00")
    assert next_fire(sched(period="0 6 * * 0"), monday, BERLIN) == sunday
    weekdays = next_fire(sched(period="0 6 * * 1-5"), at("2026-05-08T07:00+02:00"), BERLIN)
    assert weekdays == at("2026-05-11T06:00+02:00")  # Friday -> Monday


def test_a_machine_that_was_off_runs_the_latest_missed_firing_once() -> None:
    s = sched(at="06:00")
    last, now = at("2026-05-01T07:00+02:00"), at("2026-05-04T08:00+02:00")
    assert due_fire(s, last, now, BERLIN) == at("2026-05-04T06:00+02:00")
    assert due_fire(s, at("2026-05-04T06:00+02:00"), now, BERLIN) is None


def test_the_config_names_the_field_that_is_wrong() -> None:
    for fields, where in (({"period": "weekly"}, "period"), ({"at": "6 o'clock"}, "at"),
                          ({"name": "daily"}, "name"), ({"keep": -1}, "keep"),
                          ({"timezone": "Mars/Base"}, "timezone")):  # fmt: skip
        with pytest.raises(ValidationError, match=rf"render_schedules\.d\.{where}"):
            Config.model_validate({"render_schedules": {"d": {"collection": "c", **fields}}})


def test_the_timer_fires_due_schedules_from_explicit_instants(tmp_path: Path) -> None:
    config = Config.model_validate({
        "data_dir": str(tmp_path / "data"),
        "render_schedules": {"daily": {"collection": "cam", "at": "06:00",
                                       "timezone": "Europe/Berlin"}},
    })  # fmt: skip
    (tmp_path / "data").mkdir()
    fired: list[tuple[str, datetime]] = []
    timer = ScheduleTimer(lambda: config, lambda sid, fire, _stop: fired.append((sid, fire)))
    assert timer.check(at("2026-05-01T05:00+02:00").timestamp()) == []  # first seen: no backlog
    assert timer.check(at("2026-05-01T05:59+02:00").timestamp()) == []
    assert timer.check(at("2026-05-01T06:00:30+02:00").timestamp()) == [
        ("daily", at("2026-05-01T06:00+02:00"))
    ]
    assert timer.check(at("2026-05-01T06:01+02:00").timestamp()) == []  # not twice
    timer.stop()
    again = ScheduleTimer(lambda: config, lambda sid, fire, _stop: None)  # a restart remembers
    assert again.check(at("2026-05-01T07:00+02:00").timestamp()) == []
    again.stop()
    assert fired == [("daily", at("2026-05-01T06:00+02:00"))]


def test_a_firing_whose_claimer_died_mid_render_is_rendered_again_once(tmp_path: Path) -> None:
    """A process claims a firing and is killed (SIGKILL) while it renders; the next timer on
    the same index (the new duty holder, or this host after a restart) renders that firing
    again, once. A firing queued as a job stays pending until the job ends."""
    import signal
    import subprocess
    import sys

    (tmp_path / "data").mkdir()
    raw = {"data_dir": str(tmp_path / "data"),
           "render_schedules": {"daily": {"collection": "cam", "at": "06:00",
                                          "timezone": "Europe/Berlin"}}}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(raw))
    config = Config.model_validate(raw)
    started = tmp_path / "rendering"
    script = f"""
import sys, time
from datetime import datetime
sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r})
from pylapse.config.models import Config
from pylapse.tasks.render_schedule import ScheduleTimer
import json
config = Config.model_validate(json.loads(open({str(tmp_path / "config.json")!r}).read()))
def run(sid, fire, stop):
    open({str(started)!r}, "w").write(fire.isoformat())
    time.sleep(60)  # rendering when killed
timer = ScheduleTimer(lambda: config, run)
timer.check(datetime.fromisoformat("2026-05-01T05:00+02:00").timestamp())
timer.check(datetime.fromisoformat("2026-05-01T06:00:30+02:00").timestamp())
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.read_text() == "2026-05-01T06:00:00+02:00"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    fired: list[tuple[str, datetime]] = []
    timer = ScheduleTimer(lambda: config, lambda sid, fire, _stop: fired.append((sid, fire)))
    try:
        later = at("2026-05-01T06:05+02:00").timestamp()
        assert timer.check(later) == [("daily", at("2026-05-01T06:00+02:00"))]
        assert fired == [("daily", at("2026-05-01T06:00+02:00"))]
        assert timer.check(later + 60) == []  # finished: not a third time
    finally:
        timer.stop()

    queued = ScheduleTimer(lambda: config, lambda sid, fire, _stop: 17)  # a job's id: pending
    assert queued.check(at("2026-05-02T06:00:10+02:00").timestamp()) != []
    queued.stop()  # the process ends before the job does
    again: list[tuple[str, datetime]] = []
    restarted = ScheduleTimer(lambda: config, lambda sid, fire, _stop: again.append((sid, fire)))
    try:
        assert restarted.check(at("2026-05-02T06:01+02:00").timestamp()) != []
        assert again == [("daily", at("2026-05-02T06:00+02:00"))]
    finally:
        restarted.stop()
    ended = ScheduleTimer(lambda: config, lambda sid, fire, _stop: 18)
    try:
        assert ended.check(at("2026-05-03T06:00:10+02:00").timestamp()) != []
        ended.finish("daily")  # the job ended: nothing left for the next timer
    finally:
        ended.stop()
    after = ScheduleTimer(lambda: config, lambda sid, fire, _stop: None)
    try:
        assert after.check(at("2026-05-03T06:01+02:00").timestamp()) == []
    finally:
        after.stop()


def _video(folder: Path, name: str, schedule: str | None, end: str) -> Path:
    video = folder / name
    video.write_bytes(b"video")
    data = {"video": name, "created": end}
    if schedule is not None:
        data["schedule"] = {"id": schedule, "end": end}
    write_manifest(video, data)
    return video


def test_keep_n_removes_only_that_schedules_older_outputs(tmp_path: Path) -> None:
    mine = [_video(tmp_path, f"daily-2026-05-0{d}.mp4", "daily", f"2026-05-0{d}T00:30+02:00")
            for d in range(1, 5)]  # fmt: skip
    other = _video(tmp_path, "weekly-2026-05-01.mp4", "weekly", "2026-04-01T00:00+02:00")
    hand = _video(tmp_path, "daily-2026-04-01.mp4", None, "2026-04-01T00:00+02:00")
    stray = tmp_path / "daily-2026-03-01.mp4"
    stray.write_bytes(b"no manifest")
    # 23:30 UTC on the 3rd is after 00:30+02:00 on the 4th (22:30 UTC), though its text sorts first
    late = _video(tmp_path, "daily-late.mp4", "daily", "2026-05-03T23:30+00:00")
    removed = keep_newest(tmp_path, "daily", 3)
    assert sorted(removed) == mine[:2] and late.exists()
    assert not mine[0].exists() and not (tmp_path / "daily-2026-05-01.mp4.json").exists()
    assert all(p.exists() for p in (*mine[2:], other, hand, stray))
    assert keep_newest(tmp_path, "daily", 0) == []  # 0 keeps all


@pytest.fixture
def garden(tmp_path: Path):
    try:
        find_ffmpeg()
    except FfmpegNotFound as exc:
        pytest.skip(f"no ffmpeg: {exc}")
    root = tmp_path / "storage" / "cam"
    cfg = tmp_path / "capture_config.json"
    cfg.write_text(json.dumps({
        "storage_roots": [str(tmp_path / "storage")],
        "data_dir": str(tmp_path / "data"),
        "collections": {"cam": {"name": "Cam", "path": str(root), "timezone": "Europe/Berlin"}},
        "exports": {"hourly": {"collection": "cam", "minute": "0", "tolerance": 60}},
        "render_schedules": {"daily": {"collection": "cam", "period": "yesterday", "at": "06:00",
                                       "keep": 2, "fps": 10, "speed": "draft"},
                             "hours": {"collection": "cam", "preset": "hourly", "fps": 10,
                                       "enabled": False}},  # the timer leaves it alone
    }))  # fmt: skip
    index = FrameIndex(tmp_path / "data" / "pylapse.db")
    _plant(root, index)
    yield load_config(cfg), index, tmp_path
    index.close()


def _plant(root: Path, index: FrameIndex) -> None:
    """Frames of camera "cam" on 28-31 March 2026 (3, 5, 4 and 2), on disk and indexed."""
    for day, count in ((28, 3), (29, 5), (30, 4), (31, 2)):  # March 2026: DST on the 29th
        for k in range(count):
            when = datetime(2026, 3, day, 9, tzinfo=BERLIN) + k * timedelta(minutes=30)
            folder = storage.day_folder(root, when)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / naming.format_name(when, prefix="cam-")
            Image.new("RGB", (64, 48), (day * 5, 30 * k, 90)).save(path, quality=90)
            index.add_frame("cam", path, when, size=path.stat().st_size, mtime=None)


def test_a_run_renders_its_period_through_the_cache_and_keeps_two(garden: tuple) -> None:
    config, index, tmp_path = garden
    made = [run_schedule(config, index, "daily", at(f"2026-03-{d}T06:00+02:00"))
            for d in (30, 31)]  # fmt: skip
    videos = tmp_path / "storage" / "videos"
    assert Path(made[0]["output"]) == videos / "daily-2026-03-29.mp4"
    assert made[0]["frames"] == 5 and made[1]["frames"] == 4  # each day's own frames
    manifest = read_manifest(videos / "daily-2026-03-29.mp4")
    assert manifest is not None and manifest["schedule"]["id"] == "daily"
    assert manifest["segments"]["encoded"] == ["2026-03-29"]
    third = run_schedule(config, index, "daily", at("2026-04-01T06:00+02:00"))
    assert third["frames"] == 2 and third["removed"] == [str(videos / "daily-2026-03-29.mp4")]
    assert sorted(p.name for p in videos.glob("*.mp4")) == [
        "daily-2026-03-30.mp4", "daily-2026-03-31.mp4"]  # fmt: skip
    segments = tmp_path / "data" / "cache" / "segments" / "cam"
    assert len(list(segments.glob("*/2026-03-3*.mp4"))) == 2


def test_a_queued_run_is_a_render_job_carrying_its_schedule(garden: tuple) -> None:
    config, index, tmp_path = garden
    runner = JobRunner(tmp_path / "data" / "jobs.db", workers=1, queue_size=4)
    runner.start()
    try:
        job_id = queue_schedule(runner, config, index, "daily", at("2026-03-29T06:00+02:00"))
        record = _finished(runner, job_id)
    finally:
        runner.shutdown()
    assert record.state is JobState.DONE, record.error
    assert record.kind == "render" and record.params["schedule"] == "daily"
    assert record.result is not None and record.result["frames"] == 3
    assert record.result["output"].endswith("daily-2026-03-28.mp4")


def test_the_dashboard_queues_a_firing_and_its_job_end_finishes_it(garden: tuple) -> None:
    """With a job runner a firing is a queued job: pending in the index until the job ends,
    then finished, so the next holder of the site duty does not render it again."""
    from pylapse.runtime import Runtime
    from pylapse.tasks.render_firings import FiringLog

    config, _index, _tmp_path = garden
    runtime = Runtime(config)  # as the dashboard builds it: jobs, capture, the timer
    runtime.start()
    try:
        timer, jobs = runtime.render_schedules, runtime.jobs
        assert timer is not None and jobs is not None
        assert timer.check(at("2026-03-30T05:00+02:00").timestamp()) == []  # first seen
        assert timer.check(at("2026-03-30T06:00:20+02:00").timestamp()) != []
        (job,) = jobs.list(10, 0, kind="render")
        firings = FiringLog(config.index_location)
        try:
            assert _finished(jobs, job.id).state is JobState.DONE
            deadline = time.monotonic() + 5  # the finish listener runs after the record is stored
            while firings.pending() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert firings.pending() == {}
        finally:
            firings.close()
    finally:
        runtime.stop()


def test_headless_capture_fires_a_schedule_in_its_timer(garden: tuple) -> None:
    from pylapse.runtime import Runtime

    config, _index, tmp_path = garden
    with WebhookReceiver() as rx:
        rule = NotificationConfig(url=rx.url("/hook"), events=["render.scheduled"])
        config = config.model_copy(update={"notifications": {"hook": rule}})
        runtime = Runtime(config, jobs=False)  # as `pylapse capture` builds it
        runtime.start()  # its scheduler takes the site duty: nobody else holds it
        try:
            timer = runtime.render_schedules
            assert timer is not None
            assert timer.check(at("2026-03-30T05:00+02:00").timestamp()) == []  # first seen
            fired = timer.check(at("2026-03-30T06:00:20+02:00").timestamp())
            assert fired == [("daily", at("2026-03-30T06:00+02:00"))]
            (told,) = rx.wait_for(1)
        finally:
            runtime.stop()
    body = json.loads(told.body)
    assert body["event"] == "render.scheduled" and body["data"]["schedule"] == "daily"
    video = tmp_path / "storage" / "videos" / "daily-2026-03-29.mp4"
    manifest = read_manifest(video)
    assert manifest is not None and manifest["output_frames"] == 5


def test_two_hosts_on_one_index_render_a_schedule_once_and_the_duty_moves_on_expiry(
    tmp_path: Path, index_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two capture hosts share the config, index and storage (on SQLite: one machine, one data
    folder; on PostgreSQL each its own data folder, as on two machines): only the site duty's
    holder renders; stopped without releasing (its database gone at that moment), its duty
    expires and the other host renders the next firing, from the record in the index."""
    from pylapse.runtime import Runtime

    try:
        find_ffmpeg()
    except FfmpegNotFound as exc:
        pytest.skip(f"no ffmpeg: {exc}")
    postgres = index_location.startswith("postgresql:")
    raw = {
        "storage_roots": [str(tmp_path / "storage")],
        "data_dir": str(tmp_path / "data") if postgres else str(Path(index_location).parent),
        "collections": {"cam": {"name": "Cam", "path": str(tmp_path / "storage" / "cam"),
                                "timezone": "Europe/Berlin"}},
        "render_schedules": {"daily": {"collection": "cam", "period": "yesterday", "at": "06:00",
                                       "fps": 10, "speed": "draft"}},
        "capture": {"lease_seconds": 1.5},
        **({"index_url": index_location} if postgres else {}),
    }  # fmt: skip
    config = Config.model_validate(raw)
    index = FrameIndex(index_location)
    try:
        _plant(tmp_path / "storage" / "cam", index)
    finally:
        index.close()
    videos = tmp_path / "storage" / "videos"
    own = {"data_dir": str(tmp_path / "data-b")} if postgres else {}
    a = Runtime(config, jobs=False, host="a")
    b = Runtime(config.model_copy(update=own), jobs=False, host="b")
    try:
        a.start()
        b.start()
        timer_a, timer_b = a.render_schedules, b.render_schedules
        assert timer_a is not None and timer_b is not None
        assert a.leases.duty().host == "a"  # type: ignore[union-attr]
        assert timer_a.check(at("2026-03-30T05:00+02:00").timestamp()) == []  # first seen
        assert timer_b.check(at("2026-03-30T06:00:20+02:00").timestamp()) == []  # not b's duty
        assert not videos.exists()
        fired = timer_a.check(at("2026-03-30T06:00:20+02:00").timestamp())
        assert fired == [("daily", at("2026-03-30T06:00+02:00"))]
        first = read_manifest(videos / "daily-2026-03-29.mp4")
        assert first is not None and first["output_frames"] == 5

        assert a.scheduler is not None and a.scheduler.leases is not None
        held_until = a.leases.duty().expires_at  # type: ignore[union-attr]

        def gone(_holder: object) -> None:
            raise OSError("index database unreachable")

        monkeypatch.setattr(a.scheduler.leases.store, "leave", gone)
        a.stop()  # heartbeats end, the duty is not released: b waits for it to expire
        assert b.scheduler is not None
        deadline = time.monotonic() + 6
        while not b.scheduler.has_duty and time.monotonic() < deadline:
            time.sleep(0.05)
        duty = b.leases.duty()
        assert duty is not None and duty.host == "b" and duty.acquired_at >= held_until
        fired = timer_b.check(at("2026-03-31T06:00:20+02:00").timestamp())
        assert fired == [("daily", at("2026-03-31T06:00+02:00"))]
        second = read_manifest(videos / "daily-2026-03-30.mp4")
        assert second is not None and second["output_frames"] == 4
        assert sorted(p.name for p in videos.glob("*.mp4")) == [
            "daily-2026-03-29.mp4", "daily-2026-03-30.mp4"]  # fmt: skip
    finally:
        a.stop()
        b.stop()


def test_an_export_presets_rules_pick_the_frames_of_the_period(garden: tuple) -> None:
    config, index, _tmp_path = garden
    made = run_schedule(config, index, "hours", at("2026-03-30T06:00+02:00"))
    assert made["frames"] == 3  # 09:00, 10:00, 11:00 of the 29th; not the half hours
    wrong = config.render_schedules["hours"].model_copy(update={"preset": "nope"})
    config = config.model_copy(update={"render_schedules": {"hours": wrong}})
    with pytest.raises(ValueError, match=r"render_schedules\.hours\.preset: no export preset"):
        run_schedule(config, index, "hours", at("2026-03-30T06:00+02:00"))
    with pytest.raises(ValidationError, match="preset and select both pick frames"):
        sched(preset="hourly", select={"hour": "9"})
