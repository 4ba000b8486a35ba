"""The MJPEG source against ffmpeg as a real MJPEG server and the loopback camera's streams."""

from __future__ import annotations

import io
import subprocess
import time

import imageio_ffmpeg
import pytest
from PIL import Image

from pylapse.sources.base import GrabError, create_source
from pylapse.sources.mjpeg import MultipartParser, Source, boundary_of
from pylapse.storage import validate_image
from tests.servers.camera_server import make_jpeg


def grab(make_camera, url: str, **fields) -> bytes:
    source = create_source(make_camera(type="mjpeg", url=url, **fields))
    assert isinstance(source, Source)
    try:
        return source.grab()
    finally:
        source.close()


def grab_error(make_camera, url: str, **fields) -> str:
    with pytest.raises(GrabError) as info:
        grab(make_camera, url, **fields)
    return str(info.value)


@pytest.fixture
def ffmpeg_mjpeg(free_port):
    """ffmpeg serving a 640x480 test pattern as MJPEG to one client, then exiting."""
    url = f"http://127.0.0.1:{free_port}/video"
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
        "-re", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=5",
        "-c:v", "mjpeg", "-f", "mpjpeg", "-boundary_tag", "ffmpeg",
        "-content_type", "multipart/x-mixed-replace;boundary=ffmpeg",
        "-listen", "1", url,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield url
    process.kill()
    process.wait(timeout=10)


def test_first_frame_from_ffmpeg_mjpeg_server(ffmpeg_mjpeg, make_camera):
    # ffmpeg serves exactly one client, so no readiness probe: retry while it is not listening
    for _attempt in range(100):
        try:
            data = grab(make_camera, ffmpeg_mjpeg, read_timeout=5.0)
            break
        except GrabError as exc:
            if "connection refused" not in str(exc):
                raise
            time.sleep(0.05)
    else:
        pytest.fail("ffmpeg never started listening")
    info = validate_image(data)
    assert (info.format, info.width, info.height) == ("JPEG", 640, 480)


def test_stream_with_part_lengths(camera_server, make_camera):
    img = Image.open(io.BytesIO(grab(make_camera, camera_server.url("/mjpeg"))))
    assert (img.format, img.size) == ("JPEG", (320, 240))


def test_boundary_declared_with_dashes_and_no_part_lengths(camera_server, make_camera):
    data = grab(make_camera, camera_server.url("/mjpeg-nolength"))
    assert validate_image(data).width == 320  # complete, nothing of the boundary left on it


def test_no_whole_frame_times_out(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/mjpeg-stall"), read_timeout=0.3)
    assert "no complete JPEG frame" in message


def test_endless_part_is_bounded_by_max_bytes(camera_server, make_camera):
    message = grab_error(
        make_camera, camera_server.url("/mjpeg-endless"), max_bytes=1_000_000, read_timeout=1.0
    )
    assert "no complete frame within max_bytes (1,000,000 bytes)" in message


def test_snapshot_url_also_works(camera_server, make_camera):
    assert validate_image(grab(make_camera, camera_server.url("/shot.jpg"))).format == "JPEG"


def test_auth_failure_is_reported(camera_server, make_camera):
    assert "HTTP 401" in grab_error(make_camera, camera_server.url("/basic/shot.jpg"))


def test_iter_frames_reads_many_frames_over_one_connection(camera_server, make_camera):
    source = create_source(make_camera(type="mjpeg", url=camera_server.url("/mjpeg")))
    frames = []
    stream = source.iter_frames()
    for frame in stream:
        frames.append(frame)
        if len(frames) == 3:
            break
    stream.close()
    source.close()
    assert len(set(frames)) == 3
    assert all(validate_image(f).format == "JPEG" for f in frames)
    assert camera_server.hits("/mjpeg") == 1


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("multipart/x-mixed-replace;boundary=ffmpeg", b"ffmpeg"),
        ("multipart/x-mixed-replace; boundary=--myboundary", b"myboundary"),
        ('multipart/x-mixed-replace; boundary="frame"', b"frame"),
        ("multipart/x-mixed-replace", None),
    ],
)
def test_boundary_of(content_type, expected):
    assert boundary_of(content_type) == expected


def test_parser_byte_by_byte_skips_non_jpeg_parts():
    jpeg = make_jpeg((64, 48), number=3)
    stream = (
        b"preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
        b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n--b\r\n"
    )
    parser = MultipartParser(b"b", 1_000_000)
    frames = [f for i in range(len(stream)) for f in parser.feed(stream[i : i + 1])]
    assert frames == [jpeg]


def test_parser_content_length_allows_boundary_inside_data():
    body = b"\xff\xd8 --b inside \xff\xd9"
    stream = b"--b\r\nContent-Length: %d\r\n\r\n" % len(body) + body + b"\r\n--b\r\n"
    assert MultipartParser(b"b", 1000).feed(stream) == [body]
