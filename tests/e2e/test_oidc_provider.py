"""The social/OIDC login tests' OpenID provider (tests/support/oidc_provider.py): panva's
certified oidc-provider on loopback, logged into by script, its tokens verified with PyJWT."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests.support.oidc_provider import OidcClient, OidcLoginError, OidcProvider

REDIRECT = "http://127.0.0.1:9/auth/callback"
"""Never called: login() stops at the redirect (port 9 is discard)."""
SECRET = "web-client-secret-for-tests"


@pytest.fixture(scope="module")
def op() -> Iterator[OidcProvider]:
    with OidcProvider(
        clients=[
            OidcClient(
                "web", [REDIRECT], client_secret=SECRET, id_token_signed_response_alg="ES256"
            ),
            OidcClient("spa", [REDIRECT]),
        ],
        accounts={
            "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice"},
        },
    ) as provider:
        yield provider


def verify_id_token(op: OidcProvider, token: str, audience: str, nonce: str) -> dict[str, Any]:
    keys = jwt.PyJWKSet.from_dict(httpx.get(op.jwks_uri).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256", "ES256"],
        audience=audience,
        issuer=op.issuer,
        options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
    )
    assert claims["nonce"] == nonce
    return claims


def test_discovery(op: OidcProvider) -> None:
    assert op.issuer.startswith("http://127.0.0.1:")
    document = httpx.get(op.discovery_url).json()
    assert document["issuer"] == op.issuer
    assert document["jwks_uri"] == op.jwks_uri
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "email", "profile"} <= set(document["scopes_supported"])
    assert {"RS256", "ES256"} <= set(document["id_token_signing_alg_values_supported"])
    keys = httpx.get(op.jwks_uri).json()["keys"]
    assert {key["alg"] for key in keys} == {"RS256", "ES256"}
    assert all("d" not in key for key in keys)  # public halves only


def test_confidential_client_code_flow(op: OidcProvider) -> None:
    result = op.login("web", REDIRECT, login="alice")
    assert result.iss == op.issuer
    tokens = httpx.post(
        op.token_endpoint,
        auth=("web", SECRET),
        data={
            "grant_type": "authorization_code",
            "code": result.code,
            "redirect_uri": REDIRECT,
            "code_verifier": result.code_verifier or "",
        },
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert jwt.get_unverified_header(body["id_token"])["alg"] == "ES256"
    claims = verify_id_token(op, body["id_token"], "web", result.nonce)
    assert claims["sub"] == "alice"
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["name"] == "Alice"
    # The code is single use.
    again = httpx.post(
        op.token_endpoint,
        auth=("web", SECRET),
        data={"grant_type": "authorization_code", "code": result.code, "redirect_uri": REDIRECT},
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_public_client_with_pkce(op: OidcProvider) -> None:
    result = op.login("spa", REDIRECT, login="bob", state="my-state")
    assert result.state == "my-state"
    assert result.code_verifier is not None
    exchange = {
        "grant_type": "authorization_code",
        "client_id": "spa",
        "code": result.code,
        "redirect_uri": REDIRECT,
    }
    wrong = httpx.post(op.token_endpoint, data={**exchange, "code_verifier": "x" * 43})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"

    result = op.login("spa", REDIRECT, login="bob")
    assert result.code_verifier is not None
    tokens = httpx.post(
        op.token_endpoint,
        data={**exchange, "code": result.code, "code_verifier": result.code_verifier},
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert jwt.get_unverified_header(body["id_token"])["alg"] == "RS256"
    claims = verify_id_token(op, body["id_token"], "spa", result.nonce)
    # An account not in the map: the default email, not verified.
    assert claims["sub"] == "bob"
    assert claims["email"] == "bob@example.com"
    assert claims["email_verified"] is False
    userinfo = httpx.get(
        op.userinfo_endpoint, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert userinfo.json() == {"sub": "bob", "email": "bob@example.com", "email_verified": False}


def test_public_client_without_pkce_is_refused(op: OidcProvider) -> None:
    with pytest.raises(OidcLoginError) as refused:
        op.login("spa", REDIRECT, pkce=False, state="s1")
    assert refused.value.error == "invalid_request"
    assert "PKCE" in refused.value.description
    assert refused.value.state == "s1"


def test_the_session_is_kept_with_one_http_client(op: OidcProvider) -> None:
    with httpx.Client(timeout=10) as browser:
        first = op.login("web", REDIRECT, login="alice", http=browser)
        second = op.login("web", REDIRECT, login="ignored", http=browser)
    assert first.code != second.code
    tokens = httpx.post(
        op.token_endpoint,
        auth=("web", SECRET),
        data={
            "grant_type": "authorization_code",
            "code": second.code,
            "redirect_uri": REDIRECT,
            "code_verifier": second.code_verifier or "",
        },
    ).json()
    assert verify_id_token(op, tokens["id_token"], "web", second.nonce)["sub"] == "alice"


def test_follow_a_url_built_elsewhere(op: OidcProvider) -> None:
    url = op.authorization_url(
        "spa", REDIRECT, state="st", nonce="n", code_verifier="v" * 43, scope="openid"
    )
    back = op.follow(url, login="carol")
    assert back["state"] == "st" and back["iss"] == op.issuer and back["code"]
    with pytest.raises(OidcLoginError) as refused:
        op.follow(op.authorization_url("spa", REDIRECT, state="s", nonce="n", code_verifier=None))
    assert refused.value.error == "invalid_request" and refused.value.state == "s"
