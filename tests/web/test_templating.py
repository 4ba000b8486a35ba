"""Template filters: sizes, durations, times in a zone, safe ids; autoescape everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pylapse import timeutil
from web import templating


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KB"), (5 * 1024**3, "5.0 GB")],
)
def test_filesize(value, text: str) -> None:
    assert templating.filesize(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (12.4, "12 s"), (200, "3 min 20 s"), (3900, "1 h 05 min"), (90000, "1 d 1 h")],
)
def test_duration(seconds, text: str) -> None:
    assert templating.duration(seconds) == text


def test_localtime_shows_an_instant_in_a_zone() -> None:
    instant = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert templating.localtime(instant, "Asia/Tokyo") == "2026-07-01 21:00:00 JST"
    assert templating.localtime(instant, timeutil.zone("Europe/Berlin")) == (
        "2026-07-01 14:00:00 CEST"
    )
    assert templating.localtime(instant.timestamp(), "UTC", "%H:%M ") == "12:00 UTC"
    assert templating.localtime(None) == "–"


def test_domid() -> None:
    assert templating.domid("demo-1") == "demo-1"
    odd = templating.domid('a b"<x>')
    assert odd.startswith("a-b--x--") and all(c.isalnum() or c in "-_" for c in odd)
    assert templating.domid("a b") != templating.domid("a-b")


def test_autoescape_is_on_for_every_template() -> None:
    env = templating.create_templates().env
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
