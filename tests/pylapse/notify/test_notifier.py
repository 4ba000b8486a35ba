"""pylapse.notify.notifier: events to real receivers on 127.0.0.1, retried, cooled down, logged."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pylapse.notify.deliverylog import DeliveryLog, DeliveryStatus
from pylapse.notify.events import Event, EventKind
from pylapse.notify.notifier import Backoff, Notifier
from pylapse.notify.rules import Rule
from pylapse.notify.webhook import verify
from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network

QUICK = Backoff(attempts=4, first=0.01, factor=2, cap=0.05)


class Clock:
    """A monotonic clock the test moves (the delivery thread reads it)."""

    def __init__(self) -> None:
        self.now = 100.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def log(tmp_path: Path) -> Iterator[DeliveryLog]:
    store = DeliveryLog(tmp_path)
    yield store
    store.close()


def _run(notifier: Notifier) -> Notifier:
    notifier.start()
    return notifier


def test_an_event_reaches_the_rules_that_want_it_signed(log: DeliveryLog) -> None:
    with WebhookReceiver() as rx:
        notifier = _run(Notifier([
            Rule.of("ops", rx.url("/ops"), ["render.*"], secret="k3y", cooldown=0),
            Rule.of("cams", rx.url("/cams"), ["camera.offline"], cooldown=0),
        ], log, backoff=QUICK))  # fmt: skip
        try:
            assert notifier.notify(Event.now(EventKind.RENDER_DONE, "Render porch", "ready")) == 1
            (got,) = rx.wait_for(1)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
    assert got.path == "/ops"
    body = json.loads(got.body)
    assert body["event"] == "render.done" and body["rule"] == "ops" and body["test"] is False
    assert verify("k3y", got.headers["X-Pylapse-Timestamp"], got.body,
                  got.headers["X-Pylapse-Signature"])  # fmt: skip
    (row,) = log.recent()
    assert (row.rule, row.status, row.attempts) == ("ops", DeliveryStatus.DELIVERED, 1)


def test_a_500_is_retried_with_backoff_until_it_succeeds(log: DeliveryLog) -> None:
    with WebhookReceiver(statuses=[500, 503]) as rx:
        notifier = _run(Notifier([Rule.of("ops", rx.url(), ["*"], cooldown=0)], log,
                                 backoff=QUICK))  # fmt: skip
        try:
            notifier.notify(Event.now(EventKind.EXPORT_DONE, "Export daily", "done"))
            got = rx.wait_for(3)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
    assert len({r.body for r in got}) == 1  # the same message each time
    (row,) = log.recent()
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 3


def test_it_gives_up_after_the_last_try_and_does_not_retry_a_404(log: DeliveryLog) -> None:
    with WebhookReceiver(statuses=[500] * 10) as rx, WebhookReceiver(statuses=[404]) as gone:
        notifier = _run(Notifier([
            Rule.of("down", rx.url(), ["disk.low"], cooldown=0),
            Rule.of("gone", gone.url(), ["disk.low"], cooldown=0),
        ], log, backoff=QUICK))  # fmt: skip
        try:
            notifier.notify(Event.now(EventKind.DISK_LOW, "/data", "low"))
            rx.wait_for(4)
            gone.wait_for(1)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
        assert len(rx.requests) == QUICK.attempts and len(gone.requests) == 1
    rows = {r.rule: r for r in log.recent()}
    assert rows["down"].status is DeliveryStatus.FAILED and rows["down"].attempts == 4
    assert rows["down"].detail.startswith("HTTP 500")
    assert rows["gone"].status is DeliveryStatus.FAILED and rows["gone"].attempts == 1


def test_a_failing_target_does_not_hold_up_another(log: DeliveryLog) -> None:
    slow = Backoff(attempts=3, first=3600, factor=1, cap=3600)  # its retry is an hour away
    with WebhookReceiver(statuses=[500]) as bad, WebhookReceiver() as good:
        notifier = _run(Notifier([
            Rule.of("bad", bad.url(), ["*"], cooldown=0),
            Rule.of("good", good.url(), ["*"], cooldown=0),
        ], log, backoff=slow))  # fmt: skip
        try:
            notifier.notify(Event.now(EventKind.RENDER_FAILED, "r", "x"))
            notifier.notify(Event.now(EventKind.RENDER_DONE, "r2", "y"))
            assert len(good.wait_for(2)) == 2
        finally:
            notifier.stop()
    rows = {(r.rule, r.event): r for r in log.recent()}
    assert rows[("bad", "render.failed")].status is DeliveryStatus.FAILED  # closed by stop
    assert "stopped" in rows[("bad", "render.failed")].detail


def test_a_flapping_camera_sends_one_message_then_its_last_state(log: DeliveryLog) -> None:
    clock = Clock()
    with WebhookReceiver() as rx:
        notifier = _run(Notifier([Rule.of("cams", rx.url(), ["camera.*"], cooldown=300)], log,
                                 backoff=QUICK, clock=clock))  # fmt: skip
        try:
            for n in range(10):
                kind = EventKind.CAMERA_OFFLINE if n % 2 == 0 else EventKind.CAMERA_BACK
                notifier.notify(Event.now(kind, "porch", f"change {n}"))
                notifier.notify(Event.now(kind, "garden", f"change {n}"))
            rx.wait_for(2)
            assert notifier.wait_idle(10)
            assert len(rx.requests) == 2  # porch and garden once each, the rest held back
            clock.advance(300)
            notifier.tick()
            got = rx.wait_for(4)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
    bodies = [json.loads(r.body) for r in got]
    assert [(b["subject"], b["message"]) for b in bodies[:2]] == [
        ("porch", "change 0"), ("garden", "change 0")]  # fmt: skip
    trailing = {b["subject"]: b for b in bodies[2:]}
    assert trailing["porch"]["message"] == "change 9"  # the last state, never an older one
    assert trailing["porch"]["event"] == "camera.back"
    assert trailing["porch"]["held_back"] == 8
    assert len(rx.requests) == 4


def test_send_test_goes_once_and_is_logged_as_a_test(log: DeliveryLog) -> None:
    with WebhookReceiver() as rx:
        notifier = Notifier([Rule.of("ops", rx.url(), ["render.done"])], log)
        row = notifier.send_test("ops")
        (got,) = rx.wait_for(1)
    assert row is not None and row.test and row.status is DeliveryStatus.DELIVERED
    body = json.loads(got.body)
    assert body["test"] is True and body["event"] == "render.done"
    with pytest.raises(KeyError):
        notifier.send_test("nope")


def test_secrets_never_reach_the_log(log: DeliveryLog, free_port: int,
                                     caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    for chatty in ("httpx", "httpcore"):  # they log every request's URL
        caplog.set_level(logging.DEBUG, logger=chatty)
    url = f"http://bob:hunter2222@127.0.0.1:{free_port}/x?token=tok55555"
    notifier = _run(Notifier([Rule.of("ops", url, ["*"], secret="sig-secret", cooldown=0)], log,
                             backoff=Backoff(attempts=1)))  # fmt: skip
    try:
        notifier.notify(Event.now(EventKind.DISK_LOW, "/d", "low"))
        assert notifier.wait_idle(20)
    finally:
        notifier.stop()
    (row,) = log.recent()
    assert row.status is DeliveryStatus.FAILED
    stored = f"{row.target} {row.detail} {caplog.text}"
    for secret in ("hunter2222", "tok55555", "sig-secret"):
        assert secret not in stored
    assert row.target == f"http://bob:***@127.0.0.1:{free_port}/x?token=***"


def test_apprise_rules_deliver_through_apprise(log: DeliveryLog) -> None:
    with WebhookReceiver(statuses=[500]) as rx:
        rule = Rule.of("chat", f"json://127.0.0.1:{rx.port}/a", ["export.failed"], cooldown=0)
        notifier = _run(Notifier([rule], log, backoff=QUICK))
        try:
            notifier.notify(Event.now(EventKind.EXPORT_FAILED, "Export daily", "disk full"))
            got = rx.wait_for(2)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
    body = json.loads(got[-1].body)
    assert body["title"] == "pyLapse: export.failed Export daily"
    assert body["message"] == "disk full" and body["type"] == "failure"
    (row,) = log.recent()
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 2


def test_a_delivered_request_is_logged_by_httpx_without_its_secrets(
    log: DeliveryLog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for chatty in ("httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=chatty)
    with WebhookReceiver() as rx:
        url = rx.url("/x").replace("http://", "http://bob:hunter3333@") + "?token=tok66666"
        notifier = _run(Notifier([Rule.of("ops", url, ["*"], cooldown=0)], log, backoff=QUICK))
        try:
            notifier.notify(Event.now(EventKind.DISK_LOW, "/d", "low"))
            rx.wait_for(1)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
    assert "HTTP Request: POST" in caplog.text  # httpx did log it ...
    assert "hunter3333" not in caplog.text and "tok66666" not in caplog.text  # ... masked


def test_a_log_that_cannot_be_written_does_not_stop_deliveries(tmp_path: Path) -> None:
    broken = DeliveryLog(tmp_path)
    broken.close()  # every write now fails with sqlite3.Error (in life: a full disk)
    with WebhookReceiver() as rx:
        notifier = _run(Notifier([Rule.of("ops", rx.url(), ["disk.low"], cooldown=0)], broken))
        try:
            assert notifier.notify(Event.now(EventKind.DISK_LOW, "/data", "full")) == 1
            (got,) = rx.wait_for(1)
            assert notifier.wait_idle(10)
        finally:
            notifier.stop()
    assert json.loads(got.body)["event"] == "disk.low"
