"""Apple's client secret: an ES256 JWT signed with the team's key for each code exchange, as
SuperTokens makes it; a misconfigured key stops the configuration, not a sign-in."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.api import running_api
from tests.support.idp import Answer, FakeProvider
from tokenward.recipes.thirdparty.rules.authorisation import authorisation_url
from tokenward.recipes.thirdparty.rules.client_secrets import APPLE_AUDIENCE
from tokenward.recipes.thirdparty.rules.providers import InvalidProviderConfig, parse_provider

NOW = 1_790_000_000


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


KEY = ec.generate_private_key(ec.SECP256R1())


def apple(extra: dict[str, Any], **client: Any) -> dict[str, Any]:
    return {
        "thirdPartyId": "apple",
        "clients": [{"clientId": "com.example.web", "additionalConfig": extra, **client}],
    }


TEAM = {"keyId": "KEY123", "teamId": "TEAM456", "privateKey": pem(KEY)}


def test_the_secret_is_an_es256_jwt_apple_accepts() -> None:
    [client] = parse_provider(apple(TEAM)).clients
    assert client.secret_signer is not None and client.confidential
    secret = client.secret_signer.client_secret(client.client_id, NOW)
    assert jwt.get_unverified_header(secret) == {"alg": "ES256", "kid": "KEY123", "typ": "JWT"}
    claims = jwt.decode(
        secret,
        KEY.public_key(),
        algorithms=["ES256"],
        audience=APPLE_AUDIENCE,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "TEAM456",
        "iat": NOW,
        "exp": NOW + 86_400 * 180,
        "aud": APPLE_AUDIENCE,
        "sub": "com.example.web",
    }


def test_a_key_pasted_on_one_line_works_and_no_pkce_is_added() -> None:
    one_line = {**TEAM, "privateKey": pem(KEY).replace("\n", "\\n")}
    provider = parse_provider(apple(one_line))
    [client] = provider.clients
    assert client.secret_signer is not None
    built = authorisation_url(
        parse_provider({**apple(one_line), "authorizationEndpoint": "https://a.example/auth"}),
        client,
        "https://app.example/cb",
    )
    assert built.pkce_code_verifier is None and "response_mode=form_post" in built.url
    assert "PRIVATE" not in repr(client)  # the key never reaches a log line


def test_a_stored_secret_is_used_as_it_is() -> None:
    [client] = parse_provider(apple({}, clientSecret="pre-made")).clients
    assert client.secret_signer is None and client.client_secret == "pre-made"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "needs keyId, teamId and privateKey"),
        ({**TEAM, "teamId": ""}, "needs keyId, teamId and privateKey"),
        ({**TEAM, "privateKey": "not a key"}, "not a PEM private key"),
        ({**TEAM, "privateKey": pem(rsa.generate_private_key(65537, 2048))}, "EC P-256"),
        ({**TEAM, "privateKey": pem(ec.generate_private_key(ec.SECP384R1()))}, "EC P-256"),
    ],
)
def test_a_bad_team_key_is_a_configuration_error(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidProviderConfig, match=message):
        parse_provider(apple(extra))


async def test_the_code_exchange_posts_a_fresh_signed_secret(database_url: str) -> None:
    """Through the frontend API: the token endpoint receives a client secret signed now."""
    with FakeProvider() as idp:
        idp.answer("/token", Answer(body={"error": "invalid_grant"}, status=400))
        discovery = {
            "issuer": idp.base_url,
            "authorization_endpoint": idp.url("/authorize"),
            "token_endpoint": idp.url("/token"),
            "jwks_uri": idp.url("/jwks"),
        }
        idp.answer("/.well-known/openid-configuration", Answer(body=discovery))
        config = {**apple(TEAM), "oidcDiscoveryEndpoint": idp.base_url}
        async with running_api(database_url, thirdparty_providers=[config]) as api:
            api.clock.now = NOW * 1000
            answer = await api.client.post(
                "/auth/signinup",
                json={
                    "thirdPartyId": "apple",
                    "redirectURIInfo": {
                        "redirectURIOnProviderDashboard": "http://localhost:3567/auth/callback",
                        "redirectURIQueryParams": {"code": "apple-code", "state": "s"},
                    },
                },
                headers={"rid": "thirdparty", "fdi-version": "4.2"},
            )
        assert answer.json()["status"] == "GENERAL_ERROR"
        [exchange] = [r for r in idp.received if r.path == "/token"]
        form = dict(parse_qsl(exchange.body.decode()))
        assert form["client_id"] == "com.example.web" and form["code"] == "apple-code"
        assert "code_verifier" not in form
        claims = jwt.decode(
            form["client_secret"],
            KEY.public_key(),
            algorithms=["ES256"],
            audience=APPLE_AUDIENCE,
            options={"verify_exp": False, "verify_iat": False},
        )
        assert claims["iat"] == NOW and claims["iss"] == "TEAM456"
