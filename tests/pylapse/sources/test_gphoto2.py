"""The gphoto2 source with a stand-in gphoto2 executable on PATH."""

from __future__ import annotations

import json
import os
import stat

import pytest

from pylapse.sources.base import GrabError, SourceUnavailable, create_source
from pylapse.sources.gphoto2 import Source
from pylapse.storage import validate_image
from tests.fakes import path_with_fakes


def runs(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def dslr(make_camera, data_path=None, **fields) -> Source:
    source = create_source(make_camera(type="gphoto2", **fields), data_path=data_path)
    assert isinstance(source, Source)
    return source


def test_capture_downloads_a_jpeg_with_the_real_arguments(fakes_on_path, make_camera, tmp_path):
    data_path = tmp_path / "data"
    source = dslr(
        make_camera, data_path, gphoto2_camera="Canon EOS 80D", gphoto2_port="usb:001,004"
    )
    assert validate_image(source.grab()).format == "JPEG"
    (run,) = runs(fakes_on_path)
    argv = run["argv"]
    assert argv[0] == "--capture-image-and-download"
    assert "--force-overwrite" in argv
    assert argv[argv.index("--camera") + 1] == "Canon EOS 80D"
    assert argv[argv.index("--port") + 1] == "usb:001,004"
    assert argv[argv.index("--filename") + 1].endswith("frame.%C")


def test_home_is_a_private_folder_under_the_data_folder(fakes_on_path, make_camera, tmp_path):
    data_path = tmp_path / "data"
    dslr(make_camera, data_path).grab()
    home = runs(fakes_on_path)[0]["home"]
    assert home == str(data_path / "gphoto2")
    assert (data_path / "gphoto2" / ".gphoto" / "settings").is_file()  # gphoto2 wrote there
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    assert home != os.environ.get("HOME")


def test_without_data_folder_home_is_a_temp_folder(fakes_on_path, make_camera):
    dslr(make_camera).grab()
    home = runs(fakes_on_path)[0]["home"]
    assert "pylapse-gphoto2" in home and home != os.environ.get("HOME")


def test_no_camera_found(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_GPHOTO2", "none")
    with pytest.raises(SourceUnavailable) as info:
        dslr(make_camera).grab()
    message = str(info.value)
    assert "found no camera" in message and "--auto-detect" in message
    assert "mailing list" not in message  # gphoto2's debugging advice is left out


def test_configured_model_not_attached(fakes_on_path, make_camera):
    with pytest.raises(SourceUnavailable, match="found no camera matching Nikon D750"):
        dslr(make_camera, gphoto2_camera="Nikon D750").grab()


def test_wrong_port(fakes_on_path, make_camera):
    with pytest.raises(SourceUnavailable, match="cannot find port 'usb:009,009'"):
        dslr(make_camera, gphoto2_port="usb:009,009").grab()


def test_camera_busy(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_GPHOTO2", "busy")
    with pytest.raises(GrabError) as info:
        dslr(make_camera).grab()
    assert not isinstance(info.value, SourceUnavailable)
    assert "camera is busy" in str(info.value)


def test_hanging_gphoto2_is_killed(fakes_on_path, make_camera, monkeypatch):
    monkeypatch.setenv("PYLAPSE_FAKE_GPHOTO2", "hang")
    with pytest.raises(GrabError, match=r"did not finish within 0\.5 s"):
        dslr(make_camera, connect_timeout=0.2, read_timeout=0.3).grab()
    with pytest.raises(ProcessLookupError):
        os.kill(runs(fakes_on_path)[0]["pid"], 0)


def test_gphoto2_not_installed(tmp_path, make_camera, monkeypatch):
    monkeypatch.setenv("PATH", path_with_fakes(tmp_path, [], keep_path=False))
    with pytest.raises(SourceUnavailable, match="gphoto2 tool is not installed"):
        dslr(make_camera).grab()


def test_preview_frame_uses_live_view_not_the_shutter(fakes_on_path, make_camera):
    info = validate_image(dslr(make_camera).preview_frame())
    assert (info.width, info.height) == (320, 212)
    argv = runs(fakes_on_path)[0]["argv"]
    assert argv[0] == "--capture-preview" and "--capture-image-and-download" not in argv
