"""Apprise targets: email, Telegram, Discord, Slack, ntfy and a hundred more by URL.

`Apprise <https://github.com/caronc/apprise>`_ turns a URL (``mailto://user:pass@host``,
``tgram://bottoken/chat``, ``ntfy://host/topic``, ``json://host:port/path``...) into a message
on that service. Its errors go to its own logger, so a send captures them to say what went
wrong. Apprise keeps secrets in places our generic masking cannot know (a Telegram bot token is
the URL's host), so :func:`masked` asks the service plugin for its own privacy form.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from pylapse.notify.attempt import Attempt
from pylapse.redact import MASK, THIRD_PARTY_LOGGERS, guard_loggers, mask_secrets

__all__ = ["masked", "send"]

# Apprise's log capture hooks its one logger: one send at a time keeps each error with its send
_SEND_LOCK = threading.Lock()


def send(url: str, title: str, body: str, *, failure: bool = False) -> Attempt:
    """Send one message to the Apprise ``url``; never raises."""
    import apprise  # only when an Apprise rule sends (it loads its plugins on first use)

    guard_loggers((*THIRD_PARTY_LOGGERS, "apprise"))  # Apprise's plugins post through requests

    target = apprise.Apprise()
    if not target.add(url):
        return Attempt(False, f"not a URL Apprise understands: {masked(url)}", retry=False)
    kind = apprise.NotifyType.FAILURE if failure else apprise.NotifyType.INFO
    capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with _SEND_LOCK, capture as captured:
        try:
            ok = bool(target.notify(body=body, title=title, notify_type=kind))
        except Exception as exc:  # a plugin's bug must not end the delivery thread
            ok, captured_error = False, f"{type(exc).__name__}: {exc}"
        else:
            captured_error = ""
        text = captured.getvalue() if hasattr(captured, "getvalue") else ""
    if ok:
        return Attempt(True, "sent")
    lines = [line for line in [*text.strip().splitlines(), captured_error] if line]
    detail = "; ".join(lines[-3:]) or "Apprise reported a failure"
    return Attempt(False, mask_secrets(detail, *_secret_parts(url, target)), retry=True)


def masked(url: str) -> str:
    """``url`` as it may be shown: the service plugin's privacy form (secrets cut to their
    first and last character or ``****``) without its query of defaults; ``scheme://***`` when
    Apprise does not know the URL."""
    import apprise

    try:
        plugin = apprise.Apprise.instantiate(url)
    except Exception:  # Apprise refusing a URL is the same as not knowing it
        plugin = None
    if not plugin:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://{MASK}"
    shown = str(plugin.url(privacy=True)).split("?", 1)[0]  # type: ignore[no-untyped-call]
    return mask_secrets(shown)


def _secret_parts(url: str, target: Any) -> list[str]:
    """The pieces of ``url`` its plugin hides in its privacy form (a bot token, a password):
    an error text quoting them loses them too."""
    rest = url.split("://", 1)[-1].split("?", 1)[0]
    parts = rest.replace("@", "/").replace(":", "/").split("/")
    try:
        shown = " ".join(str(u) for u in target.urls(privacy=True))
    except Exception:  # without the privacy form every piece counts as secret
        shown = ""
    return [p for p in parts if len(p) >= 3 and p not in shown]
