"""Who the client is: loopback or not, the name in a Host header, and the address and scheme
behind a trusted reverse proxy.

A request's client is the socket's peer, except when that peer is one of
``web.trusted_proxies``: then it is the right-most ``X-Forwarded-For`` address that is not
itself a trusted proxy (the one our proxy saw), and only such a proxy may say the browser came
over HTTPS. :mod:`web.security` decides with these who must log in and which Host is accepted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.datastructures import Headers

__all__ = [
    "LOOPBACK_NAMES",
    "PROXY_HEADERS",
    "Network",
    "forwarded_client",
    "forwarded_https",
    "host_name",
    "is_ip",
    "is_loopback",
    "trusted_networks",
]

# Headers a reverse proxy adds: a request carrying one was relayed, never local.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_name(header: str) -> str:
    """The name part of a Host header: 'Example.org:8000' -> 'example.org', '[::1]:80' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of ``web.trusted_proxies`` (addresses or CIDR ranges), parsed once."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a peer or an X-Forwarded-For entry ('1.2.3.4', '[::1]:80', '1.2.3.4:5')."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(networks: Iterable[Network], host: str | None) -> bool:
    address = _address(host) if host else None
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: str, headers: Headers, trusted: tuple[Network, ...]) -> str:
    """The client's address: ``peer``, unless ``peer`` is a trusted proxy; then the right-most
    X-Forwarded-For entry that is not a trusted proxy (what our own proxy appended; entries
    left of it are whatever the client chose to send). All of them trusted: the left-most."""
    if not trusted or not _trusted(trusted, peer):
        return peer
    hops = [
        hop.strip()
        for value in headers.getlist("x-forwarded-for")
        for hop in value.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _trusted(trusted, hop):
            address = _address(hop)
            return str(address) if address is not None else hop[:100]
    return str(_address(hops[0]) or peer) if hops else peer


def forwarded_https(peer: str, headers: Headers, trusted: tuple[Network, ...]) -> bool:
    """Whether a trusted proxy says the browser connected over HTTPS. Any ``https`` in the
    header counts: in a chain, the TLS end may be the first hop or a later one, and a client
    that forges it only makes its own cookie Secure (which it then cannot send over http)."""
    if not trusted or not _trusted(trusted, peer):
        return False
    values = ",".join(headers.getlist("x-forwarded-proto")).lower().split(",")
    return "https" in (value.strip() for value in values)
