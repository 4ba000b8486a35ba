"""Credentials never leave in a URL, a message or a log record, whatever their spelling."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pylapse.redact import (
    SecretFilter,
    guard_loggers,
    is_secret_name,
    mask_logging,
    mask_secrets,
    mask_url,
    restore_masked_url,
)


@pytest.mark.parametrize(
    "name",
    [
        "pwd", "PWD", "pass", "passwd", "password", "Password", "loginpas", "cam_pass",
        "pass_word", "user_pwd", "psw", "key", "apikey", "api_key", "API-Key", "token",
        "access_token", "auth", "authkey", "sig", "signature", "secret", "client_secret",
        "credentials", "sessionid", "p%61ss",
    ],
)  # fmt: skip
def test_secret_parameter_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["user", "usr", "loginuse", "cmd", "channel", "resolution", "w", "h", "stream"]
)
def test_ordinary_parameter_names(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("http://10.0.0.2/shot.jpg", "http://10.0.0.2/shot.jpg"),
        ("http://user@cam/a", "http://user@cam/a"),
        ("rtsp://admin:p%40ss@10.0.0.2:554/s?x=1", "rtsp://admin:***@10.0.0.2:554/s?x=1"),
        # Foscam, Wansview, Hikvision-style and token spellings, any case
        (
            "http://cam/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=S3cr3t",
            "http://cam/cgi-bin/CGIProxy.fcgi?cmd=snapPicture2&usr=admin&pwd=***",
        ),
        (
            "http://cam/snapshot.cgi?loginuse=admin&loginpas=S3cr3t&res=0",
            "http://cam/snapshot.cgi?loginuse=admin&loginpas=***&res=0",
        ),
        (
            "http://cam/a?cam_pass=1&pass_word=2&pass=3&key=4&token=5&auth=6&sig=7&x=8",
            "http://cam/a?cam_pass=***&pass_word=***&pass=***&key=***&token=***&auth=***"
            "&sig=***&x=8",
        ),
        ("http://cam/a?user=admin&password=Pa%26ss", "http://cam/a?user=admin&password=***"),
        ("http://cam/a?PWD=x;y&ApiKey=z", "http://cam/a?PWD=***&ApiKey=***"),
        ("http://cam/a?pwd=&x=1", "http://cam/a?pwd=&x=1"),  # nothing to hide
        ("http://cam/a?sig=abc==#top", "http://cam/a?sig=***#top"),
        # reserved characters typed unencoded into the password
        ("http://admin:pa/ss@cam/shot.jpg", "http://admin:***@cam/shot.jpg"),
        ("http://admin:p@ss@cam/shot.jpg", "http://admin:***@cam/shot.jpg"),
        ("http://admin:pa:ss@cam:8080/shot.jpg", "http://admin:***@cam:8080/shot.jpg"),
        ("http://admin:pa#ss@cam/shot.jpg", "http://admin:***@cam/shot.jpg"),
        ("http://admin:pa?ss@cam/shot.jpg", "http://admin:***@cam/shot.jpg"),
        ("http://admin:a/b@c#d?e:f@[::1]:80/x", "http://admin:***@[::1]:80/x"),
        ("http://admin:p@s/s@cam", "http://admin:***@cam"),
        # an @ in the query is not a password's end
        ("http://cam/x?mail=a@b.org", "http://cam/x?mail=a@b.org"),
        ("http://cam/x?mail=a@b.org&pwd=1", "http://cam/x?mail=a@b.org&pwd=***"),
        # a camera URL inside an NVR's or proxy's URL
        (
            "http://nvr/proxy?url=http%3A%2F%2Fadmin%3Apa%2Fss%40cam%2Fa%3Fpwd%3Dx9&n=1",
            "http://nvr/proxy?url=http%3A%2F%2Fadmin%3A***%40cam%2Fa%3Fpwd%3D***&n=1",
        ),
        ("http://nvr/proxy?url=http%3A%2F%2Fcam%2Fa", "http://nvr/proxy?url=http%3A%2F%2Fcam%2Fa"),
        ("", ""),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked
    assert mask_url(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('HTTP Request: GET http://cam:81/a.cgi?usr=u&pwd=K9x%21 "HTTP/1.1 200 OK"', "K9x"),
        ("[tcp @ 0x5] rtsp://admin:pa/ss@10.0.0.5:554/h264: Connection refused", "pa/ss"),
        ("Invalid URL 'http://admin:pa/ss@cam/x': Invalid port: 'pa'", "pa/ss"),
        ("ffmpeg -i rtsp://cam/live?token=ZZtop9 -frames:v 1", "ZZtop9"),
        ("{'password': 'Hunter2!', 'user': 'x'}", "Hunter2!"),
        ('{"api_key": "Hunter2\\"x", "name": "porch"}', "Hunter2"),
        ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
        ("(b'Set-Cookie', b'session=Hunter2; Path=/')", "Hunter2"),
    ],
)
def test_mask_secrets_in_free_text(text, secret):
    masked = mask_secrets(text)
    assert secret not in masked and "***" in masked, masked
    assert mask_secrets(masked) == masked


def test_known_secrets_are_masked_in_every_encoding():
    secret = "p@ss w/rd&1"
    url, path = quote(secret, safe=""), quote(secret)
    text = f"raw {secret}, url {url}, path {path}, form p%40ss+w%2Frd%261"
    masked = mask_secrets(text, secret, None, "")
    assert masked == "raw ***, url ***, path ***, form ***"


def test_ordinary_messages_are_left_alone():
    for text in (
        "porch: 2026-05-01T08:00:00+09:00 saved frames/porch/a.jpg (31 kB, 320x240) in 0.2 s",
        "http://cam/shot.jpg: HTTP 401 Unauthorized; check username, password and auth",
        "cameras.porch.password: is required",
        "retry 2 of 3 in 5 s (max_retries)",
    ):
        assert mask_secrets(text) == text


_TOKEN_ENDERS = " \t\r\n\"'<>`"


@given(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=24))
def test_any_typed_password_is_masked_in_url_and_query(password):
    assume(not any(c in _TOKEN_ENDERS for c in password))
    template = "http://admin:{}@cam.example:8080/snap.jpg?loginpas={}&res=1"
    assume(password not in template)
    url = template.format(password, quote(password, safe=""))
    masked = mask_url(url)
    assert password not in masked and quote(password, safe="") not in masked
    assert masked == "http://admin:***@cam.example:8080/snap.jpg?loginpas=***&res=1"


def test_an_edited_masked_url_keeps_its_secrets():
    original = "http://admin:pa/ss@cam/a.cgi?usr=admin&pwd=S3cret&res=0"
    shown = mask_url(original)
    assert shown == "http://admin:***@cam/a.cgi?usr=admin&pwd=***&res=0"
    assert restore_masked_url(shown, original) == original
    edited = shown.replace("res=0", "res=1").replace("/a.cgi", "/b.cgi")
    assert restore_masked_url(edited, original) == original.replace("res=0", "res=1").replace(
        "/a.cgi", "/b.cgi"
    )
    typed_over = shown.replace("pwd=***", "pwd=new")
    assert restore_masked_url(typed_over, original).endswith("&pwd=new&res=0")
    assert "pa/ss" in restore_masked_url(typed_over, original)
    assert restore_masked_url("http://other/x", original) == "http://other/x"
    assert restore_masked_url("http://a:***@h/", None) == "http://a:***@h/"


# --- logging ------------------------------------------------------------------------------------


class _Url:
    """Stands for httpx.URL: an object whose str() is the full URL."""

    def __str__(self) -> str:
        return "http://cam/a?pwd=Hunter2"


def _handler() -> tuple[logging.Handler, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    return handler, out


def test_the_filter_masks_messages_arguments_and_tracebacks():
    handler, out = _handler()
    handler.addFilter(SecretFilter())
    log = logging.getLogger("test.redact.filter")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    try:
        log.info('HTTP Request: %s %s "%s %d %s"', "GET", _Url(), "HTTP/1.1", 200, "OK")
        log.info("joined %s?pwd=%s", "http://cam/a", "Hunter2")
        log.info("%(url)s", {"url": "rtsp://u:Hunter2@cam/s"})
        try:
            raise ValueError("cannot open http://admin:Hunter2@cam/x")
        except ValueError:
            log.exception("failed")
        log.info("stack", stack_info=True)
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert "Hunter2" not in text
    assert 'GET http://cam/a?pwd=*** "HTTP/1.1 200 OK"' in text
    assert "ValueError: cannot open http://admin:***@cam/x" in text


def test_the_filter_keeps_the_argument_shape_formatters_rely_on():
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/cameras?token=Hunter2", "1.1", 200), None,
    )  # fmt: skip
    assert SecretFilter().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.args[2] == "/cameras?token=***" and record.args[4] == 200
    assert record.getMessage() == '127.0.0.1:5000 - "GET /cameras?token=*** HTTP/1.1" 200'


def test_mask_logging_covers_every_root_handler_once():
    handler, out = _handler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        mask_logging()
        mask_logging()
        assert sum(isinstance(f, SecretFilter) for f in handler.filters) == 1
        logging.getLogger("test.redact.root").warning("GET http://cam/x?loginpas=Hunter2")
    finally:
        root.removeHandler(handler)
    assert "Hunter2" not in out.getvalue() and "loginpas=***" in out.getvalue()


def test_guarded_loggers_are_masked_for_every_handler(caplog):
    guard_loggers(["test.redact.thirdparty"])
    with caplog.at_level(logging.INFO, logger="test.redact.thirdparty"):
        logging.getLogger("test.redact.thirdparty").info("GET %s", _Url())
    assert "Hunter2" not in caplog.text and "pwd=***" in caplog.text


def test_punctuation_after_a_masked_value_stays_readable():
    assert mask_secrets("http://cam/a?pwd=x1: HTTP 401") == "http://cam/a?pwd=***: HTTP 401"
    assert mask_secrets("(see http://cam/a?token=x1).") == "(see http://cam/a?token=***)."
    assert mask_secrets("http://cam/a?pwd=a.b.&x=1") == "http://cam/a?pwd=***&x=1"


def test_an_argument_that_cannot_be_printed_does_not_break_the_caller():
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (Broken(),), None)
    assert SecretFilter().filter(record)  # logging's own error report happens at format time
