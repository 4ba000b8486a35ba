"""pylapse.notify.rules: events a rule takes, how it is delivered, how its URL is shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pylapse.notify.events import Event, EventKind
from pylapse.notify.rules import Rule, TargetKind, target_kind


def _event(kind: EventKind) -> Event:
    return Event(kind, "porch", datetime(2026, 1, 1, tzinfo=UTC), "x")


def test_a_rule_takes_the_events_it_names() -> None:
    rule = Rule.of("ops", "http://hooks.local/x", ["camera.*", "render.done"])
    assert rule.matches(_event(EventKind.CAMERA_OFFLINE))
    assert rule.matches(_event(EventKind.RENDER_DONE))
    assert not rule.matches(_event(EventKind.RENDER_FAILED))
    off = Rule.of("ops", "http://hooks.local/x", ["*"], enabled=False)
    assert not off.matches(_event(EventKind.RENDER_DONE))


def test_an_unknown_event_is_refused_naming_the_field_and_what_is_accepted() -> None:
    with pytest.raises(ValueError) as caught:
        Rule.of("ops", "http://hooks.local/x", ["camera.gone"])
    text = str(caught.value)
    assert "notifications.ops.events: 'camera.gone' is not an event" in text
    assert "camera.offline" in text and "camera.*" in text
    with pytest.raises(ValueError, match=r"notifications\.ops\.cooldown"):
        Rule.of("ops", "http://hooks.local/x", ["*"], cooldown=-1)


def test_the_target_kind_follows_the_scheme_unless_declared() -> None:
    assert target_kind("https://example.org/hook") is TargetKind.WEBHOOK
    assert target_kind("HTTP://example.org/hook") is TargetKind.WEBHOOK
    assert target_kind("json://127.0.0.1:8000/x") is TargetKind.APPRISE
    assert target_kind("tgram://token/chat") is TargetKind.APPRISE
    assert target_kind("https://discord.com/api/webhooks/1/t", "apprise") is TargetKind.APPRISE


def test_masked_urls_hide_passwords_and_tokens() -> None:
    hook = Rule.of("a", "https://bob:hunter22@hooks.local/x?token=s3cr3tvalue&room=1", ["*"])
    assert hook.masked_url == "https://bob:***@hooks.local/x?token=***&room=1"
    bot = Rule.of("b", "tgram://123456789:AAsecretbottoken/4242", ["*"])
    assert "AAsecretbottoken" not in bot.masked_url
    assert bot.masked_url.startswith("tgram://")
    mail = Rule.of("c", "mailto://me:mailpass99@example.com", ["*"])
    assert "mailpass99" not in mail.masked_url and "example.com" in mail.masked_url
    unknown = Rule.of("d", "nosuchservice://secretstuff/x", ["*"])
    assert unknown.masked_url == "nosuchservice://***"
