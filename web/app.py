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
from web.headers import SecurityHeadersMiddleware
from web.messages import in_words
from web.templating import create_templates

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Routers in nav order. The optional ones are written separately and included once they exist.
ROUTERS = (
    "auth", "dashboard", "cameras", "settings", "api", "api_control", "api_media", "api_notify",
    "events",
)
OPTIONAL_ROUTERS = ("collections", "exports", "videos", "pictures", "retention", "mosaics")


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
            in_words(error, ".".join(_where(error)) or None)
            for error in errors
            if isinstance(error, dict)
        )
        return _error_page(request, 422, detail)
    return await request_validation_exception_handler(request, RequestValidationError(errors))


def _masked(value: object) -> object:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _where(error: object) -> list[str]:
    loc = error.get("loc", ()) if isinstance(error, dict) else ()
    return [str(p) for p in loc if p not in ("query", "path", "body")]


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
        return SecurityHeadersMiddleware(super().build_middleware_stack())


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
