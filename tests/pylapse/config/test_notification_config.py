"""config.notifications.NotificationConfig: the ``notifications`` rules of the config file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pylapse.config.base import ConfigError
from pylapse.config.file import load_config
from pylapse.config.models import Config


def _load(tmp_path: Path, notifications: dict[str, object]) -> Config:
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps({"layout": "flat", "notifications": notifications}))
    return load_config(path)


def test_rules_load_with_their_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, {
        "ops": {"url": "https://hooks.example.org/pylapse", "events": ["render.done"],
                "secret": "k", "cooldown": 60},
        "chat": {"url": "tgram://token/123"},
    })  # fmt: skip
    ops, chat = config.notifications["ops"], config.notifications["chat"]
    assert (ops.events, ops.secret, ops.cooldown, ops.kind) == (["render.done"], "k", 60, "auto")
    assert (chat.events, chat.secret, chat.cooldown, chat.enabled) == (["*"], None, 300, True)
    assert Config().notifications == {}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"url": "https://h/x", "events": ["camera.gone"]},
         "notifications.ops.events: 'camera.gone' is not an event; accepted: *, camera.*"),
        ({"url": "https://h/x", "events": []}, "notifications.ops.events: no events"),
        ({"url": "https://h/x", "cooldown": -5}, "notifications.ops.cooldown"),
        ({"url": "https://h/x", "kind": "pigeon"}, "notifications.ops.kind"),
        ({"url": "user:hunter2@host"}, "notifications.ops.url: not a URL"),
        ({"events": ["*"]}, "notifications.ops.url"),
    ],
)  # fmt: skip
def test_mistakes_name_the_field_and_what_is_accepted(
    tmp_path: Path, rule: dict[str, object], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, {"ops": rule})
    assert expected in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_rule_ids_are_checked_like_other_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no '/'"):
        _load(tmp_path, {"a/b": {"url": "https://h/x"}})


def test_the_example_config_shows_notifications_that_are_valid_when_renamed(repo: Path) -> None:
    from pylapse.config.file import parse_config

    raw = json.loads((repo / "capture_config.example.json").read_text(encoding="utf-8"))
    rules = {k: v for k, v in raw["_notifications"].items() if not k.startswith("_")}
    assert {r["url"].split("://")[0] for r in rules.values()} == {"ntfy", "http"}
    config = parse_config({"notifications": rules, "layout": "flat"}, "renamed")
    assert set(config.notifications) == set(rules)
    assert load_config(repo / "capture_config.example.json").notifications == {}  # a comment
