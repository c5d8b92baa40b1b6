"""The client's address: the socket's peer, unless that peer is a configured trusted proxy.

Behind trusted proxies the address comes from ``Forwarded`` (RFC 7239) or, when that header is
absent, ``X-Forwarded-For``. Each proxy appends the address it saw, so the list is read from the
right: trusted hops are skipped and the first untrusted one is the client. Anything to its left
was written by the client itself and is ignored, so a client cannot pick its own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def trusted_networks(entries: Iterable[str]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_ip(request: Request, trusted: tuple[IpNetwork, ...]) -> str:
    peer = request.client.host if request.client else UNKNOWN
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = _forwarded_hops(request)
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    # Every hop is a proxy of ours (or there are none): the leftmost one is as close as we get.
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: tuple[IpNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _forwarded_hops(request: Request) -> list[str]:
    forwarded = request.headers.getlist("forwarded")
    if forwarded:
        return [hop for line in forwarded for hop in _parse_forwarded(line)]
    return [
        hop.strip()
        for line in request.headers.getlist("x-forwarded-for")
        for hop in line.split(",")
        if hop.strip()
    ]


def _parse_forwarded(line: str) -> list[str]:
    """The ``for=`` address of each element of a ``Forwarded`` header, normalised: quotes,
    IPv6 brackets and ports removed. Elements without ``for=`` are an unknown hop."""
    hops: list[str] = []
    for element in line.split(","):
        address = UNKNOWN
        for pair in element.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.lower() == "for":
                address = _strip_port(value.strip().strip('"'))
        hops.append(address)
    return hops


def _strip_port(value: str) -> str:
    if value.startswith("["):  # "[2001:db8::1]:4711"
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:  # "192.0.2.60:4711"
        return value.split(":", 1)[0]
    return value
