"""The FastAPI application: ``create_app(runtime)`` builds it around one :class:`Runtime`.

Nothing here runs at import time; ``web_ui.py``/``pylapse web`` builds the runtime and the app,
tests build their own. The lifespan starts the runtime (scheduler, job runner) and stops it when
the server shuts down, so a Ctrl-C leaves no capture half-written and no job marked running.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp

from pylapse import __version__
from pylapse.redact import mask_secrets
from pylapse.runtime import Runtime
from web import security
from web.deps import ConfigEditor
from web.templating import create_templates

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Routers in nav order. The optional ones are written separately and included once they exist.
ROUTERS = (
    "auth", "dashboard", "cameras", "settings", "api", "api_control", "api_media", "events",
)
OPTIONAL_ROUTERS = ("collections", "exports", "videos")


def _routers() -> list[str]:
    found = [name for name in OPTIONAL_ROUTERS if importlib.util.find_spec(f"web.routes.{name}")]
    return [*ROUTERS, *found]


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 answer, which quotes what was sent, with any credentials in it masked
    (a camera URL typed into the wrong place must not come back in a response body); a page
    saying in words what is wrong with the address for a browser navigating."""
    if not isinstance(exc, RequestValidationError):  # registered for that type only
        raise exc
    errors = [_masked(error) for error in exc.errors()]
    if _wants_page(request):
        detail = "This address is not one the dashboard understands: " + "; ".join(
            _problem_in_words(error) for error in errors
        )
        return _error_page(request, 422, detail)
    return await request_validation_exception_handler(request, RequestValidationError(errors))


_EXPECTED = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "yes or no (true/false)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_parsing": "a date and time (YYYY-MM-DDTHH:MM)",
}
_LIMITS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def _problem_in_words(error: object) -> str:
    """One request problem as a sentence for people (not pydantic's wording or its codes)."""
    if not isinstance(error, dict):
        return str(error)
    loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
    name = ".".join(loc) or "the request"
    kind = str(error.get("type", ""))
    got = error.get("input")
    shown = f" (not {str(got)[:40]!r})" if isinstance(got, str | int | float) else ""
    if kind == "missing":
        return f"{name} is missing"
    if kind in _EXPECTED:
        return f"{name} must be {_EXPECTED[kind]}{shown}"
    if kind in _LIMITS:
        words, key = _LIMITS[kind]
        limit = (error.get("ctx") or {}).get(key)
        return f"{name} must be {words} {limit}{shown}"
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"{name} must be {expected}{shown}"
    return f"{name}: {error.get('msg', 'not accepted')}"


def _masked(value: object) -> object:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _wants_page(request: Request) -> bool:
    """A browser navigating (not a script, not htmx, not the JSON API)."""
    return (
        "text/html" in request.headers.get("accept", "")
        and not request.headers.get("hx-request")
        and not request.url.path.startswith("/api/")
    )


def _error_page(
    request: Request, status: int, detail: object, headers: Mapping[str, str] | None = None
) -> Response:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    context = {"status_code": status, "title": title, "detail": detail, "bare": True}
    return request.app.state.templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """A page for people (a browser navigating), JSON for scripts and htmx."""
    if not isinstance(exc, StarletteHTTPException):  # registered for that type only
        raise exc
    if not _wants_page(request):
        return await http_exception_handler(request, exc)
    return _error_page(request, exc.status_code, exc.detail, exc.headers)


class _App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # outside Starlette's own outermost error middleware, so its 500 page gets the
        # security headers as well
        return security.SecurityHeadersMiddleware(super().build_middleware_stack())


def create_app(runtime: Runtime, *, bound_host: str | None = None, start: bool = True) -> FastAPI:
    """The dashboard around ``runtime``; ``bound_host`` is the address the server listens on.

    With ``start=False`` the lifespan leaves the runtime alone (for callers that start and stop
    it themselves).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start:
            try:
                await run_in_threadpool(runtime.start)
            except Exception as exc:
                log.error("pyLapse could not start: %s", exc)
                raise
        try:
            yield
        finally:
            if start:
                await run_in_threadpool(runtime.stop)
            app.state.guard.close()

    app = _App(
        title="pyLapse",
        version=__version__,
        description="Timelapse capture, collections, exports and videos. "
        "State-changing requests need the session's CSRF token in the X-CSRF-Token header "
        "(GET /api/session returns it). Exports and renders run as jobs: start one with "
        "POST /api/exports/{preset}/run or POST /api/renders, follow it with GET /api/jobs/{id}, "
        "stop it with POST /api/jobs/{id}/cancel.\n\n[Back to the dashboard](/settings)",
        docs_url=None,  # served by web.routes.api from the vendored Swagger UI, not a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(security.verify_csrf)],
    )
    app.state.runtime = runtime
    app.state.templates = create_templates()
    app.state.config_editor = ConfigEditor(runtime)
    app.state.guard = security.Guard(runtime, bound_host=bound_host)
    app.add_middleware(security.SecurityMiddleware, guard=app.state.guard)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for name in _routers():
        module = importlib.import_module(f"web.routes.{name}")
        app.include_router(module.router)
    return app
