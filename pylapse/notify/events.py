"""What pyLapse tells people about: :class:`EventKind` (a dotted name per kind of happening)
and :class:`Event` (one happening: its kind, what it is about, when, a line of text, details).

The names are what a user writes in a notification rule's ``events`` list and what a webhook
receives, so they never change once shipped; ``camera.*`` style wildcards select a family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = ["WILDCARD", "Event", "EventKind", "expand_pattern", "is_event_pattern"]

WILDCARD = "*"


class EventKind(StrEnum):
    CAMERA_OFFLINE = "camera.offline"
    CAMERA_BACK = "camera.back"
    CAMERA_FROZEN = "camera.frozen"
    CAMERA_BLANK = "camera.blank"
    CAMERA_DARK = "camera.dark"
    CAPTURE_PAUSED = "capture.paused"
    DISK_LOW = "disk.low"
    EXPORT_DONE = "export.done"
    EXPORT_FAILED = "export.failed"
    RENDER_DONE = "render.done"
    RENDER_FAILED = "render.failed"
    RENDER_SCHEDULED = "render.scheduled"

    @property
    def family(self) -> str:
        """The part before the dot (``camera`` for ``camera.offline``)."""
        return self.value.split(".", 1)[0]


def is_event_pattern(text: str) -> bool:
    """Whether ``text`` names events: an event name, ``family.*`` of a known family, or ``*``."""
    return bool(expand_pattern(text))


def expand_pattern(text: str) -> frozenset[EventKind]:
    """The events ``text`` selects (empty when it names none): ``*`` is every event,
    ``camera.*`` every camera event, anything else one event by its exact name."""
    if text == WILDCARD:
        return frozenset(EventKind)
    if text.endswith(".*"):
        family = text[:-2]
        return frozenset(k for k in EventKind if k.family == family)
    try:
        return frozenset({EventKind(text)})
    except ValueError:
        return frozenset()


def _frozen(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True)
class Event:
    """One happening. ``subject`` is what it is about (a camera id, a job's title, a folder);
    rules cool down per subject, so two cameras going offline are two messages. ``time`` is
    aware and in UTC; ``data`` holds JSON-ready details (a job id, a video's path)."""

    kind: EventKind
    subject: str
    time: datetime
    message: str
    data: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError(f"Event.time must be timezone-aware, got {self.time!r}")
        object.__setattr__(self, "kind", EventKind(self.kind))
        object.__setattr__(self, "time", self.time.astimezone(UTC))
        object.__setattr__(self, "data", _frozen(self.data))

    @classmethod
    def now(
        cls, kind: EventKind, subject: str, message: str, data: Mapping[str, Any] | None = None
    ) -> Event:
        """An event happening now."""
        return cls(kind, subject, datetime.now(UTC), message, _frozen(data))

    def to_json(self) -> dict[str, Any]:
        """The JSON shape webhooks receive (``time`` in ISO 8601 with its ``+00:00``)."""
        return {
            "event": self.kind.value,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "message": self.message,
            "data": dict(self.data),
        }
