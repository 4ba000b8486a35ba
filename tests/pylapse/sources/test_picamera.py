"""The Pi camera source, with stand-in rpicam-still/libcamera-still executables on PATH."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from pylapse.sources.base import GrabError, SourceUnavailable, create_source
from pylapse.sources.picamera import Source
from pylapse.storage import validate_image
from tests.fakes import path_with_fakes


def runs(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


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
