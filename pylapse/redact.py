"""Keeping camera credentials out of everything pyLapse shows, logs or stores.

Cameras carry their secrets in many shapes: ``user:pass@`` in the URL (the password possibly
holding ``/``, ``@``, ``:``, ``#`` or ``?``, typed unencoded), and query parameters with every
vendor's spelling (``pwd``, ``loginpas``, ``cam_pass``, ``pass_word``, ``token``, ``sig``, ...).
:func:`mask_secrets` is the one place that finds them, in a URL or anywhere in a text (an error
message, a tool's stderr, a log line); :func:`mask_url` is the same for a single URL.
:class:`SecretFilter` applies it to every log record, so third-party loggers that print request
URLs (httpx logs every request at INFO) are masked too.

The rules err on the side of hiding: a parameter is secret when its name *contains* one of the
words in :data:`SECRET_WORDS`, and an ``@`` followed by something host-like ends a password
even after a ``/`` (so ``http://cam/x?mail=a@b.org`` shows as ``http://cam/x?mail=a@b.org``
but ``http://cam:80/x?mail=a@b.org`` loses its path in logs: a price worth paying).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

__all__ = [
    "MASK",
    "SECRET_WORDS",
    "SecretFilter",
    "guard_loggers",
    "is_secret_name",
    "mask_logging",
    "mask_secrets",
    "mask_url",
    "restore_masked_url",
    "userinfo_end",
]

MASK = "***"
# a query parameter (or quoted key) whose name contains one of these holds a secret:
# pwd/psw/passwd/password/loginpas/cam_pass/pass_word, token/access_token, apikey/api_key/key,
# sig/signature, auth/authkey, secret/client_secret, credentials, session ids
SECRET_WORDS = ("pas", "pw", "psw", "secret", "token", "key", "sig", "auth", "cred", "sess")
_SECRET_NAME = re.compile("|".join(SECRET_WORDS), re.I)

# the start of a URL inside a text; its authority runs until a character that ends a token
_SCHEME = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://")
_TOKEN_END = re.compile(r"[\s\"'<>`]")
# what must follow an "@" for it to end the userinfo: a host, then the rest of a URL
_HOST_AFTER = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%\-]+)(?=[/?#:)\]},;]|$)")
# name=value anywhere (query strings, command lines, cookies); the value runs to & or a blank,
# less punctuation that ends a sentence ("...?pwd=x: HTTP 401" keeps its colon)
_PARAM = re.compile(
    r"(?<![\w.\-\[\]%])(?P<name>[\w.\-\[\]%]+)="
    r"(?P<value>[^&\s#\"'<>]*?)(?=[&#\"'<>]|[:,;.)]*(?:\s|$))"
)
# "name": "value" and 'name': 'value' (JSON, Python reprs in tracebacks)
_QUOTED = re.compile(
    r"(?P<q>[\"'])(?P<name>[\w.\-]+)(?P=q)(?P<sep>\s*:\s*)(?P<v>[\"'])(?P<value>.*?)(?<!\\)(?P=v)"
)
# an Authorization header's credentials (basic, bearer, ...)
_AUTH_HEADER = re.compile(r"(?i)\b(?P<name>(?:proxy-)?authorization)(?P<sep>\s*[:=]\s*)"
                          r"(?P<value>(?:[A-Za-z]+\s+)?[^\s,;\"']+)")  # fmt: skip


def is_secret_name(name: str) -> bool:
    """Whether a parameter or key named ``name`` carries a secret (case-insensitive, any
    spelling that contains a word of :data:`SECRET_WORDS`)."""
    return bool(_SECRET_NAME.search(unquote_plus(name)))


def mask_url(url: str | None) -> str:
    """``url`` with its secrets replaced by ``***``: the password of ``user:pass@`` (the user
    name stays, so a log still says which account was used) and the values of secret-named
    query parameters. Everything else is kept character for character."""
    return mask_secrets(url) if url else ""


def mask_secrets(text: str, *secrets: str | None) -> str:
    """``text`` with every credential in it replaced by ``***``.

    ``secrets`` are known values (a camera's password) masked wherever they occur, as typed and
    percent-encoded; beyond them the text is searched for URL passwords, secret-named
    parameters (``pwd=...``, ``"token": "..."``) and Authorization headers.
    """
    if not text:
        return text
    for secret in secrets:
        if secret:  # as typed, and percent-encoded as URLs and forms carry it (longest first)
            forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
            for form in sorted(forms, key=len, reverse=True):
                text = text.replace(form, MASK)
    if "://" in text:
        text = _mask_userinfo(text)
    if "=" in text:
        text = _PARAM.sub(_masked_value, text)
    if ":" in text:
        text = _QUOTED.sub(_masked_value, text)
        text = _AUTH_HEADER.sub(_masked_header, text)
    return text


def _masked_value(match: re.Match[str]) -> str:
    value = match["value"]
    if not value or value == MASK:
        return match[0]
    if is_secret_name(match["name"]):
        value = MASK
    elif "%3a%2f%2f" in value.lower():  # a URL inside a URL (?url=http%3A%2F%2Fuser%3Apw%40...)
        inner = unquote_plus(value)
        masked = mask_secrets(inner)
        if masked == inner:
            return match[0]
        value = quote(masked, safe="*")
    else:
        return match[0]
    start, end = match.span("value")
    whole = match.start()
    return match[0][: start - whole] + value + match[0][end - whole :]


def _masked_header(match: re.Match[str]) -> str:
    return f"{match['name']}{match['sep']}{MASK}"


def _mask_userinfo(text: str) -> str:
    out: list[str] = []
    pos = 0
    for scheme in _SCHEME.finditer(text):
        start = scheme.end()
        if start < pos:  # inside the previous URL
            continue
        stop = _TOKEN_END.search(text, start)
        token = text[start : stop.start() if stop else len(text)]
        at = userinfo_end(token)
        if at < 0:
            continue
        user, sep, password = token[:at].partition(":")
        if not sep or not password or password == MASK:
            continue
        out.append(text[pos:start] + f"{user}:{MASK}")
        pos = start + at
    out.append(text[pos:])
    return "".join(out)


def userinfo_end(rest: str) -> int:
    """Where the ``user:password`` part of a URL ends (the index of its ``@`` in ``rest``, the
    URL after ``scheme://``), or -1 when it has none.

    The standard reading ends the authority at the first ``/``, ``?`` or ``#``; people type
    passwords holding those unencoded, so the last ``@`` that is followed by something host-like
    counts too, as long as the text before it starts with a user name and a ``:``.
    """
    authority = re.match(r"[^/?#]*", rest)
    best = rest.rfind("@", 0, authority.end() if authority else 0)
    colon = rest.find(":")
    if colon < 0 or re.search(r"[/?#@]", rest[:colon]):
        return best
    at = rest.find("@", colon)
    while at >= 0:
        if at > best and _HOST_AFTER.match(rest, at + 1):
            best = at
        at = rest.find("@", at + 1)
    return best


def restore_masked_url(url: str, original: str | None) -> str:
    """``url`` as submitted from a form that showed :func:`mask_url` of ``original``: wherever
    it still says ``***`` where ``original`` had a secret (the password after ``user:``, a
    secret parameter's value), the original secret is put back, so editing another part of a
    masked URL keeps its credentials. Anything the user typed over stays as typed."""
    if not original or MASK not in url:
        return url
    if url == mask_url(original):
        return original
    old = _secret_parts(original)
    new = _secret_parts(url)
    if "password" in new and new["password"][0] == MASK and "password" in old:
        start, end = new["password"][1]
        url = url[:start] + old["password"][0] + url[end:]
    params = {k[6:]: v for k, v in old.items() if k.startswith("param:")}

    def put_back(match: re.Match[str]) -> str:
        name = match["name"]
        if match["value"] != MASK or name not in params:
            return match[0]
        return f"{name}={params[name][0]}"

    return _PARAM.sub(put_back, url)


def _secret_parts(url: str) -> dict[str, tuple[str, tuple[int, int]]]:
    """The secrets of one URL with their spans: ``password`` and ``param:<name>``."""
    parts: dict[str, tuple[str, tuple[int, int]]] = {}
    scheme = _SCHEME.match(url)
    if scheme:
        rest = url[scheme.end() :]
        at = userinfo_end(rest)
        colon = rest.find(":", 0, at) if at >= 0 else -1
        if colon >= 0:
            span = (scheme.end() + colon + 1, scheme.end() + at)
            parts["password"] = (url[span[0] : span[1]], span)
    for match in _PARAM.finditer(url):
        if is_secret_name(match["name"]):
            parts.setdefault(f"param:{match['name']}", (match["value"], match.span("value")))
    return parts


# --- logging ------------------------------------------------------------------------------------


class SecretFilter(logging.Filter):
    """Masks credentials in every record it sees: the message with its arguments, and the
    traceback text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = _masked_args(record.args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging itself reports it
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def _masked_args(args: Any) -> Any:
    """Record arguments with secrets masked one by one, keeping their shape (uvicorn's access
    log formatter unpacks its arguments)."""
    if isinstance(args, dict):
        return {k: _masked_arg(v) for k, v in args.items()}
    if isinstance(args, tuple):
        return tuple(_masked_arg(a) for a in args)
    return args


def _masked_arg(value: Any) -> Any:
    if value is None or isinstance(value, int | float | bool):
        return value
    try:
        text = str(value)
    except Exception:  # a broken __str__: logging reports it when it formats the record
        return value
    masked = mask_secrets(text)
    return value if masked == text else masked


def _add_filter(target: logging.Handler | logging.Logger) -> None:
    if not any(isinstance(f, SecretFilter) for f in target.filters):
        target.addFilter(SecretFilter())


def mask_logging(*loggers: logging.Logger) -> None:
    """Put a :class:`SecretFilter` on every handler of the root logger and of ``loggers`` (a
    handler filters every record it writes, whichever logger it came from). For applications:
    the CLI calls it once its handlers exist."""
    for logger in (logging.getLogger(), *loggers):
        for handler in logger.handlers:
            _add_filter(handler)


# loggers of the libraries pyLapse drives that may print a camera's URL or cookies
THIRD_PARTY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def guard_loggers(names: Iterable[str] = THIRD_PARTY_LOGGERS) -> None:
    """Put a :class:`SecretFilter` on the named loggers themselves, so what they log is masked
    before any handler sees it (also handlers the host application or a test adds). Called by
    the sources that use these libraries; adding it twice does nothing."""
    for name in names:
        _add_filter(logging.getLogger(name))
