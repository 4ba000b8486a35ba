"""Notifications: events (a camera offline, a render done, the disk low) sent to webhooks and
Apprise URLs by rules with cooldowns, logged in ``pylapse.db``.

This face re-exports the wing's public names lazily (see pylapse.lazy_face).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylapse.lazy_face import lazy_face

if TYPE_CHECKING:
    from pylapse.notify.attempt import Attempt
    from pylapse.notify.deliverylog import Delivery, DeliveryLog, DeliveryStatus
    from pylapse.notify.events import Event, EventKind
    from pylapse.notify.notifier import Backoff, Notifier
    from pylapse.notify.rules import Rule, TargetKind

_WHERE = {
    "Attempt": "attempt",
    "Backoff": "notifier",
    "Delivery": "deliverylog",
    "DeliveryLog": "deliverylog",
    "DeliveryStatus": "deliverylog",
    "Event": "events",
    "EventKind": "events",
    "Notifier": "notifier",
    "Rule": "rules",
    "TargetKind": "rules",
}

__all__ = [
    "Attempt",
    "Backoff",
    "Delivery",
    "DeliveryLog",
    "DeliveryStatus",
    "Event",
    "EventKind",
    "Notifier",
    "Rule",
    "TargetKind",
]

__getattr__, __dir__ = lazy_face(__name__, _WHERE)
