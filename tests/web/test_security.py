"""Host check, login, sessions, CSRF, escaping and secrets: the dashboard is safe on a LAN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from web_support import LAN, LOOPBACK, csrf_token, demo_config, make_client, set_password

from pylapse.config.file import load_config
from pylapse.runtime import Runtime
from web.app import create_app

# Every state-changing endpoint of the pages this file's author owns (others add theirs).
POST_ROUTES = [
    "/dashboard/scheduler/pause",
    "/dashboard/scheduler/resume",
    "/cameras/demo/grab",
    "/cameras/demo/enabled",
    "/cameras/new",
    "/cameras/demo",
    "/cameras/demo/delete",
    "/cameras/demo/collection",
    "/cameras/test-source",
    "/collections/demo/remove",
    "/settings",
    "/settings/reload",
    "/api/cameras/demo/grab",
    "/api/capture/pause",
    "/api/capture/resume",
    "/api/jobs/1/cancel",
    "/jobs/1/cancel",
    "/logout",
]


@pytest.mark.parametrize("url", POST_ROUTES)
def test_post_without_csrf_token_is_refused(client, url: str) -> None:
    client.get("/")  # a session exists, only the token is missing
    response = client.post(url, data={"name": "x"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("url", POST_ROUTES)
def test_post_with_a_wrong_csrf_token_is_refused(client, url: str) -> None:
    csrf_token(client)
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 403
    assert client.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_other_unsafe_methods_need_the_token_too(client, method: str) -> None:
    csrf_token(client)
    response = client.request(method, "/api/cameras/demo", json={"name": "x"})
    assert response.status_code == 403


def test_a_token_from_another_session_is_refused(app) -> None:
    with make_client(app) as alice, make_client(app) as mallory:
        token = csrf_token(mallory)
        csrf_token(alice)
        assert (
            alice.post("/dashboard/scheduler/pause", data={"csrf_token": token}).status_code == 403
        )


def test_the_csrf_header_and_the_form_field_both_work(client, runtime) -> None:
    token = csrf_token(client)
    assert (
        client.post("/dashboard/scheduler/pause", headers={"X-CSRF-Token": token}).status_code
        == 200
    )
    assert runtime.scheduler.paused
    assert client.post("/dashboard/scheduler/resume", data={"csrf_token": token}).status_code == 200
    assert not runtime.scheduler.paused


def test_every_page_carries_the_token_for_htmx_and_forms(client) -> None:
    token = csrf_token(client)
    page = client.get("/cameras/demo").text
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}", "X-Config-Token": ' in page
    assert f'name="csrf_token" value="{token}"' in page


@pytest.mark.parametrize(
    "host", ["evil.example.com", "127.0.0.1.evil.example", "", "localhost.:80x"]
)
def test_a_foreign_host_header_is_refused(app, host: str) -> None:
    with make_client(app) as c:
        response = c.get("/", headers={"Host": host})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST"])
def test_loopback_host_headers_are_accepted(client, host: str) -> None:
    assert client.get("/api/session", headers={"Host": host}).status_code == 200


def test_allowed_hosts_and_the_bound_address_are_accepted(tmp_path: Path) -> None:

    path = demo_config(tmp_path, web={"allowed_hosts": ["timelapse.lan", "Pi.Local:8000"]})
    runtime = Runtime(load_config(path), config_path=path, scheduler=False)
    try:
        app = create_app(runtime, bound_host="192.168.1.20", start=False)
        with make_client(app) as c:
            assert c.get("/api/session", headers={"Host": "timelapse.lan:8000"}).status_code == 200
            assert c.get("/api/session", headers={"Host": "pi.local"}).status_code == 200
            assert c.get("/api/session", headers={"Host": "192.168.1.20"}).status_code == 200
            assert c.get("/api/session", headers={"Host": "192.168.1.21"}).status_code == 400
    finally:
        runtime.stop()


def test_loopback_without_password_needs_no_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.template.name == "dashboard.html"


def test_lan_clients_must_log_in(lan_client) -> None:
    response = lan_client.get("/cameras")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fcameras"
    assert lan_client.get("/api/cameras").status_code == 401
    htmx = lan_client.get("/dashboard/log", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    assert lan_client.get("/static/app.css").status_code == 200  # the login page's assets


@pytest.mark.parametrize(
    "header",
    [("X-Forwarded-For", "192.168.1.5"), ("Forwarded", "for=10.0.0.7"), ("X-Real-IP", "10.0.0.7")],
)
def test_requests_relayed_by_a_local_proxy_are_not_loopback(client, header) -> None:
    assert client.get("/cameras", headers=dict([header])).status_code == 303
    assert client.get("/cameras").status_code == 200


def test_login_is_the_only_public_page(lan_client) -> None:
    assert lan_client.get("/login").status_code == 200
    assert lan_client.get("/loginx").status_code == 303
    assert lan_client.get("/api/docs").status_code == 401


def test_without_a_password_lan_clients_cannot_log_in(lan_client) -> None:
    page = lan_client.get("/login")
    assert page.status_code == 200 and page.context["can_log_in"] is False
    assert "pylapse set-password" in page.text
    token = csrf_token_for_login(lan_client)
    response = lan_client.post("/login", data={"csrf_token": token, "password": ""})
    assert response.status_code == 401
    assert lan_client.get("/cameras").status_code == 303


def csrf_token_for_login(client) -> str:
    page = client.get("/login")
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)


@pytest.fixture
def protected_app(tmp_path: Path):

    path = demo_config(tmp_path)
    set_password(path, "correct horse battery")
    runtime = Runtime(load_config(path), config_path=path, scheduler=False)
    yield create_app(runtime)
    runtime.stop()


@pytest.mark.parametrize("address", [LOOPBACK, LAN])
def test_with_a_password_everyone_logs_in(protected_app, address) -> None:
    with make_client(protected_app, address) as c:
        assert c.get("/").status_code == 303
        token = csrf_token_for_login(c)
        wrong = c.post("/login", data={"csrf_token": token, "password": "nope", "next": "/cameras"})
        assert wrong.status_code == 401 and wrong.context["error"] == "Wrong password."
        right = c.post(
            "/login",
            data={"csrf_token": token, "password": "correct horse battery", "next": "/cameras"},
        )
        assert right.status_code == 303 and right.headers["location"] == "/cameras"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/cameras").status_code == 200
        # the login rotated the session: the pre-login token is no longer valid
        assert c.post("/dashboard/scheduler/pause", data={"csrf_token": token}).status_code == 403
        new_token = csrf_token(c)
        assert new_token != token
        out = c.post("/logout", data={"csrf_token": new_token})
        assert out.status_code == 303
        assert c.get("/cameras").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_redirects_off_site(protected_app, target: str) -> None:
    with make_client(protected_app) as c:
        token = csrf_token_for_login(c)
        response = c.post(
            "/login",
            data={"csrf_token": token, "password": "correct horse battery", "next": target},
        )
        assert response.headers["location"] == "/"


def test_a_tampered_session_cookie_is_ignored(protected_app) -> None:
    with make_client(protected_app) as c:
        token = csrf_token_for_login(c)
        c.post("/login", data={"csrf_token": token, "password": "correct horse battery"})
        value = c.cookies.get("pylapse_session")
        flipped = "B" if value[3] == "A" else "A"
        c.cookies.clear()
        c.cookies.set("pylapse_session", value[:3] + flipped + value[4:])
        assert c.get("/cameras").status_code == 303


def test_guessing_is_slowed_down(protected_app) -> None:
    with make_client(protected_app, LAN) as c:
        token = csrf_token_for_login(c)
        codes = [
            c.post("/login", data={"csrf_token": token, "password": f"guess{i}"}).status_code
            for i in range(11)
        ]
        assert codes[:10] == [401] * 10 and codes[10] == 429


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_xss_in_every_camera_text_field_comes_back_escaped(client, post, runtime) -> None:
    fields = {
        "name": XSS,
        "description": XSS,
        "prefix": "p",
        "username": XSS,
        "gphoto2_camera": XSS,
        "gphoto2_port": XSS,
        "output_dir": "timelapse/xss",
        "timezone": "Europe/Berlin",
        "type": "synthetic",
        "s-0-id": XSS,
        "s-0-type": "cron",
        "s-0-cron": "0 12 * * *",
        "enabled": "on",
    }
    response = post("/cameras/demo", data=fields)
    assert response.status_code == 303, response.text
    assert runtime.config.cameras["demo"].name == XSS
    for url in (
        "/",
        "/cameras",
        "/cameras/demo",
        "/dashboard/log",
        "/dashboard/upcoming",
        "/api/docs",
    ):
        text = client.get(url).text
        assert "<script>alert" not in text, url
        assert "<img src=x onerror" not in text, url
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in client.get("/cameras/demo").text


def test_xss_in_a_rejected_form_comes_back_escaped(client, post) -> None:
    response = post("/cameras/new", data={"name": XSS, "output_dir": "", "s-0-cron": XSS})
    assert response.status_code == 422
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text


def test_xss_in_settings_comes_back_escaped(client, post) -> None:
    response = post("/settings", data={"allowed_hosts": XSS, "storage_roots": "timelapse"})
    assert "<script>alert" not in response.text


def test_a_camera_password_never_appears_in_any_page(client, post, runtime) -> None:
    secret = "s3cret-Pa55"
    response = post(
        "/cameras/new",
        data={
            "name": "Porch",
            "type": "http",
            "url": f"http://admin:{secret}@192.168.1.100:8080/shot.jpg?pwd={secret}",
            "username": "admin",
            "password": secret,
            "output_dir": "timelapse/porch",
            "timezone": "UTC",
            "enabled": "on",
        },
    )
    assert response.status_code == 303, response.text
    saved = runtime.config.cameras["porch"]
    assert saved.password == secret and secret in (saved.url or "")
    pages = [
        "/",
        "/cameras",
        "/cameras/porch",
        "/settings",
        "/api/cameras",
        "/api/cameras/porch",
        "/dashboard/cameras/porch",
        "/dashboard/log",
        "/api/openapi.json",
    ]
    for url in pages:
        assert secret not in client.get(url).text, url
    # a failed save re-renders the form: still no password
    bad = post(
        "/cameras/porch",
        data={
            "name": "Porch",
            "type": "http",
            "output_dir": "",
            "url": f"http://admin:{secret}@h/",
        },
    )
    assert bad.status_code == 422 and secret not in bad.text
    # a URL the validator rejects is quoted in its message: masked there too
    bad = post("/cameras/porch", data={"name": "Porch", "type": "http", "output_dir": "x",
                                       "url": f"ftp://admin:{secret}@h/"})  # fmt: skip
    assert bad.status_code == 422 and "url" in bad.context["errors"]
    assert secret not in bad.text


def test_a_wildcard_bind_accepts_ip_literals_but_not_foreign_names(tmp_path: Path) -> None:
    path = demo_config(tmp_path)
    set_password(path, "correct horse battery")
    runtime = Runtime(load_config(path), config_path=path, scheduler=False)
    try:
        app = create_app(runtime, bound_host="0.0.0.0", start=False)
        with make_client(app, LAN) as c:
            assert c.get("/login", headers={"Host": "10.1.2.3:8000"}).status_code == 200
            assert c.get("/login", headers={"Host": "[fe80::1]:8000"}).status_code == 200
            assert c.get("/login", headers={"Host": "rebind.evil.example"}).status_code == 400
    finally:
        runtime.stop()
