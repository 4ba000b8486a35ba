"""Who may use the dashboard: Host check, sessions, login and CSRF.

The rules, in order, for every HTTP request:

1. **Host header.** Accepted: ``localhost``, ``127.0.0.1``, ``[::1]``, the address the server is
   bound to, every name in ``web.allowed_hosts`` (``"*"`` there accepts any), and, when bound to
   a wildcard address (``0.0.0.0``/``::``), any IP literal and this machine's host name. Anything
   else gets ``400``: it defeats DNS-rebinding, where a hostile page resolves its own name to
   127.0.0.1 to reach a dashboard that trusts loopback.
2. **Session.** A cookie holding a random id and whether it claims a login (so only those
   cost a database lookup), signed with a per-install secret
   (``<data_dir>/web-secret.key``); HttpOnly, SameSite=Strict, and ``Secure`` when the request
   came over HTTPS (directly, or through a trusted proxy that says so in ``X-Forwarded-Proto``).
   The CSRF token is derived from the id. A logged-in id is also recorded on the server
   (:mod:`web.sessions`), so logging out, a password change and the 14 days' expiry end it there,
   whatever copy of the cookie is replayed later, also after a restart.
3. **Login** is required unless the client is on loopback *and* no password is set (a
   single-user desktop install stays friction-free; ``pylapse web`` refuses to bind a non-loopback
   address without a password anyway). With a password set, loopback clients log in too, so a
   shared machine is protected. A non-loopback client with no password configured cannot log in
   at all and is told to run ``pylapse set-password``. Requests relayed by a reverse proxy
   (``Forwarded``/``X-Forwarded-For``/``X-Real-IP``) never count as loopback.
4. **CSRF.** Every POST/PUT/PATCH/DELETE carries the session's token, as the ``X-CSRF-Token``
   header (htmx sends it from ``hx-headers`` on ``<body>``) or the ``csrf_token`` form field;
   otherwise ``403``.
5. **Response headers** on every response, pages, partials, static files and errors alike
   (:mod:`web.headers`): a Content-Security-Policy that runs scripts only from this server's
   own files (no inline script, no ``eval``; htmx is told so by the ``htmx-config`` meta tag)
   and styles only from its stylesheets, and refuses framing; ``X-Content-Type-Options:
   nosniff``; ``Referrer-Policy: same-origin``.

Wrong passwords are throttled per client (:mod:`web.throttle`). The client is the socket's
peer, except when that peer is one of ``web.trusted_proxies``: then it is the right-most
``X-Forwarded-For`` address that is not itself a trusted proxy (the one our proxy saw); how the
client, loopback and a Host name are told is :mod:`web.clients`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import socket
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pylapse import storage
from web.clients import (
    LOOPBACK_NAMES,
    PROXY_HEADERS,
    Network,
    forwarded_client,
    forwarded_https,
    host_name,
    is_ip,
    is_loopback,
    trusted_networks,
)
from web.sessions import SESSION_MAX_AGE, SessionStore
from web.throttle import LoginThrottle

if TYPE_CHECKING:
    from pylapse.runtime import Runtime

COOKIE = "pylapse_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SECRET_FILE = "web-secret.key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths reachable without logging in: the login form itself and the static assets it uses.
PUBLIC_PATHS = frozenset({"/login"})
PUBLIC_PREFIXES = ("/static/",)
VERIFY_AT_ONCE = 2  # argon2 verifications running at once (64 MiB of memory each)
_STATE_KEY = "pylapse_session"

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


# -- sessions ------------------------------------------------------------------------------------


def _new_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    """One browser's session. ``authenticated`` is what the store confirmed for this request."""

    id: str = field(default_factory=_new_id)
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    authenticated: bool = False
    dirty: bool = True  # send a Set-Cookie with the response


