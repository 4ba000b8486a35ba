"""Notification rules: where a message goes and which events it wants.

A rule is one entry of the config's ``notifications``: a target URL, the events it takes
(names or ``family.*`` wildcards, see :mod:`pylapse.notify.events`), a secret that signs
webhook bodies, and a cooldown. Its :class:`TargetKind` says how it is delivered: a plain
``http(s)://`` URL is a webhook (a signed JSON POST); any other scheme (``mailto://``,
``tgram://``, ``ntfy://``, ``json://``...) goes through Apprise. A service Apprise knows by its
``https://`` address (a Discord or Slack webhook URL) is sent through Apprise with
``"kind": "apprise"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pylapse.notify.events import Event, EventKind, expand_pattern
from pylapse.redact import mask_url

__all__ = ["DEFAULT_COOLDOWN", "Rule", "TargetKind", "target_kind"]

DEFAULT_COOLDOWN = 300.0  # seconds: a camera flapping every minute sends one message in five


class TargetKind(StrEnum):
    AUTO = "auto"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


def target_kind(url: str, declared: TargetKind | str = TargetKind.AUTO) -> TargetKind:
    """How ``url`` is delivered: ``declared`` unless it is ``auto``; then by the scheme."""
    declared = TargetKind(declared)
    if declared is not TargetKind.AUTO:
        return declared
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return TargetKind.WEBHOOK if scheme in ("http", "https") else TargetKind.APPRISE


@dataclass(frozen=True)
class Rule:
    """One configured target and what it wants; ``kind`` is never ``auto`` here."""

    id: str
    url: str
    events: frozenset[EventKind]
    secret: str | None = None
    cooldown: float = DEFAULT_COOLDOWN
    kind: TargetKind = TargetKind.WEBHOOK
    enabled: bool = True

    @classmethod
    def of(
        cls,
        rule_id: str,
        url: str,
        events: Iterable[str],
        *,
        secret: str | None = None,
        cooldown: float = DEFAULT_COOLDOWN,
        kind: TargetKind | str = TargetKind.AUTO,
        enabled: bool = True,
    ) -> Rule:
        """A rule from config-shaped values; an event name that selects nothing is refused."""
        wanted: set[EventKind] = set()
        for pattern in events:
            found = expand_pattern(pattern)
            if not found:
                accepted = ", ".join(["*", *sorted({f"{k.family}.*" for k in EventKind}),
                                      *(k.value for k in EventKind)])  # fmt: skip
                raise ValueError(
                    f"notifications.{rule_id}.events: {pattern!r} is not an event; "
                    f"accepted: {accepted}"
                )
            wanted |= found
        if cooldown < 0:
            raise ValueError(f"notifications.{rule_id}.cooldown: must be >= 0, got {cooldown}")
        return cls(
            rule_id, url, frozenset(wanted), secret or None, float(cooldown),
            target_kind(url, kind), enabled,
        )  # fmt: skip

    def matches(self, event: Event) -> bool:
        """Whether this rule wants ``event`` (a disabled rule wants nothing)."""
        return self.enabled and event.kind in self.events

    @property
    def masked_url(self) -> str:
        """The target as pages and logs show it: passwords, tokens and keys masked."""
        if self.kind is TargetKind.APPRISE:
            from pylapse.notify.apprise_target import masked  # loads Apprise: only when shown

            return masked(self.url)
        return mask_url(self.url)
