"""The security headers of every response, pages, partials, static files and errors alike: a
Content-Security-Policy that runs scripts only from this server's own files and refuses
framing, ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "SecurityHeadersMiddleware"]

# Every page's scripts are files of this server (htmx, its SSE extension, app.js, Swagger UI and
# api-docs.js); no template has inline script, event-handler attributes or style attributes, and
# htmx runs with allowEval off. Images: frames and thumbnails, plus the ``data:`` icons of the
# pages and of Swagger UI. The form-action and base-uri rules keep injected markup (were there
# any) from posting elsewhere or re-pointing relative URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate it
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every response that does not set its own. The app puts
    it outside everything else (see :mod:`web.app`), so error pages get them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(item for item in SECURITY_HEADERS if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
