"""The source contract: the registry and keeping credentials out of every message."""

from __future__ import annotations

import pytest

from pylapse.redact import mask_secrets, mask_url
from pylapse.sources.base import FrameSource, create_source


@pytest.mark.parametrize("kind", ["http", "mjpeg", "rtsp", "picamera", "gphoto2", "synthetic"])
def test_every_type_has_a_source(make_camera, kind):
    url = {"http": "http://cam/shot.jpg", "mjpeg": "http://cam/video", "rtsp": "rtsp://cam/s"}
    source = create_source(make_camera(type=kind, url=url.get(kind)), data_path="/tmp/data")
    assert isinstance(source, FrameSource)
    assert source.describe()
    assert str(source.data_path) == "/tmp/data"
    source.close()


def test_describe_never_shows_the_password(make_camera):
    for kind, url in (("http", "http://u:pw123@cam/a"), ("rtsp", "rtsp://u:pw123@cam/s")):
        assert "pw123" not in create_source(make_camera(type=kind, url=url)).describe()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:p%40ss@10.0.0.2:554/s?x=1", "rtsp://admin:***@10.0.0.2:554/s?x=1"),
        ("http://user@cam/a", "http://user@cam/a"),
        (
            "http://cam/snap.cgi?user=admin&pwd=secret&cmd=1",
            "http://cam/snap.cgi?user=admin&pwd=***&cmd=1",
        ),
        ("http://cam/a?token=abc", "http://cam/a?token=***"),
        ("http://10.0.0.2/shot.jpg", "http://10.0.0.2/shot.jpg"),
        ("", ""),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_mask_secrets_in_tool_output():
    text = "Error opening rtsp://admin:p%40ss@1.2.3.4/x (password p@ss)"
    masked = mask_secrets(text, "p@ss")
    assert "p@ss" not in masked and "p%40ss" not in masked
    assert "rtsp://admin:***@1.2.3.4/x" in masked
    # a URL password is masked even when the secret is not known
    assert mask_secrets("rtsp://a:zz9@h/s") == "rtsp://a:***@h/s"
