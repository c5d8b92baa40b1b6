"""The authorisation request: the provider's URL with the client's parameters, PKCE (RFC 7636,
S256 only) when the client has no secret or forces it, and which redirect URIs are accepted.

The frontend adds ``state`` and checks it on return (SuperTokens' protocol: the backend never
sees it), so the URL built here carries none.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tokenward.recipes.thirdparty.rules.providers import Client, Provider, with_overrides
from tokenward.shared.encoding import b64url_encode


class RedirectNotAllowed(ValueError):
    """A redirect URI outside the website's and the API's origins."""


class MixedUpIssuer(ValueError):
    """The redirect names another issuer than the provider's (RFC 9207 ``iss``): a code from
    one provider replayed at another's callback (the mix-up attack)."""


def check_response_issuer(query: Mapping[str, Any], issuer: str | None) -> None:
    """When the provider's redirect carries ``iss`` (RFC 9207) and the provider's issuer is
    known (discovery), they must be the same. Raises MixedUpIssuer."""
    sent = query.get("iss")
    if issuer is None or "{tenantid}" in issuer:  # unknown, or Microsoft's per-directory one
        return
    if sent is not None and sent != issuer:
        raise MixedUpIssuer("the redirect's iss is not the provider's issuer")


class BadCallback(ValueError):
    """A provider's callback without the state the frontend made; the message says what."""


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
    return not client.confidential or client.force_pkce


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
    if provider.hosted_domain:
        params["hd"] = str(client.additional_config.get("hd", "*"))
    params = with_overrides(params, provider.authorization_endpoint_query_params)
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
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    port = port_given or default
    host = parts.hostname.lower()
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + ("" if port == default else f":{port}")


def check_redirect_uri(redirect_uri: str, allowed_origins: Iterable[str]) -> str:
    """``redirect_uri`` if it is on one of ``allowed_origins`` (the website's and the API's),
    without credentials or a fragment; raises RedirectNotAllowed otherwise, so the backend is
    never an open redirect to someone else's page."""
    origin = origin_of(redirect_uri)
    parts = urlsplit(redirect_uri) if origin is not None else None
    if parts is None or origin is None or parts.username is not None or parts.password is not None:
        raise RedirectNotAllowed("the redirect URI must be an http(s) URL without credentials")
    if parts.fragment:
        raise RedirectNotAllowed("the redirect URI must not have a fragment")
    if origin not in {o for o in (origin_of(a) for a in allowed_origins) if o is not None}:
        raise RedirectNotAllowed("the redirect URI is not on the website's or the API's origin")
    return redirect_uri


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def frontend_redirect_uri(state: str | None) -> str:
    """The page the frontend asked to come back to: ``frontendRedirectURI`` in ``state``
    (base64 of a JSON object, either alphabet, padded or not, as supertokens-web-js makes it).
    Raises BadCallback."""
    if not state:
        raise BadCallback("Please provide the state in the request body")
    if not _BASE64.fullmatch(state):
        raise BadCallback("state must be base64 encoded")
    standard = state.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        decoded = json.loads(base64.b64decode(standard + "=" * (-len(standard) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise BadCallback("state must be a base64 encoded JSON object") from None
    uri = decoded.get("frontendRedirectURI") if isinstance(decoded, dict) else None
    if not isinstance(uri, str) or not uri:
        raise BadCallback("state must contain frontendRedirectURI as a string")
    return uri


def callback_return_url(
    state: str | None, posted: Mapping[str, str], website_origins: Iterable[str]
) -> str:
    """Where a ``form_post`` callback (Apple's) sends the browser: the frontend's page from
    ``state``, on the website's origin only (never an open redirect), with the posted fields
    added to its query for the frontend to finish the sign-in. Raises BadCallback or
    RedirectNotAllowed."""
    uri = frontend_redirect_uri(state)
    try:
        check_redirect_uri(uri, website_origins)
    except RedirectNotAllowed:
        raise RedirectNotAllowed("frontendRedirectURI in state is not on the website") from None
    parts = urlsplit(uri)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(posted)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))
