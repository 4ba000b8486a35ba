"""Settings page, Notifications: rules with masked URLs, a test button per rule (POST + CSRF)
that really sends (to a real receiver on 127.0.0.1), and the delivery log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import demo_config

from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network

PASSWORD = "hunter2hunter2"
TOKEN = "tok-0123456789"
BOT = "123456:AAbotsecrettoken"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(statuses=[200, 404]) as rx:
        yield rx


@pytest.fixture
def config_path(tmp_path: Path, receiver: WebhookReceiver) -> Path:
    hook = f"http://ops:{PASSWORD}@127.0.0.1:{receiver.port}/hook?token={TOKEN}"
    return demo_config(tmp_path, notifications={
        "ops": {"url": hook, "events": ["render.*", "camera.offline"], "secret": "sig-key-999"},
        "chat": {"url": f"tgram://{BOT}/4242", "events": ["*"], "enabled": False},
    })  # fmt: skip


def _no_secrets(html: str) -> None:
    for secret in (PASSWORD, TOKEN, "AAbotsecrettoken", "sig-key-999"):
        assert secret not in html


def test_the_page_lists_rules_with_masked_targets(client) -> None:
    response = client.get("/settings")
    assert response.status_code == 200
    rules = {r["id"]: r for r in response.context["notify"]["rules"]}
    assert rules["ops"]["kind"] == "webhook" and rules["chat"]["kind"] == "apprise"
    assert "***" in rules["ops"]["target"] and rules["ops"]["target"].startswith("http://ops:")
    assert rules["chat"]["enabled"] is False
    html = response.text
    assert 'id="notifications"' in html and "render.*, camera.offline" in html
    assert 'action="/settings/notifications/ops/test"' in html
    _no_secrets(html)


def test_send_a_test_delivers_and_shows_the_result_and_the_log(
    client, post, receiver: WebhookReceiver
) -> None:
    response = post("/settings/notifications/ops/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.template.name == "partials/_notifications.html"
    (got,) = receiver.wait_for(1)
    body = json.loads(got.body)
    assert body["test"] is True and body["rule"] == "ops"
    result = response.context["notify"]["result"]
    assert result.status == "delivered" and result.detail == "HTTP 200"
    html = response.text
    assert 'id="notify-result"' in html and "delivered" in html
    assert html.count("<tr>") >= 2  # the rules and the delivery log's row
    _no_secrets(html)
    # a second test is answered 404: failed, and said so; without htmx the whole page comes back
    page = post("/settings/notifications/ops/test")
    assert page.template.name == "settings.html"
    assert page.context["notify"]["result"].status == "failed"
    assert "HTTP 404" in page.text
    deliveries = page.context["notify"]["deliveries"]
    assert [d.status.value for d in deliveries] == ["failed", "delivered"]
    _no_secrets(page.text)


def test_the_test_button_needs_csrf_and_a_known_rule(client, post) -> None:
    assert client.post("/settings/notifications/ops/test").status_code == 403
    assert post("/settings/notifications/nope/test").status_code == 404
