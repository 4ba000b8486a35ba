"""``pylapse notify test ID`` and ``pylapse notify log`` against a real receiver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pylapse.cli import main
from tests.servers.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.network


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "capture_config.json"
    path.write_text(json.dumps({
        "data_dir": "data", "storage_roots": ["frames"], "layout": "flat",
        "notifications": {"ops": {"url": url, "events": ["disk.low"]}},
    }))  # fmt: skip
    return path


def test_notify_test_sends_once_and_says_how_it_went(tmp_path: Path, capsys) -> None:
    with WebhookReceiver(statuses=[200, 503]) as rx:
        config = _config(tmp_path, rx.url("/hook") + "?token=tok-777777")
        assert main(["notify", "test", "ops", "--config", str(config)]) == 0
        (got,) = rx.wait_for(1)
        out = capsys.readouterr().out
        assert "ops -> " in out and ": delivered (HTTP 200)" in out
        assert main(["notify", "test", "ops", "--config", str(config)]) == 1
        assert len(rx.wait_for(2)) == 2  # a test is tried once: no retry of the 503
        assert ": failed (HTTP 503" in capsys.readouterr().out
    assert json.loads(got.body)["event"] == "disk.low"
    assert main(["notify", "log", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "failed after 1 tries" in lines[0] and "(test)" in lines[0]
    assert "delivered" in lines[1]
    assert "tok-777777" not in "\n".join(lines)


def test_an_unknown_rule_names_the_known_ones(tmp_path: Path, capsys) -> None:
    config = _config(tmp_path, "https://h.invalid/x")
    assert main(["notify", "test", "nope", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "no notification rule 'nope'; the config has: ops" in err
