"""Fixtures for the web tests: a real Runtime on a temporary config with a demo camera, and the
app driven in-process.

The client is Starlette's ``TestClient``: an httpx client over an in-process ASGI transport that
also runs the lifespan (so the runtime really starts and stops) and exposes
``response.template`` and ``response.context`` for template responses. ``client=`` sets the ASGI
scope's client address, which is how tests act as a LAN machine instead of loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import LAN, TestClient, csrf_token, demo_config, make_client

from pylapse.config.file import load_config
from pylapse.runtime import Runtime
from web.app import create_app


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return demo_config(tmp_path)


@pytest.fixture
def runtime(config_path: Path) -> Iterator[Runtime]:
    rt = Runtime(load_config(config_path), config_path=config_path)
    yield rt
    rt.stop()  # idempotent; the lifespan normally stopped it already


@pytest.fixture
def app(runtime: Runtime):
    return create_app(runtime)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """A browser on the same machine (loopback, no password set: no login needed)."""
    with make_client(app) as c:
        yield c


@pytest.fixture
def lan_client(app) -> Iterator[TestClient]:
    """A browser on another machine of the LAN."""
    with make_client(app, LAN) as c:
        yield c


@pytest.fixture
def csrf(client: TestClient) -> str:
    return csrf_token(client)


@pytest.fixture
def post(client: TestClient, csrf: str) -> Callable[..., Any]:
    """``post(url, data={...})``: a form POST carrying the session's CSRF token."""

    def send(url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return client.post(url, data={"csrf_token": csrf, **(data or {})}, **kw)

    return send
