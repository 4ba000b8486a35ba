"""Login throttling: parallel guesses cannot slip past the limit, the owner gets back in after a
short lockout, and behind a trusted reverse proxy each client is counted on its own."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest
from web_support import BASE_URL, LAN, LOOPBACK, demo_config, make_client, set_password

from pylapse.config.file import load_config
from pylapse.runtime import Runtime
from web import throttle
from web.app import create_app
from web.clients import forwarded_client, forwarded_https
from web.throttle import LoginThrottle, client_key

PASSWORD = "correct horse battery"


class Clock:
    """The throttle's clock, stepped by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def protected(tmp_path: Path):
    def build(**web):  # type: ignore[no-untyped-def]
        path = demo_config(tmp_path, web=web) if web else demo_config(tmp_path)
        set_password(path, PASSWORD)
        runtime = Runtime(load_config(path), config_path=path, scheduler=False)
        runtimes.append(runtime)
        return create_app(runtime, start=False)

    runtimes: list[Runtime] = []
    yield build
    for runtime in runtimes:
        runtime.stop()


def _token(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def _try(client, password: str, **headers: str):  # type: ignore[no-untyped-def]
    token = _token(client.get("/login", headers=headers).text)
    return client.post("/login", data={"csrf_token": token, "password": password}, headers=headers)


def test_forty_parallel_guesses_get_exactly_the_limit_of_verifications(protected) -> None:
    app = protected()

    async def guess_at_once() -> Counter[int]:
        transport = httpx.ASGITransport(app=app, client=LAN)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
            token = _token((await c.get("/login")).text)
            answers = await asyncio.gather(
                *(
                    c.post("/login", data={"csrf_token": token, "password": f"guess{i}"})
                    for i in range(40)
                )
            )
        return Counter(a.status_code for a in answers)

    codes = asyncio.run(guess_at_once())
    # a 401 is a verified hash; the rest were refused before verifying anything
    assert codes == {401: throttle.LIMIT, 429: 40 - throttle.LIMIT}


def test_the_owner_gets_in_after_a_short_lockout_that_grows(protected) -> None:
    app = protected()
    clock = Clock()
    app.state.guard.throttle.clock = clock  # the name the throttle reads
    with make_client(app, LAN) as c:
        codes = [_try(c, f"guess{i}").status_code for i in range(throttle.LIMIT)]
        assert codes == [401] * throttle.LIMIT
        locked = _try(c, PASSWORD)  # even the right password waits out the lockout
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == str(int(throttle.LOCKOUT))
        assert "try again in 30 seconds" in locked.context["error"]
        clock.now += throttle.LOCKOUT
        assert _try(c, "one more guess").status_code == 401
        again = _try(c, PASSWORD)
        assert again.status_code == 429
        assert again.headers["Retry-After"] == str(int(2 * throttle.LOCKOUT))  # it grew
        clock.now += 2 * throttle.LOCKOUT
        assert _try(c, PASSWORD).status_code == 303
        assert c.get("/cameras").status_code == 200
    # the right password cleared the record: the next mistake is not locked out
    with make_client(app, LAN) as c:
        assert _try(c, "typo").status_code == 401
        assert _try(c, PASSWORD).status_code == 303


def test_the_lockout_has_a_ceiling_and_quiet_clients_are_forgotten() -> None:
    clock = Clock()
    guard = LoginThrottle(clock=clock)
    waits = [guard.lockout_after(n) for n in range(throttle.LIMIT - 1, throttle.LIMIT + 8)]
    assert waits == [0, 30, 60, 120, 240, 480, 900, 900, 900]
    for _ in range(throttle.LIMIT):
        assert guard.begin("10.0.0.1").allowed
    assert not guard.begin("10.0.0.1").allowed
    assert guard.begin("10.0.0.2").allowed  # another client is not affected
    clock.now += throttle.FORGET_AFTER
    assert guard.begin("10.0.0.1").allowed


def test_ipv6_clients_are_counted_by_their_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("192.168.1.5") == "192.168.1.5"


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(protected) -> None:
    app = protected(trusted_proxies=["127.0.0.1"])
    with make_client(app, LOOPBACK) as c:  # the proxy connects from loopback
        mallory = {"X-Forwarded-For": "203.0.113.66"}
        codes = [_try(c, f"guess{i}", **mallory).status_code for i in range(throttle.LIMIT + 1)]
        assert codes == [401] * throttle.LIMIT + [429]
        # the owner, relayed by the same proxy from another address, is not locked out
        owner = _try(c, PASSWORD, **{"X-Forwarded-For": "198.51.100.7"})
        assert owner.status_code == 303


def test_forwarded_for_from_an_untrusted_peer_is_ignored(protected) -> None:
    app = protected(trusted_proxies=["127.0.0.1"])
    with make_client(app, LAN) as c:  # not a proxy: cannot pick a fresh address per guess
        codes = [
            _try(c, f"guess{i}", **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(throttle.LIMIT + 1)
        ]
        assert codes == [401] * throttle.LIMIT + [429]


def test_the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy() -> None:
    from starlette.datastructures import Headers

    from web.clients import trusted_networks

    trusted = trusted_networks(("127.0.0.1", "10.0.0.0/8"))

    def client(peer: str, xff: str | list[str]) -> str:
        values = [xff] if isinstance(xff, str) else xff
        headers = Headers(raw=[(b"x-forwarded-for", v.encode()) for v in values])
        return forwarded_client(peer, headers, trusted)

    # the client forged the left part; our proxies appended the rest
    assert client("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
    assert client("127.0.0.1", ["6.6.6.6", "203.0.113.7"]) == "203.0.113.7"  # two headers
    assert client("127.0.0.1", "[2001:db8::5]:4711") == "2001:db8::5"
    assert client("127.0.0.1", "10.0.0.9, 10.0.0.8") == "10.0.0.9"  # all proxies: left-most
    assert client("192.168.1.5", "203.0.113.7") == "192.168.1.5"  # untrusted peer
    assert client("127.0.0.1", []) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", Headers(raw=[]), ()) == "127.0.0.1"  # none trusted

    def https(peer: str, proto: str) -> bool:
        return forwarded_https(peer, Headers({"x-forwarded-proto": proto}), trusted)

    assert https("127.0.0.1", "https") and https("10.0.0.2", "http, https")
    assert not https("127.0.0.1", "http") and not https("192.168.1.5", "https")


def test_a_bad_trusted_proxy_entry_is_refused_naming_it(tmp_path: Path) -> None:
    from pylapse.config.base import ConfigError

    path = demo_config(tmp_path, web={"trusted_proxies": ["127.0.0.1", "my-nginx"]})
    with pytest.raises(ConfigError, match=r"web\.trusted_proxies.*'my-nginx' is not an IP"):
        load_config(path)
