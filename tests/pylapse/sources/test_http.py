"""The HTTP snapshot source against the real loopback camera server: every fault has a reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pylapse.sources.base import GrabError, create_source, split_credentials
from pylapse.sources.http import Source
from pylapse.storage import InvalidImage, validate_image


def grab(make_camera, url: str, **fields) -> bytes:
    source = create_source(make_camera(url=url, **fields))
    try:
        return source.grab()
    finally:
        source.close()


def grab_error(make_camera, url: str, **fields) -> str:
    with pytest.raises(GrabError) as info:
        grab(make_camera, url, **fields)
    return str(info.value)


def test_good_snapshot_is_a_jpeg_and_each_grab_is_a_new_request(camera_server, make_camera):
    source = create_source(make_camera(url=camera_server.url("/shot.jpg")))
    assert isinstance(source, Source)
    first, second = source.grab(), source.grab()
    source.close()
    assert Image.open(io.BytesIO(first)).size == (320, 240)
    assert first != second
    assert camera_server.hits("/shot.jpg") == 2


def test_png_snapshot(camera_server, make_camera):
    data = grab(make_camera, camera_server.url("/shot.png"))
    assert Image.open(io.BytesIO(data)).format == "PNG"


def test_http_500_names_the_status(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/error500"))
    assert "HTTP 500" in message
    assert "/error500" in message


def test_hanging_camera_times_out_on_read(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/hang"), read_timeout=0.3)
    assert "no data for 0.3 s (read_timeout)" in message


def test_slow_drip_is_cut_by_the_overall_deadline(camera_server, make_camera):
    # bytes keep coming (every 0.05 s), so only the overall deadline (0.2 + 0.3 s) can stop it
    message = grab_error(
        make_camera, camera_server.url("/drip"), connect_timeout=0.2, read_timeout=0.3
    )
    assert "longer than 0.5 s overall" in message


def test_html_page_is_refused_with_its_type(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/html"))
    assert "text/html content, not an image" in message


def test_truncated_jpeg_is_returned_and_fails_validation(camera_server, make_camera):
    # the source fetches bytes; judging the image is the capture layer's job (storage)
    data = grab(make_camera, camera_server.url("/truncated.jpg"))
    assert data.startswith(b"\xff\xd8")
    with pytest.raises(InvalidImage):
        validate_image(data)


def test_empty_body_is_an_error(camera_server, make_camera):
    assert "empty response" in grab_error(make_camera, camera_server.url("/empty"))


def test_size_cap_from_content_length(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/huge"), max_bytes=1_000_000)
    assert "104,857,600 bytes is larger than max_bytes (1,000,000)" in message


def test_size_cap_enforced_while_streaming_without_length(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/huge-chunked"), max_bytes=1_000_000)
    assert "passed max_bytes (1,000,000 bytes) while downloading" in message


def test_basic_auth_required_and_accepted(camera_server, make_camera):
    url = camera_server.url("/basic/shot.jpg")
    assert "HTTP 401" in grab_error(make_camera, url)
    creds = {"username": camera_server.username, "password": camera_server.password}
    assert grab(make_camera, url, **creds).startswith(b"\xff\xd8")
    # credentials in the URL work the same
    assert grab(make_camera, camera_server.url("/basic/shot.jpg", auth=True)).startswith(b"\xff")


def test_digest_auth_required_and_accepted(camera_server, make_camera):
    url = camera_server.url("/digest/shot.jpg")
    creds = {"username": camera_server.username, "password": camera_server.password}
    assert "HTTP 401" in grab_error(make_camera, url, **creds)  # basic is not enough
    assert grab(make_camera, url, auth="digest", **creds).startswith(b"\xff\xd8")


@pytest.mark.parametrize("path", ["/basic/shot.jpg", "/digest/shot.jpg", "/error500", "/hang"])
def test_password_never_in_errors(camera_server, make_camera, path):
    secret = "Hunter2-wrong"
    url = camera_server.url(path).replace("://", f"://admin:{secret}@")
    message = grab_error(make_camera, url, read_timeout=0.3)
    assert secret not in message
    assert "admin" not in message or "***" in message or "@" not in message
    message = grab_error(
        make_camera,
        camera_server.url(path),
        username="admin",
        password=secret,
        auth="digest",
        read_timeout=0.3,
    )
    assert secret not in message


def test_wrong_password_says_what_to_check(camera_server, make_camera):
    message = grab_error(
        make_camera, camera_server.url("/basic/shot.jpg"), username="user", password="nope"
    )
    assert "HTTP 401" in message and "check username, password and auth" in message


def test_redirect_is_followed(camera_server, make_camera):
    assert grab(make_camera, camera_server.url("/redirect")).startswith(b"\xff\xd8")
    assert camera_server.hits("/shot.jpg") == 1


def test_redirect_loop_stops_at_the_limit(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/redirect-loop"), max_redirects=3)
    assert "more than 3 redirects" in message
    assert camera_server.hits("/redirect-loop") == 4  # the first request + 3 redirects


def test_redirects_off(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/redirect"), max_redirects=0)
    assert "HTTP 302" in message and "redirects are off" in message


def test_extra_headers_are_sent(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/headers"), headers={"X-Api-Key": "k1"})
    assert "application/json content, not an image" in message  # and the request went out:
    assert camera_server.last_headers("/headers")["x-api-key"] == "k1"


@pytest.mark.parametrize("path", ["/mjpeg", "/mjpeg-nolength", "/mjpeg-bare"])
def test_mjpeg_url_on_http_camera_gives_the_first_frame(camera_server, make_camera, path):
    # pyLapse 0.2 read any camera URL this way: its configs name streams as plain URLs
    data = grab(make_camera, camera_server.url(path))
    validate_image(data)  # one whole JPEG, not the multipart bytes around it
    assert data.startswith(b"\xff\xd8") and b"--frame" not in data and b"--myboundary" not in data
    assert Image.open(io.BytesIO(data)).size == (320, 240)
    assert camera_server.hits(path) == 1


def test_jpeg_without_content_type_is_still_a_snapshot(camera_server, make_camera):
    data = grab(make_camera, camera_server.url("/bare.jpg"))
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_stream_without_a_whole_frame_on_http_camera_times_out(camera_server, make_camera):
    message = grab_error(make_camera, camera_server.url("/mjpeg-stall"), read_timeout=0.3)
    assert "read_timeout" in message


def test_connection_refused(make_camera, free_port):
    message = grab_error(make_camera, f"http://127.0.0.1:{free_port}/shot.jpg")
    assert "connection refused" in message


def test_split_credentials_decodes_and_strips():
    url, user, password = split_credentials("http://ad%40min:p%3Ass@cam.local:8080/a?b=1")
    assert url == "http://cam.local:8080/a?b=1"
    assert (user, password) == ("ad@min", "p:ss")
    assert split_credentials("http://cam/a") == ("http://cam/a", None, None)


@pytest.fixture
def https_server(tmp_path):
    """The test camera over HTTPS with a fresh self-signed certificate (openssl CLI)."""
    import shutil
    import subprocess

    from tests.servers.camera_server import CameraServer

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (needed to make a self-signed certificate)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with CameraServer(certfile=str(cert), keyfile=str(key)) as server:
        yield server


def test_tls_verification_on_and_off(https_server, make_camera):
    url = https_server.url("/shot.jpg")
    assert url.startswith("https://")
    assert "TLS certificate is not trusted" in grab_error(make_camera, url)
    assert grab(make_camera, url, verify_tls=False).startswith(b"\xff\xd8")
