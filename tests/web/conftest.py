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
def config_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The demo config; its index on both backends for the tests that ask for it.

    A test marked ``@BOTH_BACKENDS`` (web_support; ``pytestmark = BOTH_BACKENDS`` for a whole
    module) runs twice: its index in the data folder's SQLite file, then on PostgreSQL
    (``index_url`` from :func:`index_location`). Those are the tests whose pages and APIs read
    or write the index: the collection list, page, calendar and day grid, a new collection's
    scan and rescans, frame metrics and a missing folder, the player's day JSON and calendar,
    the selection and overlay previews, an export run, a render from a collection, a grid
    mosaic, pictures, day-by-day renders, retention's preview, collection removal, and the
    frames API. The rest run on SQLite only: form validation, CSRF, escaping, 404s, login,
    headers, cameras, settings, file confinement, and renders of export folders do the same
    whatever the index backend is. Doubling every web test (229 tests in the modules above
    alone) made the PostgreSQL half ~3-4 min on this 2-core machine, too much for the 15 min
    CI limit; these ~60 add ~1 min.
    """
    if "index_location" in request.fixturenames:
        location = request.getfixturevalue("index_location")
        if location.startswith("postgresql://"):
            return demo_config(tmp_path, index_url=location)
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
def client(request: pytest.FixtureRequest, app) -> Iterator[TestClient]:
    """A browser on the same machine (loopback, no password set: no login needed).

    On PostgreSQL, the test fails if, once it is done and while the app still runs, a
    connection of the index has sat idle inside a transaction for over a second: a
    transaction opened by a request and never ended holds its locks until the connection
    closes (SQLite's write lock alike, but PostgreSQL shows it).
    """
    with make_client(app) as c:
        yield c
        if "index_location" in request.fixturenames:
            _no_idle_transactions(request.getfixturevalue("index_location"))


def _no_idle_transactions(location: str) -> None:
    if not location.startswith("postgresql://"):
        return
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        idle = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE application_name = "
            "current_setting('application_name') AND pid <> pg_backend_pid() "
            "AND state = 'idle in transaction' AND now() - state_change > interval '1 second'"
        ).fetchall()
    assert not idle, f"index connections left idle in a transaction after: {idle}"


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
