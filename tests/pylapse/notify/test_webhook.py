"""pylapse.notify.webhook: signed JSON POSTs to a real receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pylapse.notify import webhook
from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network

PAYLOAD = {"event": "render.done", "subject": "Render porch", "message": "ready", "data": {}}


def test_the_body_is_json_and_the_signature_covers_timestamp_and_body() -> None:
    with WebhookReceiver() as rx:
        attempt = webhook.post(rx.url("/in"), PAYLOAD, "s3cret", now=1_780_000_000)
        (got,) = rx.wait_for(1)
    assert attempt.ok and attempt.detail == "HTTP 200"
    assert got.path == "/in" and json.loads(got.body) == PAYLOAD
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Pylapse-Event"] == "render.done"
    stamp = got.headers["X-Pylapse-Timestamp"]
    assert stamp == "1780000000"
    # what a receiver computes on its own, from the raw bytes it got
    expected = hmac.new(b"s3cret", stamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Pylapse-Signature"] == f"sha256={expected}"
    assert webhook.verify("s3cret", stamp, got.body, got.headers["X-Pylapse-Signature"])
    assert not webhook.verify("other", stamp, got.body, got.headers["X-Pylapse-Signature"])
    assert not webhook.verify("s3cret", int(stamp) + 1, got.body, f"sha256={expected}")


def test_without_a_secret_there_is_no_signature() -> None:
    with WebhookReceiver() as rx:
        assert webhook.post(rx.url(), PAYLOAD, None).ok
        (got,) = rx.wait_for(1)
    assert "X-Pylapse-Signature" not in got.headers


@pytest.mark.parametrize(("status", "retry"), [(500, True), (503, True), (429, True),
                                               (404, False), (401, False)])  # fmt: skip
def test_failures_say_whether_a_retry_can_help(status: int, retry: bool) -> None:
    with WebhookReceiver(statuses=[status]) as rx:
        attempt = webhook.post(rx.url(), PAYLOAD, None)
    assert not attempt.ok and attempt.retry is retry
    assert attempt.detail.startswith(f"HTTP {status}")


def test_a_refused_connection_is_retried_and_its_detail_is_masked(free_port: int) -> None:
    url = f"http://bob:pw1234567@127.0.0.1:{free_port}/x?token=tok98765"
    attempt = webhook.post(url, PAYLOAD, "s3cret", timeout=2)
    assert not attempt.ok and attempt.retry
    assert "pw1234567" not in attempt.detail and "tok98765" not in attempt.detail
