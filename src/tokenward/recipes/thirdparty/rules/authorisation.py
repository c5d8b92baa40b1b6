"""The authorisation request: the provider's URL with the client's parameters, PKCE (RFC 7636,
S256 only) when the client has no secret or forces it, and which redirect URIs are accepted.

The frontend adds ``state`` and checks it on return (SuperTokens' protocol: the backend never
sees it), so the URL built here carries none.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from tokenward.recipes.thirdparty.rules.providers import Client, Provider
from tokenward.shared.encoding import b64url_encode


class RedirectNotAllowed(ValueError):
    """A redirect URI outside the website's and the API's origins."""


@dataclass(frozen=True, slots=True)
class AuthorisationUrl:
    url: str
    pkce_code_verifier: str | None
    """Handed to the frontend, which sends it back with the code (SuperTokens' protocol)."""


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43 characters of base64url, 256 bits) and its S256 challenge."""
    verifier = b64url_encode(secrets.token_bytes(32))
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def uses_pkce(client: Client) -> bool:
    return client.client_secret is None or client.force_pkce


def authorisation_url(provider: Provider, client: Client, redirect_uri: str) -> AuthorisationUrl:
    """The URL the browser is sent to. The provider's endpoint must be known (configured or
    discovered)."""
    if provider.authorization_endpoint is None:
        raise ValueError(f"{provider.third_party_id}: no authorization endpoint")
    params: dict[str, str] = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
    }
    if client.scope:
        params["scope"] = " ".join(client.scope)
    for name, value in provider.authorization_endpoint_query_params.items():
        if value is None:
            params.pop(name, None)  # a configured null removes a default, as in SuperTokens
        else:
            params[name] = value
    verifier = None
    if uses_pkce(client):
        verifier, challenge = pkce_pair()
        params["code_challenge"] = challenge
        params["code_challenge_method"] = "S256"
    separator = "&" if urlsplit(provider.authorization_endpoint).query else "?"
    return AuthorisationUrl(
        provider.authorization_endpoint + separator + urlencode(params), verifier
    )


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    port = parts.port or default
    host = parts.hostname.lower()
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + ("" if port == default else f":{port}")


def check_redirect_uri(redirect_uri: str, allowed_origins: Iterable[str]) -> str:
    """``redirect_uri`` if it is on one of ``allowed_origins`` (the website's and the API's),
    without credentials or a fragment; raises RedirectNotAllowed otherwise, so the backend is
    never an open redirect to someone else's page."""
    parts = urlsplit(redirect_uri)
    origin = origin_of(redirect_uri)
    if origin is None or parts.username is not None or parts.password is not None:
        raise RedirectNotAllowed("the redirect URI must be an http(s) URL without credentials")
    if parts.fragment:
        raise RedirectNotAllowed("the redirect URI must not have a fragment")
    if origin not in {o for o in (origin_of(a) for a in allowed_origins) if o is not None}:
        raise RedirectNotAllowed("the redirect URI is not on the website's or the API's origin")
    return redirect_uri
