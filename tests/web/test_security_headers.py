"""Security headers on every response (pages, partials, static files, errors), a Content-Security-
Policy the pages really live within (no inline script, handler or style), and a Secure cookie
when the browser came over HTTPS."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from web_support import BASE_URL, LAN, LOOPBACK, TestClient, demo_config, make_client

from pylapse.config.file import load_config
from pylapse.runtime import Runtime
from web.app import create_app

WEB = Path(__file__).resolve().parents[2] / "web"
EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def _assert_headers(response) -> None:  # type: ignore[no-untyped-def]
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.url, name)
    policy = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        policy[name] = value
    assert policy["script-src"] == "'self'", response.url
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["img-src"] == "'self' data:"
    assert "unsafe" not in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/", {}, 200),
        ("/dashboard/log", {"HX-Request": "true"}, 200),
        ("/static/app.css", {}, 200),
        ("/static/vendor/htmx-2.0.11.min.js", {}, 200),
        ("/api/cameras", {}, 200),
        ("/api/docs", {}, 200),
        ("/login", {}, 200),
        ("/cameras/nope", {"Accept": "text/html"}, 404),
        ("/api/cameras/nope", {}, 404),
        ("/static/nope.css", {}, 404),
        ("/", {"Host": "evil.example"}, 400),
    ],
)
def test_every_kind_of_response_carries_the_headers(client, url, headers, status) -> None:
    response = client.get(url, headers=headers)
    assert response.status_code == status
    _assert_headers(response)


def test_login_redirects_and_refusals_carry_them_too(lan_client) -> None:
    redirect = lan_client.get("/cameras")
    assert redirect.status_code == 303
    _assert_headers(redirect)
    refused = lan_client.get("/api/cameras")
    assert refused.status_code == 401
    _assert_headers(refused)


def test_a_server_error_carries_them_too(app) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    with make_client(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    assert response.status_code == 500
    _assert_headers(response)


def test_a_response_keeps_a_policy_of_its_own(app) -> None:
    from starlette.responses import Response

    def own() -> Response:
        return Response("x", headers={"Content-Security-Policy": "default-src 'none'"})

    app.add_api_route("/own", own)
    with make_client(app) as c:
        response = c.get("/own")
    assert response.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"  # the others are added


# -- the pages live within the policy ------------------------------------------------------------

TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
OWN_STATIC = sorted(p for p in (WEB / "static").glob("*.*") if p.suffix in (".js", ".css"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_template_needs_inline_script_style_or_eval(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "event-handler attribute (onclick=...)"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"
    assert "<style" not in text, "inline <style>"
    assert not re.search(r"hx-on", text), "hx-on (needs eval)"
    assert not re.search(r"""hx-vals\s*=\s*['"]\s*(js|javascript):""", text), "js: hx-vals (eval)"
    assert "javascript:" not in text


@pytest.mark.parametrize("path", OWN_STATIC, ids=lambda p: p.name)
def test_our_scripts_build_no_code_from_strings(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*['\"]", text)
    assert ".innerHTML" not in text and "insertAdjacentHTML" not in text


def test_htmx_runs_without_eval_and_without_its_inline_styles(client) -> None:
    page = client.get("/").text
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    assert meta, "htmx-config meta tag missing"
    config = json.loads(meta.group(1))
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False  # app.css has them


def test_the_api_docs_page_has_no_inline_script(client) -> None:
    page = client.get("/api/docs").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)


# -- Secure cookie -------------------------------------------------------------------------------


def _session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return next(v for v in response.headers.get_list("set-cookie") if "pylapse_session=" in v)


@pytest.fixture
def build_app(tmp_path: Path):
    """``build_app(**web)``: an app (runtime not started) on a config with these web settings."""
    runtimes: list[Runtime] = []

    def build(**web):  # type: ignore[no-untyped-def]
        path = demo_config(tmp_path, web=web)
        runtimes.append(Runtime(load_config(path), config_path=path, scheduler=False))
        return create_app(runtimes[-1], start=False)

    yield build
    for runtime in runtimes:
        runtime.stop()


def test_the_cookie_is_secure_over_https(build_app) -> None:
    app = build_app()
    with TestClient(app, base_url="https://127.0.0.1:8000", client=LOOPBACK) as c:
        assert "; Secure" in _session_cookie(c.get("/login"))
    with make_client(app) as c:
        assert "Secure" not in _session_cookie(c.get("/login"))


def test_the_cookie_is_secure_behind_a_trusted_proxy_that_says_https(build_app) -> None:
    proxied_app = build_app(trusted_proxies=["127.0.0.1"])
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    with make_client(proxied_app, LOOPBACK) as proxy:
        assert "; Secure" in _session_cookie(proxy.get("/login", headers=https))
        plain = {"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.7"}
        assert "Secure" not in _session_cookie(proxy.get("/login", headers=plain))
    with make_client(proxied_app, LAN) as stranger:  # not a proxy: its header means nothing
        assert "Secure" not in _session_cookie(stranger.get("/login", headers=https))


def test_an_untrusted_local_proxy_cannot_make_it_secure(build_app) -> None:
    app = build_app()
    with TestClient(app, base_url=BASE_URL, client=LOOPBACK) as c:
        response = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" not in _session_cookie(response)
