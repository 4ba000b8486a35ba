"""The shared live preview against the loopback camera server (real HTTP, real threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from pylapse.capture.preview import BOUNDARY, PreviewHub, multipart_chunks
from pylapse.config.cameras import CameraConfig
from pylapse.sources.base import create_source
from pylapse.sources.mjpeg import MultipartParser
from pylapse.storage import validate_image
from tests.servers.camera_server import CameraServer


@pytest.fixture
def camera_server() -> Iterator[CameraServer]:
    with CameraServer(mjpeg_fps=20) as server:
        yield server


@pytest.fixture
def hub() -> Iterator[PreviewHub]:
    hub = PreviewHub(idle_timeout=0.2, poll_interval=0.05, max_fps=50, retry_delay=0.1)
    yield hub
    hub.shutdown()


def camera(url: str, kind: str = "http", **fields) -> CameraConfig:
    return CameraConfig(
        name="Preview", type=kind, url=url, output_dir="frames", read_timeout=1.0, **fields
    )


def take(stream: Iterator[bytes], count: int) -> list[bytes]:
    frames = []
    for frame in stream:
        frames.append(frame)
        if len(frames) == count:
            break
    stream.close()  # what a web server does when the viewer disconnects
    return frames


def wait_until(predicate, seconds: float = 5.0) -> bool:
    """Poll for a state change (not a timing assertion: the limit is only a safety net)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_mjpeg_viewers_share_one_upstream_connection(camera_server):
    hub = PreviewHub(idle_timeout=30, max_fps=50)  # no idle close while threads start
    cfg = camera(camera_server.url("/mjpeg"), "mjpeg")
    results: list[list[bytes]] = []

    def viewer() -> None:
        results.append(take(hub.stream("cam1", lambda: create_source(cfg)), 5))

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    hub.shutdown()
    assert len(results) == 8
    for frames in results:
        assert len(frames) == 5
        assert validate_image(frames[-1]).format == "JPEG"
        assert len(set(frames)) == 5  # each viewer gets new frames, never a repeat
    assert camera_server.hits("/mjpeg") == 1


def test_snapshot_camera_is_polled(camera_server, hub):
    cfg = camera(camera_server.url("/shot.jpg"))
    frames = take(hub.stream("cam2", lambda: create_source(cfg)), 3)
    assert len(set(frames)) == 3
    assert camera_server.hits("/shot.jpg") >= 3


def test_upstream_closes_after_idle_and_reopens(camera_server, hub):
    cfg = camera(camera_server.url("/mjpeg"), "mjpeg")
    take(hub.stream("cam3", lambda: create_source(cfg)), 2)
    assert wait_until(lambda: hub.status("cam3") is None), "upstream never closed when idle"
    take(hub.stream("cam3", lambda: create_source(cfg)), 2)
    assert camera_server.hits("/mjpeg") == 2  # a fresh connection for the new viewer


def test_viewer_leaving_does_not_stop_the_others(camera_server, hub):
    cfg = camera(camera_server.url("/mjpeg"), "mjpeg")
    staying = hub.stream("cam4", lambda: create_source(cfg))
    first = next(staying)
    take(hub.stream("cam4", lambda: create_source(cfg)), 1)
    assert hub.active() == {"cam4": 1}
    assert next(staying) != first
    staying.close()
    assert camera_server.hits("/mjpeg") == 1


def test_upstream_error_is_reported_not_raised(camera_server, hub):
    cfg = camera(camera_server.url("/error500"))
    stop = threading.Event()
    stream = hub.stream("cam5", lambda: create_source(cfg), stop=stop)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend(stream))
    reader.start()
    assert wait_until(lambda: (hub.status("cam5") or None) and hub.status("cam5").last_error)
    assert "HTTP 500" in hub.status("cam5").last_error
    stop.set()
    reader.join(timeout=5)
    assert not reader.is_alive() and got == []


def test_reset_ends_viewers_and_the_upstream(camera_server, hub):
    cfg = camera(camera_server.url("/mjpeg"), "mjpeg")
    stream = hub.stream("cam6", lambda: create_source(cfg))
    next(stream)
    hub.reset("cam6")
    assert hub.status("cam6") is None
    assert len(list(stream)) <= 1  # ends (at most a frame that was already on its way)


def test_shutdown_ends_every_viewer(camera_server, hub):
    cfg = camera(camera_server.url("/shot.jpg"))
    ended = threading.Event()

    def viewer() -> None:
        for _frame in hub.stream("cam7", lambda: create_source(cfg)):
            pass
        ended.set()

    threading.Thread(target=viewer, daemon=True).start()
    assert wait_until(lambda: camera_server.hits("/shot.jpg") > 0)
    hub.shutdown()
    assert ended.wait(5)
    assert list(hub.stream("cam7", lambda: create_source(cfg))) == []


def test_a_given_source_object_is_used_and_not_closed(camera_server, hub):
    source = create_source(camera(camera_server.url("/shot.jpg")))
    frames = take(hub.stream("cam8", source), 2)
    assert len(frames) == 2
    assert wait_until(lambda: hub.status("cam8") is None)
    assert validate_image(source.grab()).format == "JPEG"  # still usable by its owner


def test_multipart_chunks_parse_back():
    frames = [b"\xff\xd8one\xff\xd9", b"\xff\xd8two\xff\xd9"]
    body = b"".join(multipart_chunks(frames))
    assert MultipartParser(BOUNDARY.encode(), 10_000).feed(body) == frames


def test_camera_preview_stream_shares_and_follows_config_edits(camera_server):
    from pylapse.capture import preview
    from pylapse.capture.camera import Camera

    hub = PreviewHub(idle_timeout=30)
    try:
        cfg = camera(camera_server.url("/mjpeg"), "mjpeg")
        first = preview.preview_stream(Camera("Porch", config=cfg, camera_id="porch"), hub=hub)
        second = preview.preview_stream(Camera("Porch", config=cfg, camera_id="porch"), hub=hub)
        assert validate_image(next(first)).format == "JPEG"
        assert validate_image(next(second)).format == "JPEG"
        assert camera_server.hits("/mjpeg") == 1 and hub.active() == {"porch": 2}
        edited = cfg.model_copy(update={"url": camera_server.url("/mjpeg-nolength")})
        third = preview.preview_stream(Camera("Porch", config=edited, camera_id="porch"), hub=hub)
        assert validate_image(next(third)).format == "JPEG"
        assert camera_server.hits("/mjpeg-nolength") == 1
        assert len(list(first)) <= 1  # the viewers of the old settings end
        third.close()
        second.close()
    finally:
        hub.shutdown()


def test_default_hub_is_made_on_first_use_and_shut_down(camera_server):
    from pylapse.capture import preview
    from pylapse.capture.camera import Camera

    preview.shutdown_default_hub()  # an earlier test's camera may still linger in the default hub
    cam = Camera("Yard", config=camera(camera_server.url("/shot.jpg")), camera_id="yard")
    stream = preview.preview_stream(cam)
    assert validate_image(next(stream)).format == "JPEG"
    assert preview.default_hub().active() == {"yard": 1}
    preview.shutdown_default_hub()
    assert len(list(stream)) <= 1  # the viewer ends (at most a frame already on its way)
    assert preview.default_hub().active() == {}  # a fresh hub after shutdown