def _verify(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(PasswordHasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


class Guard:
    """Settings, signing, sessions and login throttling for the checks above; one per app, kept
    on ``app.state.guard``."""

    def __init__(self, runtime: Runtime, *, bound_host: str | None = None) -> None:
        self.runtime = runtime
        self.bound_host = (bound_host or "127.0.0.1").strip("[]").lower()
        self._secret = load_secret(runtime.config.data_path)
        self._serializer = URLSafeTimedSerializer(self._secret, salt="pylapse-session")
        self.sessions = SessionStore(runtime.db_path)
        self.throttle = LoginThrottle()
        # one limiter per event loop (a test may drive one app from several)
        self._verifiers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    def close(self) -> None:
        self.sessions.close()

    # -- configuration, read live so a settings change applies at once ---------------------------
    @property
    def password_hash(self) -> str | None:
        return self.runtime.config.web.password_hash

    def password_tag(self) -> str:
        value = self.password_hash or ""
        return hashlib.sha256(value.encode()).hexdigest()[:16] if value else ""

    def trusted_proxies(self) -> tuple[Network, ...]:
        return trusted_networks(tuple(self.runtime.config.web.trusted_proxies))

    def host_allowed(self, header: str | None) -> bool:
        if not header:
            return False
        name = host_name(header)
        extra = {host_name(h) for h in self.runtime.config.web.allowed_hosts}
        if "*" in extra or name in LOOPBACK_NAMES or name == self.bound_host or name in extra:
            return True
        if self.bound_host in ("0.0.0.0", "::", ""):
            machine = socket.gethostname().lower()
            return is_ip(name) or name in (machine, machine + ".local", socket.getfqdn().lower())
        return False

    def login_required(self, client_host: str | None, headers: Headers | None = None) -> bool:
        """Whether this client must log in. A request relayed by a proxy (it carries
        ``Forwarded``/``X-Forwarded-For``/``X-Real-IP``) comes from wherever the proxy's client
        is, so it never counts as loopback, even though the proxy connects from 127.0.0.1."""
        if self.password_hash:
            return True
        relayed = headers is not None and any(h in headers for h in PROXY_HEADERS)
        return relayed or not is_loopback(client_host)

    def client_address(self, scope: Scope, headers: Headers) -> str:
        client = scope.get("client")
        peer = str(client[0]) if client else ""
        return forwarded_client(peer, headers, self.trusted_proxies())

    def is_https(self, scope: Scope, headers: Headers) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        peer = str(client[0]) if client else ""
        return forwarded_https(peer, headers, self.trusted_proxies())

    # -- cookie ----------------------------------------------------------------------------------
    def new_session(self, *, authenticated: bool = False) -> Session:
        session_id = _new_id()
        return Session(session_id, self._csrf_for(session_id), authenticated)

    def _csrf_for(self, session_id: str) -> str:
        digest = hmac.new(self._secret, b"csrf:" + session_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def decode(self, cookie: str | None) -> Session:
        """The session a cookie names; ``authenticated`` is only its claim, to be confirmed
        with :meth:`still_logged_in`. A missing, tampered or old-format cookie: a new session."""
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE)
                session_id = data["i"]
                if isinstance(session_id, str) and 20 <= len(session_id) <= 100:
                    found = Session(session_id, self._csrf_for(session_id), bool(data["a"]))
                    found.dirty = False
                    return found
            except (BadSignature, KeyError, TypeError, ValueError):
                pass
        return self.new_session()

    async def still_logged_in(self, session: Session) -> bool:
        """Whether the server still has this login (not logged out, not expired, same
        password); read in a worker thread (the database may be busy with a writer)."""
        tag = self.password_tag()
        return await anyio.to_thread.run_sync(self.sessions.valid, session.id, tag)

    def encode(self, session: Session) -> str:
        return self._serializer.dumps({"i": session.id, "a": int(session.authenticated)})

    def set_cookie_header(self, session: Session, *, secure: bool = False) -> bytes:
        value = self.encode(session)
        flags = "; Secure" if secure else ""
        return (
            f"{COOKIE}={value}; Path=/; Max-Age={SESSION_MAX_AGE}; HttpOnly; SameSite=Strict{flags}"
        ).encode("latin-1")

    # -- login -----------------------------------------------------------------------------------
    async def verify_password(self, password: str) -> bool:
        """Check ``password`` against the hash in a worker thread (argon2 takes tens of
        milliseconds and 64 MiB: the event loop keeps serving, and only a few run at once)."""
        if not self.password_hash:
            return False
        loop = asyncio.get_running_loop()
        limiter = self._verifiers.get(loop)
        if limiter is None:
            limiter = self._verifiers[loop] = anyio.CapacityLimiter(VERIFY_AT_ONCE)
        return await anyio.to_thread.run_sync(
            _verify, self.password_hash, password, limiter=limiter
        )


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
    """The socket's peer (which decides whether a request is from loopback)."""
    return request.client.host if request.client else ""


def client_address(request: Request) -> str:
    """The client as far as we can tell: behind a trusted proxy, the proxy's client."""
    return guard(request).client_address(request.scope, request.headers)


async def log_in(request: Request) -> None:
    """Start a fresh authenticated session, recorded on the server (a new id and CSRF token:
    no session fixation). Raises :class:`web.sessions.SessionStoreError` when it cannot be
    saved."""
    g = guard(request)
    fresh = g.new_session(authenticated=True)
    await anyio.to_thread.run_sync(g.sessions.create, fresh.id, g.password_tag())
    request.scope["state"][_STATE_KEY] = fresh


def log_out(request: Request) -> None:
    """End the session on the server too: a copy of the cookie no longer logs anyone in."""
    g = guard(request)
    current = session(request)
    if current.authenticated:
        g.sessions.revoke(current.id)
    request.scope["state"][_STATE_KEY] = g.new_session()


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
        current = self.guard.decode(_cookie(headers.get("cookie", "")))
        if current.authenticated and not await self.guard.still_logged_in(current):
            current = self.guard.new_session()  # logged out, expired or password changed
        state = scope.setdefault("state", {})
        state[_STATE_KEY] = current
        secure = self.guard.is_https(scope, headers)
        client = scope.get("client")
        host = client[0] if client else None
        path: str = scope.get("path", "")
        if (
            self.guard.login_required(host, headers)
            and not current.authenticated
            and path not in PUBLIC_PATHS
            and not path.startswith(PUBLIC_PREFIXES)
        ):
            await self._deny(scope, headers, send, current, secure)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                final = state.get(_STATE_KEY, current)
                if final.dirty or final is not current:
                    final.dirty = False
                    cookie = self.guard.set_cookie_header(final, secure=secure)
                    message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _deny(
        self, scope: Scope, headers: Headers, send: Send, current: Session, secure: bool
    ) -> None:
        path = scope.get("path", "/")
        query = scope.get("query_string", b"").decode("latin-1")
        target = "/login?next=" + quote(path + ("?" + query if query else ""), safe="")
        cookie = (
            [(b"set-cookie", self.guard.set_cookie_header(current, secure=secure))]
            if current.dirty
            else []
        )
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
