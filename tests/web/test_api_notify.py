"""The notifications API: rules (masked), the delivery log, a test message sent to a real
receiver on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import demo_config

from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network

TOKEN = "tok-api-424242"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(statuses=[200, 503]) as rx:
        yield rx


@pytest.fixture
def config_path(tmp_path: Path, receiver: WebhookReceiver) -> Path:
    url = f"{receiver.url('/api-hook')}?token={TOKEN}"
    return demo_config(tmp_path, notifications={
        "ops": {"url": url, "events": ["export.*"], "secret": "sign-api-1", "cooldown": 30},
    })  # fmt: skip


def test_rules_are_listed_masked(client) -> None:
    (rule,) = client.get("/api/notifications").json()
    assert rule["id"] == "ops" and rule["kind"] == "webhook"
    assert rule["target"].endswith("/api-hook?token=***")
    assert rule["events"] == ["export.done", "export.failed"]
    assert rule["cooldown"] == 30 and rule["enabled"] is True
    assert "sign-api-1" not in json.dumps(rule)


def test_a_test_is_sent_and_logged(client, csrf, receiver: WebhookReceiver) -> None:
    headers = {"X-CSRF-Token": csrf}
    sent = client.post("/api/notifications/ops/test", headers=headers)
    assert sent.status_code == 200
    row = sent.json()
    assert (row["rule"], row["status"], row["attempts"], row["test"]) == ("ops", "delivered", 1,
                                                                          True)  # fmt: skip
    assert json.loads(receiver.wait_for(1)[0].body)["event"] == "export.done"
    failed = client.post("/api/notifications/ops/test", headers=headers).json()
    assert failed["status"] == "failed" and failed["detail"].startswith("HTTP 503")
    log = client.get("/api/notifications/deliveries", params={"limit": 5}).json()
    assert [d["id"] for d in log] == [failed["id"], row["id"]]
    assert client.get("/api/notifications/deliveries", params={"rule": "other"}).json() == []
    assert TOKEN not in json.dumps(log)


def test_an_unknown_rule_and_a_missing_csrf_token_are_refused(client, csrf) -> None:
    assert client.post("/api/notifications/ops/test").status_code == 403
    missing = client.post("/api/notifications/nope/test", headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
