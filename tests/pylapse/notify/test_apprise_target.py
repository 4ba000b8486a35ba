"""pylapse.notify.apprise_target: real Apprise sends to json:// and form:// targets served by a
real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from pylapse.notify import apprise_target
from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network


def test_a_json_target_receives_title_and_body() -> None:
    with WebhookReceiver() as rx:
        attempt = apprise_target.send(
            f"json://127.0.0.1:{rx.port}/apprise", "pyLapse: render.done", "video ready"
        )
        (got,) = rx.wait_for(1)
    assert attempt.ok
    assert got.path == "/apprise"
    body = json.loads(got.body)
    assert body["title"] == "pyLapse: render.done"
    assert body["message"] == "video ready"
    assert body["type"] == "info"


def test_a_form_target_receives_fields_and_failures_are_typed() -> None:
    with WebhookReceiver() as rx:
        attempt = apprise_target.send(
            f"form://127.0.0.1:{rx.port}/f", "pyLapse: camera.offline", "porch", failure=True
        )
        (got,) = rx.wait_for(1)
    assert attempt.ok
    fields = {k: v[0] for k, v in parse_qs(got.body.decode()).items()}
    assert fields["title"] == "pyLapse: camera.offline"
    assert fields["message"] == "porch"
    assert fields["type"] == "failure"


def test_a_target_answering_500_is_a_failure_worth_retrying() -> None:
    with WebhookReceiver(statuses=[500]) as rx:
        attempt = apprise_target.send(f"json://user:topsecret99@127.0.0.1:{rx.port}/x", "t", "b")
        rx.wait_for(1)
    assert not attempt.ok and attempt.retry
    assert attempt.detail and "topsecret99" not in attempt.detail


def test_a_url_apprise_does_not_know_is_not_retried() -> None:
    attempt = apprise_target.send("nosuchservice://hidden-token/x", "t", "b")
    assert not attempt.ok and not attempt.retry
    assert "hidden-token" not in attempt.detail
    assert "nosuchservice://***" in attempt.detail
