"""Who may use the dashboard: Host check, sessions, login and CSRF.

The rules, in order, for every HTTP request:

1. **Host header.** Accepted: ``localhost``, ``127.0.0.1``, ``[::1]``, the address the server is
   bound to, every name in ``web.allowed_hosts`` (``"*"`` there accepts any), and, when bound to
   a wildcard address (``0.0.0.0``/``::``), any IP literal and this machine's host name. Anything
   else gets ``400``: it defeats DNS-rebinding, where a hostile page resolves its own name to
   127.0.0.1 to reach a dashboard that trusts loopback.
2. **Session.** A cookie signed with a per-install secret (``<data_dir>/web-secret.key``), HttpOnly
   and SameSite=Strict, holding a random CSRF token and whether the browser has logged in. It
   expires after 14 days and whenever the password changes.
3. **Login** is required unless the client is on loopback *and* no password is set (a
   single-user desktop install stays friction-free; ``pylapse web`` refuses to bind a non-loopback
   address without a password anyway). With a password set, loopback clients log in too, so a
   shared machine is protected. A non-loopback client with no password configured cannot log in
   at all and is told to run ``pylapse set-password``. Requests relayed by a reverse proxy
   (``Forwarded``/``X-Forwarded-For``/``X-Real-IP``) never count as loopback.
4. **CSRF.** Every POST/PUT/PATCH/DELETE carries the session's token, as the ``X-CSRF-Token``
   header (htmx sends it from ``hx-headers`` on ``<body>``) or the ``csrf_token`` form field;
   otherwise ``403``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pylapse import storage

COOKIE = "pylapse_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = 14 * 24 * 3600
SECRET_FILE = "web-secret.key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths reachable without logging in: the login form itself and the static assets it uses.
PUBLIC_PATHS = frozenset({"/login"})
PUBLIC_PREFIXES = ("/static/",)
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_STATE_KEY = "pylapse_session"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_name(header: str) -> str:
    """The name part of a Host header: 'Example.org:8000' -> 'example.org', '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def load_secret(data_path: Path) -> bytes:
    """The per-install signing secret, created on first use (readable by the owner only)."""
    path = data_path / SECRET_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 32:
            return text.encode("ascii")
    except FileNotFoundError:
        pass
    secret = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    storage.atomic_write(path, secret.encode("ascii"), mode=0o600)
    return secret.encode("ascii")


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    authenticated: bool = False
    password_tag: str = ""  # which password the login was made with
    dirty: bool = True  # send a Set-Cookie with the response


class Guard:
    """Settings and signing for the checks above; one per app, kept on ``app.state.guard``."""

    def __init__(self, runtime: Any, *, bound_host: str | None = None) -> None:
        self.runtime = runtime
        self.bound_host = (bound_host or "127.0.0.1").strip("[]").lower()
        self._serializer = URLSafeTimedSerializer(
            load_secret(runtime.config.data_path), salt="pylapse-session"
        )
        self._failures: dict[str, list[float]] = {}

    # -- configuration, read live so a settings change applies at once ---------------------------
    @property
    def password_hash(self) -> str | None:
        return self.runtime.config.web.password_hash

    def password_tag(self) -> str:
        value = self.password_hash or ""
        return hashlib.sha256(value.encode()).hexdigest()[:16] if value else ""

    def host_allowed(self, header: str | None) -> bool:
        if not header:
            return False
        name = host_name(header)
        extra = {host_name(h) for h in self.runtime.config.web.allowed_hosts}
        if "*" in extra or name in LOOPBACK_NAMES or name == self.bound_host or name in extra:
            return True
        if self.bound_host in ("0.0.0.0", "::", ""):
            machine = socket.gethostname().lower()
            return _is_ip(name) or name in (machine, machine + ".local", socket.getfqdn().lower())
        return False

    def login_required(self, client_host: str | None, headers: Headers | None = None) -> bool:
        """Whether this client must log in. A request relayed by a proxy (it carries
        ``Forwarded``/``X-Forwarded-For``/``X-Real-IP``) comes from wherever the proxy's client
        is, so it never counts as loopback, even though the proxy connects from 127.0.0.1."""
        if self.password_hash:
            return True
        relayed = headers is not None and any(h in headers for h in PROXY_HEADERS)
        return relayed or not is_loopback(client_host)

    # -- cookie ----------------------------------------------------------------------------------
    def decode(self, cookie: str | None) -> Session:
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE)
                session = Session(
                    csrf=str(data["c"]), authenticated=bool(data["a"]), password_tag=str(data["p"])
                )
                session.dirty = False
                if session.authenticated and session.password_tag != self.password_tag():
                    session.authenticated = False  # password changed or removed since login
                    session.dirty = True
                return session
            except (BadSignature, KeyError, TypeError, ValueError):
                pass
        return Session()

    def encode(self, session: Session) -> str:
        data = {"c": session.csrf, "a": session.authenticated, "p": session.password_tag}
        return self._serializer.dumps(data)

    def set_cookie_header(self, session: Session) -> bytes:
        value = self.encode(session)
        return (
            f"{COOKIE}={value}; Path=/; Max-Age={SESSION_MAX_AGE}; HttpOnly; SameSite=Strict"
        ).encode("latin-1")

    # -- login -----------------------------------------------------------------------------------
    def too_many_failures(self, client: str) -> bool:
        """More than 10 wrong passwords from one address in 5 minutes: slow guessing down."""
        cutoff = time.monotonic() - 300
        if len(self._failures) > 1000:  # many addresses: forget the ones that went quiet
            self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > cutoff}
        recent = [t for t in self._failures.get(client, []) if t > cutoff]
        self._failures[client] = recent
        return len(recent) >= 10

    def check_password(self, client: str, password: str) -> bool:
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        if not self.password_hash:
            return False
        try:
            PasswordHasher().verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            self._failures.setdefault(client, []).append(time.monotonic())
            return False
        self._failures.pop(client, None)
        return True


