"""The Pi camera source, with stand-in rpicam-still/libcamera-still executables on PATH."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import time

import pytest

from pylapse.sources.base import GrabError, SourceUnavailable, create_source
from pylapse.sources.picamera import Source, keeps_open
from pylapse.storage import validate_image
from tests.fakes import path_with_fakes


def runs(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture(autouse=True)
def quick_startup(monkeypatch):
    """The stand-in opens the camera in 1 s like the real tool; the one-still tests below use
    short time limits (1.5 s) that leave no room for it, so they get a quicker camera. The
    kept-open tests set the real delay back."""
    monkeypatch.setenv("PYLAPSE_FAKE_STARTUP", "0.1")


def picamera(make_camera, **fields) -> Source:
    values = {"type": "picamera", "warmup_ms": 50}
    values.update(fields)
    source = create_source(make_camera(**values))
    assert isinstance(source, Source)
    return source


def test_still_with_resolution_quality_and_warmup(fakes_on_path, make_camera):
    source = picamera(make_camera, capture_width=640, capture_height=480, quality=80)
    info = validate_image(source.grab())
    assert (info.format, info.width, info.height) == ("JPEG", 640, 480)
    (run,) = runs(fakes_on_path)
    assert run["tool"] == "rpicam-still"
    argv = run["argv"]
    assert "-n" in argv
    assert argv[argv.index("--width") + 1] == "640"
    assert argv[argv.index("--height") + 1] == "480"
    assert argv[argv.index("-q") + 1] == "80"
    assert argv[argv.index("-t") + 1] == "50"


def test_no_warmup_captures_immediately(fakes_on_path, make_camera):
    picamera(make_camera, warmup_ms=0, capture_width=64, capture_height=48).grab()
    argv = runs(fakes_on_path)[0]["argv"]
    assert "--immediate" in argv and "-t" not in argv  # -t 0 would wait for ever


def test_no_cameras_available_is_source_unavailable(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "none")
    with pytest.raises(SourceUnavailable) as info:
        picamera(make_camera).grab()
    message = str(info.value)
    assert "found no camera" in message and "exit 255" in message
    assert "ribbon cable" in message


def test_busy_camera_is_a_grab_error(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "busy")
    with pytest.raises(GrabError) as info:
        picamera(make_camera).grab()
    assert not isinstance(info.value, SourceUnavailable)
    assert "camera is busy" in str(info.value)


def test_hanging_tool_is_killed_at_the_time_limit(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "hang")
    source = picamera(make_camera, warmup_ms=0, connect_timeout=0.3, read_timeout=0.3)
    with pytest.raises(GrabError, match=r"did not finish within 0\.6 s"):
        source.grab()
    pid = runs(fakes_on_path)[0]["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not left running


def test_empty_output_is_an_error(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "empty")
    with pytest.raises(GrabError, match="wrote no image"):
        picamera(make_camera).grab()


def test_falls_back_to_libcamera_still(tmp_path, make_camera, monkeypatch, fake_log):
    monkeypatch.setenv("PATH", path_with_fakes(tmp_path, ["libcamera-still"], keep_path=False))
    data = picamera(make_camera, capture_width=320, capture_height=240).grab()
    assert validate_image(data).width == 320
    assert runs(fake_log)[0]["tool"] == "libcamera-still"


def test_nothing_installed_says_what_to_install(tmp_path, make_camera, monkeypatch):
    if importlib.util.find_spec("picamera2") is not None:
        pytest.skip("picamera2 is importable here, so it would be used")
    monkeypatch.setenv("PATH", path_with_fakes(tmp_path, [], keep_path=False))
    with pytest.raises(SourceUnavailable) as info:
        picamera(make_camera).grab()
    assert "neither rpicam-still nor libcamera-still is installed" in str(info.value)
    assert "picamera2" in str(info.value)


FAST = [{"id": "fast", "type": "interval", "interval_amount": 0.5, "interval_unit": "seconds"}]


def kept_open(make_camera, **fields) -> Source:
    values = {"schedules": FAST, "capture_width": 320, "capture_height": 240,
              "connect_timeout": 3.0, "read_timeout": 3.0, **fields}  # fmt: skip
    return picamera(make_camera, **values)


def test_only_a_schedule_faster_than_a_few_seconds_keeps_the_camera_open(make_camera):
    assert keeps_open(make_camera(type="picamera", schedules=FAST))
    slow = [{**FAST[0], "interval_amount": 10}]
    assert not keeps_open(make_camera(type="picamera", schedules=slow))
    assert not keeps_open(make_camera(type="picamera", schedules=[{**FAST[0], "enabled": False}]))
    assert not keeps_open(make_camera(type="picamera", schedules=[{"id": "c", "second": "*"}]))


def test_a_fast_schedule_keeps_one_tool_open_and_signals_it_per_still(
    fakes_on_path, make_camera, monkeypatch
):
    monkeypatch.setenv("PYLAPSE_FAKE_STARTUP", "1")  # the real tool's start-up
    source = kept_open(make_camera)
    try:
        first = source.grab()  # pays the start-up once
        started = time.monotonic()
        stills = [source.grab() for _ in range(4)]
        per_still = (time.monotonic() - started) / 4
    finally:
        source.close()
    assert [validate_image(d).width for d in [first, *stills]] == [320] * 5
    assert len({*stills, first}) == 5  # five different stills, not one read again
    (run,) = runs(fakes_on_path)  # one process for all five
    assert "-s" in run["argv"] and run["argv"][run["argv"].index("-t") + 1] == "0"
    assert per_still < 0.9  # a fresh process would take the 1 s start-up each time
    with pytest.raises(ProcessLookupError):
        os.kill(run["pid"], 0)  # closed: the tool is gone


def test_a_kept_open_tool_that_dies_is_restarted_by_the_next_grab(fakes_on_path, make_camera):
    source = kept_open(make_camera)
    try:
        source.grab()
        os.kill(runs(fakes_on_path)[0]["pid"], signal.SIGKILL)
        time.sleep(0.1)
        assert validate_image(source.grab()).width == 320
    finally:
        source.close()
    assert len(runs(fakes_on_path)) == 2


def test_a_wedged_kept_open_tool_is_killed_and_restarted(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "hang")  # opens, then hangs on the first still
    source = kept_open(make_camera, connect_timeout=0.3, read_timeout=0.3)
    try:
        with pytest.raises(GrabError, match=r"gave no still within 0\.6 s"):
            source.grab()
        pid = runs(fakes_on_path)[0]["pid"]
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed, not left holding the camera
        monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "ok")
        assert validate_image(source.grab()).width == 320
    finally:
        source.close()


def test_a_kept_open_camera_reports_no_camera_as_the_one_shot_does(
    fakes_on_path, make_camera, monkeypatch
):
    monkeypatch.setenv("PYLAPSE_FAKE_PICAMERA", "none")
    with pytest.raises(SourceUnavailable, match="found no camera"):
        kept_open(make_camera).grab()
