"""RL-03: the client address for limits and the audit log comes from the socket, or from
forwarding headers only when the socket's peer is a configured trusted proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from tokenward.config import ConfigError, load_settings
from tokenward.http.client_ip import client_ip, trusted_networks


def _request(peer: str, headers: list[tuple[str, str]]) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
            "client": (peer, 5555),
        }
    )


PROXIES = trusted_networks(["10.0.0.0/8", "::1"])


def test_rl_03_forwarding_headers_are_ignored_without_trusted_proxies() -> None:
    request = _request("203.0.113.9", [("X-Forwarded-For", "198.51.100.1")])
    assert client_ip(request, ()) == "203.0.113.9"


def test_rl_03_forwarding_headers_from_an_untrusted_peer_are_ignored() -> None:
    request = _request("203.0.113.9", [("X-Forwarded-For", "198.51.100.1")])
    assert client_ip(request, PROXIES) == "203.0.113.9"


def test_rl_03_rightmost_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; our proxy appended the address it saw.
    request = _request("10.0.0.2", [("X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.0.0.5")])
    assert client_ip(request, PROXIES) == "198.51.100.7"


def test_rl_03_forwarded_header_wins_and_is_parsed() -> None:
    request = _request(
        "::1",
        [
            ("Forwarded", 'for="[2001:db8::17]:4711";proto=https, for=10.1.1.1'),
            ("X-Forwarded-For", "9.9.9.9"),
        ],
    )
    assert client_ip(request, PROXIES) == "2001:db8::17"


def test_rl_03_forwarded_with_port_and_obfuscated_identifier() -> None:
    request = _request("10.0.0.2", [("Forwarded", "for=192.0.2.60:4711")])
    assert client_ip(request, PROXIES) == "192.0.2.60"
    hidden = _request("10.0.0.2", [("Forwarded", "for=_hidden")])
    assert client_ip(hidden, PROXIES) == "_hidden"


def test_rl_03_only_proxies_forwarding_gives_the_leftmost_hop() -> None:
    request = _request("10.0.0.2", [("X-Forwarded-For", "10.0.0.9, 10.0.0.5")])
    assert client_ip(request, PROXIES) == "10.0.0.9"
    assert client_ip(_request("10.0.0.2", []), PROXIES) == "10.0.0.2"


@pytest.mark.parametrize("value", ["10.0.0.0/8,::1", " 192.168.1.1 , fd00::/8 "])
def test_trusted_proxies_setting_accepts_addresses_and_networks(value: str) -> None:
    settings = load_settings(overrides={"trusted_proxies": value})
    assert len(settings.trusted_proxies) == 2


def test_trusted_proxies_setting_refuses_garbage() -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        load_settings(overrides={"trusted_proxies": "10.0.0.0/8,proxy.example"})