# -- per-request helpers used by routes and templates --------------------------------------------


def session(request: Request) -> Session:
    found = request.scope.get("state", {}).get(_STATE_KEY)
    if found is None:  # a request that did not pass the middleware (should not happen)
        found = Session()
        request.scope.setdefault("state", {})[_STATE_KEY] = found
    return found


def guard(request: Request) -> Guard:
    return request.app.state.guard


def csrf_token(request: Request) -> str:
    return session(request).csrf


def is_authenticated(request: Request) -> bool:
    return session(request).authenticated


def password_set(request: Request) -> bool:
    return bool(guard(request).password_hash)


def client_host(request: Request) -> str:
    return request.client.host if request.client else ""


def log_in(request: Request) -> None:
    """Start a fresh authenticated session (new CSRF token: no session fixation)."""
    fresh = Session(authenticated=True, password_tag=guard(request).password_tag())
    request.scope["state"][_STATE_KEY] = fresh


def log_out(request: Request) -> None:
    request.scope["state"][_STATE_KEY] = Session()


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: unsafe methods must carry the session's CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = session(request).csrf
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(
            status_code=403,
            detail="CSRF token missing or wrong: reload the page and try again",
        )


# -- the middleware ------------------------------------------------------------------------------


class SecurityMiddleware:
    """Host check, session cookie and login gate, as plain ASGI (safe for streaming responses)."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan; the app serves no websockets
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self.guard.host_allowed(headers.get("host")):
            await _plain(send, 400, "Bad Host header: add this name to web.allowed_hosts")
            return
        cookie = _cookie(headers.get("cookie", ""))
        current = self.guard.decode(cookie)
        state = scope.setdefault("state", {})
        state[_STATE_KEY] = current
        client = scope.get("client")
        host = client[0] if client else None
        path: str = scope.get("path", "")
        if (
            self.guard.login_required(host, headers)
            and not current.authenticated
            and path not in PUBLIC_PATHS
            and not path.startswith(PUBLIC_PREFIXES)
        ):
            await self._deny(scope, headers, send, current)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                final = state.get(_STATE_KEY, current)
                if final.dirty or final is not current:
                    final.dirty = False
                    extra = [(b"set-cookie", self.guard.set_cookie_header(final))]
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _deny(self, scope: Scope, headers: Headers, send: Send, current: Session) -> None:
        path = scope.get("path", "/")
        query = scope.get("query_string", b"").decode("latin-1")
        target = "/login?next=" + quote(path + ("?" + query if query else ""), safe="")
        cookie = [(b"set-cookie", self.guard.set_cookie_header(current))] if current.dirty else []
        if path.startswith("/api/") or path == "/events":
            body = json.dumps({"detail": "login required"}).encode()
            await _send(send, 401, body, b"application/json", cookie)
        elif headers.get("hx-request"):
            # htmx swaps would paste the login page into a partial; ask it to navigate instead.
            await _send(
                send,
                401,
                b"login required",
                b"text/plain",
                [*cookie, (b"hx-redirect", target.encode())],
            )
        else:
            await _send(send, 303, b"", b"text/plain", [*cookie, (b"location", target.encode())])


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    await _send(send, status, text.encode(), b"text/plain; charset=utf-8", [])


async def _send(
    send: Send, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
