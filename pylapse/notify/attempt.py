"""The outcome of one try to deliver one message, whatever the target."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Attempt"]


@dataclass(frozen=True)
class Attempt:
    """``ok`` when the target took the message; otherwise ``retry`` says whether trying again
    can help (a timeout or a 503 can; a 404 or a URL Apprise does not know cannot). ``detail``
    is for people (an HTTP status, an error), with secrets already masked."""

    ok: bool
    detail: str
    retry: bool = False
