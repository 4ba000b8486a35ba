"""The RTSP source against GStreamer's RTSP server on 127.0.0.1 and the bundled ffmpeg."""

from __future__ import annotations

import logging
import select
import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest

from pylapse.sources.base import GrabError, create_source
from pylapse.sources.rtsp import Source, frame_command
from pylapse.storage import validate_image
from tests.servers import rtsp_server

USER, PASSWORD = "admin", "Sup3r:s@cret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(*extra: str) -> Iterator[str]:
    ok, why = rtsp_server.available()
    if not ok:
        pytest.skip(f"RTSP test server unavailable: {why}")
    port = _free_port()
    process = subprocess.Popen(
        [rtsp_server.SYSTEM_PYTHON, str(rtsp_server.SCRIPT), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 20)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            process.kill()
            pytest.fail(f"RTSP server did not start: {line!r} {process.stderr.read()[-500:]}")
        yield line.split()[1]
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def rtsp_url() -> Iterator[str]:
    yield from _start()


@pytest.fixture(scope="module")
def rtsp_auth_url() -> Iterator[str]:
    yield from _start("--user", USER, "--password", PASSWORD)


def rtsp_camera(make_camera, url: str, **fields) -> Source:
    values = {"type": "rtsp", "url": url, "connect_timeout": 5.0, "read_timeout": 5.0}
    values.update(fields)
    source = create_source(make_camera(**values))
    assert isinstance(source, Source)
    return source


def test_one_frame_from_a_real_rtsp_stream(rtsp_url, make_camera):
    info = validate_image(rtsp_camera(make_camera, rtsp_url).grab())
    assert (info.format, info.width, info.height) == ("JPEG", 320, 240)


def test_credentials_from_config_are_used_and_never_shown(rtsp_auth_url, make_camera, caplog):
    caplog.set_level(logging.DEBUG, logger="pylapse.sources.rtsp")
    source = rtsp_camera(make_camera, rtsp_auth_url, username=USER, password=PASSWORD)
    assert validate_image(source.grab()).width == 320
    assert PASSWORD not in source.describe()
    assert "rtsp grab" in caplog.text  # the command was logged ...
    assert PASSWORD not in caplog.text and "Sup3r" not in caplog.text  # ... masked


def test_wrong_password_is_a_clear_masked_error(rtsp_auth_url, make_camera, caplog):
    caplog.set_level(logging.DEBUG, logger="pylapse.sources.rtsp")
    wrong = "Wr0ng-pass"
    url = rtsp_auth_url.replace("rtsp://", f"rtsp://{USER}:{wrong}@")
    with pytest.raises(GrabError) as info:
        rtsp_camera(make_camera, url).grab()
    message = str(info.value)
    assert "refused the credentials (RTSP 401" in message
    assert f"{USER}:***@" in message
    assert wrong not in message and wrong not in caplog.text


def test_missing_credentials(rtsp_auth_url, make_camera):
    with pytest.raises(GrabError, match="RTSP 401"):
        rtsp_camera(make_camera, rtsp_auth_url).grab()


def test_connection_refused(make_camera):
    url = f"rtsp://{USER}:{PASSWORD}@127.0.0.1:{_free_port()}/stream"
    with pytest.raises(GrabError) as info:
        rtsp_camera(make_camera, url).grab()
    assert "connection refused" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_silent_server_hits_the_timeout(make_camera):
    """A TCP port that accepts and never answers: ffmpeg's timeout or our kill must end it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    url = f"rtsp://127.0.0.1:{listener.getsockname()[1]}/stream"
    try:
        with pytest.raises(GrabError, match=r"did not answer in time|did not finish within"):
            rtsp_camera(make_camera, url, connect_timeout=0.5, read_timeout=0.5).grab()
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


def test_frame_command_is_tcp_one_frame_to_stdout():
    argv = frame_command("ffmpeg", "rtsp://cam/s", timeout=2.5)
    assert argv[argv.index("-rtsp_transport") + 1] == "tcp"
    assert argv[argv.index("-timeout") + 1] == "2500000"
    assert argv[argv.index("-frames:v") + 1] == "1"
    assert argv[-1] == "pipe:1"
    assert "udp" in frame_command("ffmpeg", "rtsp://cam/s", transport="udp")


def test_a_port_that_is_not_rtsp(camera_server, make_camera):
    url = f"rtsp://127.0.0.1:{camera_server.port}/stream"
    with pytest.raises(GrabError, match="did not answer as an RTSP camera"):
        rtsp_camera(make_camera, url).grab()


def test_live_frames_over_one_ffmpeg(rtsp_url, make_camera):
    source = rtsp_camera(make_camera, rtsp_url)
    stream = source.iter_frames()
    frames = [next(stream) for _ in range(3)]
    assert len(set(frames)) == 3
    assert all(validate_image(f).width == 320 for f in frames)
    assert len(source._live) == 1
    stream.close()
    assert not source._live  # ffmpeg stopped with the viewer


def test_live_stream_shared_by_preview_viewers(rtsp_url, make_camera):
    from pylapse.capture.preview import PreviewHub

    hub = PreviewHub(idle_timeout=30)
    cfg = make_camera(type="rtsp", url=rtsp_url, read_timeout=5.0)
    made: list[Source] = []

    def factory() -> Source:
        made.append(create_source(cfg))
        return made[-1]

    try:
        a, b = hub.stream("rtsp", factory), hub.stream("rtsp", factory)
        assert validate_image(next(a)).format == "JPEG"
        assert validate_image(next(b)).format == "JPEG"
        assert len(made) == 1 and len(made[0]._live) == 1
        a.close()
        b.close()
    finally:
        hub.shutdown()
    assert not made[0]._live


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized", "refused the credentials"),
        ("[rtsp @ 0x1] method DESCRIBE failed: 404 Not Found", "RTSP 404"),
        ("Server returned 404 Not Found", "RTSP 404"),
        # A port holding "401" or "404" is not a status code (this made a test flaky).
        ("rtsp://127.0.0.1:40107/stream: Connection timed out", "did not answer in time"),
        ("rtsp://127.0.0.1:34045/stream: Invalid data found when processing input", "RTSP camera"),
    ],
)
def test_ffmpeg_errors_are_read_by_their_status_not_by_any_digits(stderr, expected):
    from pylapse.sources.rtsp import _reason

    assert expected in _reason(stderr.lower(), stderr, 1, False, False)
