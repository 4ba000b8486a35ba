"""Login and logout (see :mod:`web.security` for when a login is needed)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web import security
from web.deps import TemplatesDep
from web.sessions import SessionStoreError

router = APIRouter(tags=["auth"], include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only same-site paths: ``next=//evil.example`` or ``https://…`` must not redirect away."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _page(request: Request, templates, *, next_: str, error: str = "", status: int = 200):
    context = {
        "page_title": "Log in",
        "bare": True,
        "next": _safe_next(next_),
        "error": error,
        "can_log_in": security.password_set(request),
    }
    return templates.TemplateResponse(request, "login.html", context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, templates: TemplatesDep, next: str = "/"):
    return _page(request, templates, next_=next)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    templates: TemplatesDep,
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    guard = security.guard(request)
    client = security.client_address(request)
    # counted before the hash is checked: parallel guesses cannot all slip past the limit
    verdict = guard.throttle.begin(client)
    if not verdict.allowed:
        wait = verdict.retry_after_seconds
        response = _page(
            request,
            templates,
            next_=next,
            status=429,
            error=f"Too many wrong passwords; try again in {_seconds(wait)}.",
        )
        response.headers["Retry-After"] = str(wait)
        return response
    if not await guard.verify_password(password):
        return _page(request, templates, next_=next, error="Wrong password.", status=401)
    guard.throttle.succeeded(client)
    try:
        await security.log_in(request)
    except SessionStoreError as exc:
        return _page(request, templates, next_=next, error=f"Not logged in: {exc}", status=503)
    return RedirectResponse(_safe_next(next), status_code=303)


def _seconds(wait: int) -> str:
    return f"{wait} seconds" if wait < 120 else f"{-(-wait // 60)} minutes"


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    security.log_out(request)
    return RedirectResponse("/login", status_code=303)
