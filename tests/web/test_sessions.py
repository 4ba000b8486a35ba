"""Server-side sessions: a cookie stops working when its session ends (logout, password change,
expiry), also when it is replayed later or after a restart; the cookie holds only a signed id."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from web_support import LAN, demo_config, make_client, set_password

from pylapse.cli.password import hash_password
from pylapse.config.file import load_config, save_config
from pylapse.runtime import Runtime
from web import sessions
from web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = demo_config(tmp_path)
    set_password(path, PASSWORD)
    return path


@pytest.fixture
def serve(config_path: Path):
    """``serve()`` builds an app on the config (again: a restart), stopped at the end."""
    runtimes: list[Runtime] = []

    def build():  # type: ignore[no-untyped-def]
        runtime = Runtime(load_config(config_path), config_path=config_path, scheduler=False)
        runtimes.append(runtime)
        return create_app(runtime, start=False)

    yield build
    for runtime in runtimes:
        runtime.stop()


def _log_in(client, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "password": password})
    assert response.status_code == 303, response.text
    return client.cookies["pylapse_session"]


def _replay(app, cookie: str) -> int:  # type: ignore[no-untyped-def]
    """The status of /cameras for a browser that sends ``cookie`` (a copy taken earlier)."""
    with make_client(app, LAN) as other:
        other.cookies.set("pylapse_session", cookie)
        return other.get("/cameras").status_code


def test_a_logged_out_cookie_replayed_is_refused(serve) -> None:
    app = serve()
    with make_client(app, LAN) as c:
        cookie = _log_in(c)
        assert _replay(app, cookie) == 200  # a copy works while the session lasts
        csrf = c.get("/api/session").json()["csrf_token"]
        assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert _replay(app, cookie) == 303  # sent to the login page


def test_a_logout_survives_a_restart_and_a_login_does_too(serve) -> None:
    first = serve()
    with make_client(first, LAN) as c:
        stays = _log_in(c)
    with make_client(first, LAN) as c:
        ended = _log_in(c)
        csrf = c.get("/api/session").json()["csrf_token"]
        c.post("/logout", data={"csrf_token": csrf})
    restarted = serve()
    assert _replay(restarted, ended) == 303
    assert _replay(restarted, stays) == 200


def test_a_password_change_ends_every_session(serve, config_path: Path) -> None:
    app = serve()
    with make_client(app, LAN) as c:
        cookie = _log_in(c)
    config = load_config(config_path)  # what `pylapse set-password` does
    config.web.password_hash = hash_password("a new password 2")
    save_config(config, config_path)
    assert _replay(app, cookie) == 303
    assert _replay(serve(), cookie) == 303  # also after a restart
    with make_client(app, LAN) as c:
        _log_in(c, "a new password 2")
        assert c.get("/cameras").status_code == 200


def test_sessions_expire_on_the_server(serve) -> None:
    app = serve()
    store = app.state.guard.sessions
    now = [1_800_000_000.0]
    store.clock = lambda: now[0]  # the name the store reads
    with make_client(app, LAN) as c:
        cookie = _log_in(c)
    now[0] += sessions.SESSION_MAX_AGE - 60
    assert _replay(app, cookie) == 200
    now[0] += 120
    assert _replay(app, cookie) == 303


def test_the_cookie_holds_only_a_signed_id_and_the_table_only_its_hash(
    serve, config_path: Path
) -> None:
    app = serve()
    with make_client(app, LAN) as c:
        cookie = _log_in(c)
        csrf = c.get("/api/session").json()["csrf_token"]
    payload = cookie.split(".")[0]
    assert csrf not in cookie and PASSWORD not in cookie
    db = sqlite3.connect(config_path.parent / "data" / "pylapse.db")
    rows = db.execute("SELECT id_hash, password_tag FROM sessions").fetchall()
    db.close()
    assert len(rows) == 1 and payload not in rows[0][0]
    # a tampered cookie (another id under the old signature) is a new anonymous session
    forged = "eyJpIjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIiwiYSI6MX0" + cookie[len(payload) :]
    assert _replay(app, forged) == 303


def test_every_login_starts_a_new_session(serve) -> None:
    app = serve()
    with make_client(app, LAN) as c:
        first = _log_in(c)
    with make_client(app, LAN) as c:
        second = _log_in(c)
    assert first != second
    assert _replay(app, first) == 200 and _replay(app, second) == 200
    assert app.state.guard.sessions.count() == 2
