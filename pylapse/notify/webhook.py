"""Webhooks: an event as a JSON POST, signed so the receiver can trust it.

The body is the event's JSON (:meth:`~pylapse.notify.events.Event.to_json`) plus the rule's id.
With a secret, :data:`SIGNATURE_HEADER` carries ``sha256=<hex>``, the HMAC-SHA256 under the
secret of ``<timestamp>.<body>``, where ``<timestamp>`` is :data:`TIMESTAMP_HEADER` (Unix
seconds). Signing the time with the body lets a receiver refuse an old message replayed later
(the scheme of Stripe's and Slack's webhooks); to check one, compute the same HMAC over the
raw body bytes and compare in constant time (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from pylapse.notify.attempt import Attempt
from pylapse.redact import guard_loggers, mask_secrets

__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "build_request",
    "post",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Pylapse-Signature"
TIMESTAMP_HEADER = "X-Pylapse-Timestamp"
EVENT_HEADER = "X-Pylapse-Event"
USER_AGENT = "pyLapse-notify"
# statuses worth another try: the receiver is overloaded, restarting or timed out
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 under ``secret`` of ``b"<timestamp>." + body``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(secret: str, timestamp: int | str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is :func:`sign` of these (for receivers, in constant time)."""
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def build_request(
    payload: Mapping[str, Any], secret: str | None, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery (signed when there is a secret)."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: str(payload.get("event", "")),
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return body, headers


def post(
    url: str,
    payload: Mapping[str, Any],
    secret: str | None,
    *,
    timeout: float = 10.0,
    now: float | None = None,
) -> Attempt:
    """POST ``payload`` to ``url`` once; never raises for what the network or receiver does."""
    body, headers = build_request(payload, secret, int(time.time() if now is None else now))
    guard_loggers()  # httpx logs each request's URL, token and password included
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        # the error text may repeat the URL with its token: masked, and the secret too
        detail = mask_secrets(f"{type(exc).__name__}: {exc}", secret)
        return Attempt(False, detail, retry=True)
    except ValueError as exc:  # a URL httpx cannot use
        return Attempt(False, mask_secrets(f"bad URL: {exc}", secret), retry=False)
    if response.is_success:
        return Attempt(True, f"HTTP {response.status_code}")
    reason = response.reason_phrase or ""
    return Attempt(
        False,
        f"HTTP {response.status_code} {reason}".strip(),
        retry=response.status_code in _RETRY_STATUS,
    )
