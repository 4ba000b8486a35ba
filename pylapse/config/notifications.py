"""A notification rule of the config file (issue 20 §3): ``notifications: {ID: {"url": ...,
"events": [...], "secret": ..., "cooldown": ...}}``. What delivers them: :mod:`pylapse.notify`."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from pylapse.config.base import _Model
from pylapse.notify.events import EventKind, is_event_pattern

__all__ = ["NotificationConfig"]


class NotificationConfig(_Model):
    """One notification rule: where messages go and which events they are about."""

    url: str = Field(
        min_length=1,
        description="an http(s) URL (a signed JSON webhook) or an Apprise URL (mailto://, "
        "tgram://, ntfy://, discord://, json://...)",
    )
    events: list[str] = Field(
        default_factory=lambda: ["*"],
        description="event names (camera.offline, render.done, ...), 'camera.*' or '*'",
    )
    secret: str | None = Field(None, description="signs webhook bodies (never shown)")
    cooldown: float = Field(
        300.0, ge=0, description="seconds between two messages about the same subject"
    )
    kind: Literal["auto", "webhook", "apprise"] = Field(
        "auto", description="'auto' (http(s) is a webhook, else Apprise), 'webhook' or 'apprise'"
    )
    enabled: bool = Field(True, description="a disabled rule keeps its settings, sends nothing")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://.", value):
            raise ValueError(
                "not a URL (it may hold a password, so it is not repeated here); use an "
                "http(s):// webhook or an Apprise URL such as mailto://, tgram://, ntfy://, "
                "discord:// or json://"
            )
        return value

    @field_validator("events")
    @classmethod
    def _check_events(cls, value: list[str]) -> list[str]:
        for name in value:
            if not is_event_pattern(name):
                families = sorted({f"{kind.family}.*" for kind in EventKind})
                accepted = ", ".join(["*", *families, *(kind.value for kind in EventKind)])
                raise ValueError(f"{name!r} is not an event; accepted: {accepted}")
        if not value:
            raise ValueError("no events: name at least one (or '*' for all)")
        return value
