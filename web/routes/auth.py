"""Login and logout (see :mod:`web.security` for when a login is needed)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from web import security
from web.deps import TemplatesDep

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
def login(
    request: Request,
    templates: TemplatesDep,
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    guard = security.guard(request)
    client = security.client_host(request)
    if guard.too_many_failures(client):
        return _page(
            request,
            templates,
            next_=next,
            status=429,
            error="Too many wrong passwords; wait a few minutes and try again.",
        )
    if not guard.check_password(client, password):
        return _page(request, templates, next_=next, error="Wrong password.", status=401)
    security.log_in(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    security.log_out(request)
    return RedirectResponse("/login", status_code=303)
