"""CaptureScheduler: live capture against real loopback cameras (healthy ones keep their schedule
while others hang or fail), retries, durable pause, reload, next runs, the leases, disk guard.
Trigger arithmetic (DST nights, intervals) is in test_triggers.py."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import piexif
import pytest

from pylapse import naming, storage
from pylapse.capture.health import HealthState, HealthStore
from pylapse.capture.scheduler import CaptureScheduler
from pylapse.config.file import parse_config
from tests.servers.camera_server import CameraServer

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def _local(times):
    return [t.strftime("%m-%d %H:%M:%S%z") for t in times]


# --- live scheduling against loopback cameras ----------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with CameraServer(frame_size=(160, 120)) as cam:
        yield cam


def _camera(server, path: str, **extra):
    every = extra.pop("every", 1)
    return {
        "name": extra.pop("name", path.strip("/")),
        "url": server.url(path),
        "output_dir": extra.pop("output_dir", f"frames{path.replace('.', '_')}"),
        "timezone": "Asia/Tokyo",
        "connect_timeout": 1,
        "read_timeout": 1,
        "schedules": [
            {"id": "fast", "type": "interval", "interval_amount": every, "interval_unit": "seconds"}
        ],
        **extra,
    }


def _config(tmp_path: Path, cameras: dict, **top):
    raw = {"cameras": cameras, "data_dir": "data", "min_free_mb": 0, "max_retries": 0, **top}
    return parse_config(raw, tmp_path / "capture_config.json")


def _frames(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.jpg"))


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(storage.TEMP_SUFFIX)]


@pytest.fixture
def running(tmp_path):
    made = []

    def start(config, **kw):
        health = HealthStore(config.data_path / "pylapse.db", frozen_after=3)
        sched = CaptureScheduler(config, health=health, **kw)
        sched.start()
        made.append((sched, health))
        return sched, health

    yield start
    for sched, health in made:
        sched.shutdown()
        health.close()


def _wait_for(predicate, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.slow
@pytest.mark.network
def test_a_still_scene_stays_alive_where_a_frozen_camera_stamping_its_clock_turns_frozen(
    tmp_path, running
):
    """Both serve one 1280x720 picture whose dHash and mean luma do not move; the live one has
    a sensor's noise, the frozen one a clock drawn on. Before the grain, a still scene under
    steady light turned frozen (and its frames were left out of selections) like the other."""
    with CameraServer(frame_size=(1280, 720)) as server:
        server.route("/still", "still")
        server.route("/clock", "frozen-clock")
        cameras = {"still": _camera(server, "/still"), "clock": _camera(server, "/clock")}
        _sched, health = running(_config(tmp_path, cameras))
        assert _wait_for(lambda: health.get("clock").state is HealthState.FROZEN)
        assert "the same picture 3 times" in (health.get("clock").reason or "")
        assert _wait_for(lambda: len(_frames(tmp_path / "frames/still")) >= 5)
        assert health.get("still").state is HealthState.OK


@pytest.mark.slow
@pytest.mark.network
def test_healthy_camera_keeps_its_schedule_while_others_fail(tmp_path, server, running):
    config = _config(
        tmp_path,
        {
            "good": _camera(server, "/shot.jpg"),
            "hang": _camera(server, "/hang"),
            "err": _camera(server, "/error500"),
            "html": _camera(server, "/html"),
            "trunc": _camera(server, "/truncated.jpg"),
            "frozen": _camera(server, "/static.jpg"),
            "blank": _camera(server, "/blank.jpg"),
        },
    )
    sched, health = running(config)
    good_dir = tmp_path / "frames/shot_jpg"
    assert _wait_for(lambda: len(_frames(good_dir)) >= 4)
    assert _wait_for(lambda: health.get("hang").consecutive_failures >= 1)
    assert _wait_for(lambda: health.get("frozen").state is HealthState.FROZEN)
    assert health.get("blank").state is HealthState.BLANK
    sched.shutdown()

    frames = _frames(good_dir)
    times = [naming.parse_name(p.name, TOKYO).time for p in frames]
    # named for the scheduled fire times: whole seconds, one per slot, none missing in between
    assert all(t.microsecond == 0 for t in times)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [1.0] * (
        len(times) - 1
    )
    for path, when in zip(frames, times, strict=True):
        exif = piexif.load(str(path))["Exif"]
        assert exif[piexif.ExifIFD.DateTimeOriginal] == when.strftime("%Y:%m:%d %H:%M:%S").encode()
    assert health.get("good").state is HealthState.OK

    for cam, reason in [
        ("hang", "time"),
        ("err", "500"),
        ("html", "html"),
        ("trunc", "truncated"),
    ]:
        h = health.get(cam)
        assert h.state in (HealthState.FAILING, HealthState.OFFLINE), cam
        assert reason in h.last_error.lower(), (cam, h.last_error)
        folder = tmp_path / config.cameras[cam].output_dir
        assert _frames(folder) == [] and _leftovers(folder) == []
    assert _leftovers(tmp_path) == []
    assert any(not e.ok and e.camera_id == "err" for e in health.log(50))


@pytest.mark.slow
@pytest.mark.network
def test_failed_capture_is_retried_as_its_own_job(tmp_path, server, running):
    server.route("/flaky", "error500")
    cam = _camera(server, "/flaky", every=3600, output_dir="frames/flaky")
    cam["schedules"][0]["start_date"] = (
        (datetime.now(TOKYO) + timedelta(seconds=1)).replace(microsecond=0, tzinfo=None).isoformat()
    )
    config = _config(tmp_path, {"flaky": cam}, max_retries=3, retry_delay=0.3)
    before = server.hits("/flaky")
    sched, health = running(config)
    # the slot fails, retry 1 fails (0.3 s later), then the camera recovers before retry 2
    assert _wait_for(lambda: server.hits("/flaky") - before >= 2)
    server.route("/flaky", "jpeg")
    assert _wait_for(lambda: len(_frames(tmp_path / "frames/flaky")) == 1)
    # the capture log is written just after the frame lands: wait for it, not for the file
    assert _wait_for(lambda: any(e.ok for e in health.log(10, camera="flaky")))
    log = health.log(10, camera="flaky")
    attempts = [(e.ok, e.attempt) for e in reversed(log)]
    assert attempts[:2] == [(False, 0), (False, 1)]
    assert attempts[-1][0] is True and attempts[-1][1] >= 2
    assert health.get("flaky").state is HealthState.OK
    assert sched.pending_retries() == []


@pytest.mark.slow
@pytest.mark.network
def test_a_half_frame_is_retried_and_reported_never_saved(tmp_path, server, running):
    """A JPEG cut inside its image data but ending in FF D9 is a bad answer like any other."""
    server.route("/halfcam", "half")
    cam = _camera(server, "/halfcam", every=3600, output_dir="frames/halfcam")
    cam["schedules"][0]["start_date"] = (  # a whole second at least 1 s away: after the start
        (datetime.now(TOKYO) + timedelta(seconds=2)).replace(microsecond=0, tzinfo=None).isoformat()
    )
    config = _config(tmp_path, {"halfcam": cam}, max_retries=3, retry_delay=0.3)
    before = server.hits("/halfcam")
    sched, health = running(config)
    assert _wait_for(lambda: server.hits("/halfcam") - before >= 2)  # the slot and retry 1
    assert _frames(tmp_path / "frames/halfcam") == []  # no grey-bottomed frame was kept
    server.route("/halfcam", "jpeg")
    assert _wait_for(lambda: len(_frames(tmp_path / "frames/halfcam")) == 1)
    assert _wait_for(lambda: any(e.ok for e in health.log(10, camera="halfcam")))
    log = list(reversed(health.log(10, camera="halfcam")))
    assert [(e.ok, e.attempt) for e in log[:2]] == [(False, 0), (False, 1)]
    assert all("truncated JPEG: the image data ends early" in e.message for e in log[:2])
    assert log[-1].ok and log[-1].attempt >= 2
    assert _leftovers(tmp_path) == []
    assert sched.pending_retries() == []


@pytest.mark.slow
@pytest.mark.network
def test_pause_survives_reload_and_restart(tmp_path, server, running):
    config = _config(tmp_path, {"a": _camera(server, "/shot.jpg", output_dir="frames/a")})
    sched, health = running(config)
    sched.pause()
    assert "paused" in health.get("a").paused_reason
    time.sleep(0.1)  # a run already in flight may finish
    count = len(_frames(tmp_path / "frames/a"))
    changed = _config(
        tmp_path, {"a": _camera(server, "/shot.jpg", output_dir="frames/a", name="renamed")}
    )
    sched.reload(changed)
    assert sched.paused
    assert sched.next_runs(5) == []
    time.sleep(1.5)
    assert len(_frames(tmp_path / "frames/a")) == count
    sched.shutdown()

    again, health = running(changed)
    assert again.paused  # read back from pylapse.db
    assert "paused" in health.get("a").paused_reason
    again.resume()
    assert health.get("a").paused_reason is None
    assert _wait_for(lambda: len(_frames(tmp_path / "frames/a")) > count)
    again.pause("a")
    assert again.is_paused("a") and not again.paused
    again.shutdown()
    third, _ = running(changed)
    assert third.is_paused("a") and not third.is_paused("b")


def test_reload_replaces_only_changed_jobs(tmp_path, server):
    cams = {
        "a": _camera(server, "/shot.jpg", every=60),
        "b": _camera(server, "/shot.jpg", every=60),
        "c": _camera(server, "/shot.jpg", every=60),
    }
    sched = CaptureScheduler(_config(tmp_path, cams), lock=False)
    try:
        sched.start()
        cams["b"]["schedules"][0]["interval_amount"] = 30
        cams["a"]["name"] = "renamed only"  # camera settings change, schedule does not
        del cams["c"]
        cams["d"] = _camera(server, "/shot.jpg", every=60)
        summary = sched.reload(_config(tmp_path, cams))
        assert summary.added == ["capture:b:fast", "capture:d:fast"]
        assert summary.removed == ["capture:c:fast"]
        assert summary.unchanged == ["capture:a:fast"]
        assert sched.camera("a").name == "renamed only"
        cams["d"]["enabled"] = False
        cams["b"]["schedules"][0]["enabled"] = False
        summary = sched.reload(_config(tmp_path, cams))
        assert summary.removed == ["capture:b:fast", "capture:d:fast"]
        assert {r.camera_id for r in sched.next_runs(10)} == {"a"}
    finally:
        sched.shutdown()


def test_next_runs_are_sorted_in_camera_zones(tmp_path, server):
    cams = {
        "tokyo": {**_camera(server, "/shot.jpg"), "schedules": [{"id": "noon", "hour": 12}]},
        "berlin": {
            **_camera(server, "/shot.jpg"),
            "timezone": "Europe/Berlin",
            "schedules": [{"id": "noon", "hour": 12, "minute": 0, "second": 0}],
        },
    }
    sched = CaptureScheduler(_config(tmp_path, cams), lock=False)
    try:
        runs = sched.next_runs(4)
        assert len(runs) == 4
        assert [r.when for r in runs] == sorted(r.when for r in runs)
        for run in runs:
            assert run.when.hour == 12
            assert run.when.tzinfo == (TOKYO if run.camera_id == "tokyo" else BERLIN)
    finally:
        sched.shutdown()


def test_second_scheduler_on_the_same_data_waits_for_the_first(tmp_path, server):
    config = _config(tmp_path, {"a": _camera(server, "/shot.jpg", every=3600)})
    first = CaptureScheduler(config)
    first.start()
    try:
        second = CaptureScheduler(config)
        second.start()  # not refused: it captures only what nobody holds, here nothing
        assert first.leases.held == {"a"} and second.leases.held == frozenset()
        assert second.next_runs(1) and not second._sched.get_jobs()
        second.shutdown()
    finally:
        first.shutdown()
    third = CaptureScheduler(config)
    third.start()  # the leases were released
    assert third.leases.held == {"a"} and third._sched.get_jobs()
    third.shutdown()


@pytest.mark.slow
@pytest.mark.network
def test_disk_guard_pauses_and_resumes(tmp_path, server, running):
    cams = {"a": _camera(server, "/shot.jpg", output_dir="frames/a")}
    sched, health = running(_config(tmp_path, cams, min_free_mb=10**12))
    assert _wait_for(lambda: health.get("a").paused_reason is not None)
    time.sleep(1.2)
    assert _frames(tmp_path / "frames/a") == []
    assert "min_free_mb" in health.get("a").paused_reason
    assert any("min_free_mb" in e.message for e in health.log(5, camera="a"))
    sched.reload(_config(tmp_path, cams, min_free_mb=0))  # as if space came back
    assert _wait_for(lambda: len(_frames(tmp_path / "frames/a")) >= 1)
    assert health.get("a").paused_reason is None
    assert any(e.message == "capture resumed" for e in health.log(10, camera="a"))


@pytest.mark.slow
@pytest.mark.network
def test_next_slot_supersedes_a_pending_retry(tmp_path, server, running):
    cam = _camera(server, "/error500", output_dir="frames/e")
    sched, health = running(_config(tmp_path, {"e": cam}, max_retries=5, retry_delay=5))
    assert _wait_for(lambda: health.log_count("e") >= 3)
    # every slot ran on time (a retry waiting 5 s never held it up) and at most one retry waits
    assert len(sched.pending_retries()) == 1
    assert {e.attempt for e in health.log(10, camera="e")} == {0}
    times = sorted(e.time for e in health.log(10, camera="e"))
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [1.0] * (
        len(times) - 1
    )


def test_start_sweeps_temp_files_a_crash_left(tmp_path, server):
    config = _config(tmp_path, {"a": _camera(server, "/shot.jpg", every=3600, output_dir="f/a")})
    today = datetime.now(TOKYO).strftime("%Y-%m-%d")
    folder = tmp_path / "f/a" / today
    folder.mkdir(parents=True)
    leftover = folder / f".a-frame.jpg.x1y2{storage.TEMP_SUFFIX}"
    leftover.write_bytes(b"\xff\xd8 half a frame")
    keep = folder / "a-frame.jpg"
    keep.write_bytes(b"a finished frame")
    sched = CaptureScheduler(config)
    sched.start()
    sched.shutdown()
    assert not leftover.exists()
    assert keep.exists()


def test_a_hand_edit_of_the_top_level_layout_reaches_running_cameras(tmp_path, server):
    cams = {"a": _camera(server, "/shot.jpg", every=60)}
    sched = CaptureScheduler(_config(tmp_path, cams, layout="day_folders"), lock=False)
    try:
        sched.start()
        assert sched.camera("a").layout == "day_folders"
        sched.reload(_config(tmp_path, cams, layout="flat"))  # the camera's entry is unchanged
        assert sched.camera("a").layout == "flat"
    finally:
        sched.shutdown()


@pytest.mark.slow
@pytest.mark.network
def test_a_half_second_interval_captures_twice_a_second(tmp_path, server, running):
    config = _config(tmp_path, {"quick": _camera(server, "/shot.jpg", every=0.5)})
    sched, _health = running(config)
    folder = tmp_path / "frames/shot_jpg"
    started = time.monotonic()
    assert _wait_for(lambda: len(_frames(folder)) >= 6)
    elapsed = time.monotonic() - started
    sched.shutdown()
    frames = _frames(folder)
    # two stills in one second share the name's seconds; the second is kept as name-2.jpg
    assert len({p.name for p in frames}) == len(frames)
    assert elapsed < 4.5  # six frames at 2 a second (not six seconds at one a second)
