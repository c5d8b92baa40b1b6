"""OAUTH-03 over the frontend API, on SQLite and PostgreSQL: an OpenID provider the test
controls (FakeProvider serving discovery, its JWKS and a token endpoint) hands back id tokens
the test forged with its own keys, or answers its token request with a 500, garbage or HTML.

Each refusal is a ``GENERAL_ERROR`` with a message that tells the user what to do (never a
500), issues no session and creates no user; a refused id token is in the audit log without
the token. A well-formed token first proves the harness signs people in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.api import Api, assert_nobody_signed_in, running_api
from tests.support.forge import hmac_signed, rs256, unsigned
from tests.support.idp import Answer, FakeProvider
from tests.support.social import redirected
from tokenward.recipes.thirdparty.fdi import PROVIDER_DOWN, PROVIDER_REFUSED

CLIENT_ID = "tokenward-rp"
WELL_KNOWN = "/.well-known/openid-configuration"
PROVIDER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ROTATED_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture
def idp() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        provider.answer(
            WELL_KNOWN,
            Answer(
                body={
                    "issuer": provider.base_url,
                    "authorization_endpoint": provider.url("/authorize"),
                    "token_endpoint": provider.url("/token"),
                    "jwks_uri": provider.url("/jwks"),
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            ),
        )
        provider.answer("/jwks", Answer(body={"keys": [jwk(PROVIDER_KEY, "k1")]}))
        yield provider


@pytest.fixture
async def api(database_url: str, idp: FakeProvider) -> AsyncIterator[Api]:
    config = {
        "thirdPartyId": "forged",
        "oidcDiscoveryEndpoint": idp.url(WELL_KNOWN),
        "clients": [{"clientId": CLIENT_ID, "clientSecret": "rp-client-secret-0123456789"}],
    }
    async with running_api(database_url, thirdparty_providers=[config]) as running:
        yield running


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    caplog.set_level(logging.INFO, logger="tokenward.audit")
    recorded: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            recorded.append(record.__dict__["audit"])

    handler = Collect()
    logging.getLogger("tokenward.audit").addHandler(handler)
    yield recorded
    logging.getLogger("tokenward.audit").removeHandler(handler)


def claims(api: Api, idp: FakeProvider, **changes: Any) -> dict[str, Any]:
    now = api.clock.now_ms() // 1000
    base = {"iss": idp.base_url, "aud": CLIENT_ID, "sub": "user-7", "iat": now,
            "exp": now + 600, "email": "seven@example.com", "email_verified": True}  # fmt: skip
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def signed(payload: dict[str, Any], key: rsa.RSAPrivateKey = PROVIDER_KEY, kid: str = "k1") -> str:
    return rs256({"alg": "RS256", "typ": "JWT", "kid": kid}, payload, key)


async def answer_with(api: Api, idp: FakeProvider, id_token: str) -> Any:
    """signinup after the token endpoint answered with ``id_token``."""
    tokens = {"access_token": "provider-at", "token_type": "Bearer", "id_token": id_token}
    idp.answer("/token", Answer(body=tokens))
    return await redirected(api, "forged", "a-code-the-provider-accepts")


async def test_a_well_formed_id_token_signs_in(api: Api, idp: FakeProvider) -> None:
    body = (await answer_with(api, idp, signed(claims(api, idp)))).json()
    assert body["status"] == "OK", body
    assert body["user"]["thirdParty"] == [{"id": "forged", "userId": "user-7"}]
    assert body["user"]["loginMethods"][0]["verified"] is True


FORGERIES = {
    "expired": lambda api, idp: signed(
        claims(
            api, idp, iat=api.clock.now_ms() // 1000 - 7200, exp=api.clock.now_ms() // 1000 - 3600
        )  # fmt: skip
    ),
    "wrong-iss": lambda api, idp: signed(claims(api, idp, iss="https://evil.example")),
    "wrong-aud": lambda api, idp: signed(claims(api, idp, aud="someone-else")),
    "no-sub": lambda api, idp: signed(claims(api, idp, sub=None)),
    "alg-none": lambda api, idp: unsigned({"alg": "none", "typ": "JWT"}, claims(api, idp)),
    "alg-none-with-kid": lambda api, idp: unsigned(
        {"alg": "none", "kid": "k1"}, claims(api, idp), "c2lnbmF0dXJl"
    ),
    "hs256-keyed-with-the-public-jwk": lambda api, idp: hmac_signed(
        {"alg": "HS256", "kid": "k1"}, claims(api, idp), jwk(PROVIDER_KEY, "k1")["n"].encode()
    ),
    "known-kid-attacker-signature": lambda api, idp: signed(claims(api, idp), ATTACKER_KEY),
    "unknown-kid": lambda api, idp: signed(claims(api, idp), ATTACKER_KEY, kid="attacker"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
async def test_a_forged_id_token_is_refused_audited_and_signs_nobody_in(
    api: Api, idp: FakeProvider, events: list[dict[str, Any]], forgery: str
) -> None:
    token = FORGERIES[forgery](api, idp)
    answer = await answer_with(api, idp, token)
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
    await assert_nobody_signed_in(api, answer)
    [failure] = [e for e in events if e["event"] == "sign_in.failure"]
    assert failure["reason"].startswith("forged: invalid id token: "), failure
    assert token not in str(events) and token.split(".")[1] not in str(events)


async def test_an_unknown_key_is_looked_for_once_then_refused_and_a_rotation_is_followed(
    api: Api, idp: FakeProvider
) -> None:
    """The JWKS is fetched again for a key id it lacks, at most once a minute: a stream of
    made-up key ids cannot make us hammer the provider, and a real rotation is picked up."""
    first = await answer_with(api, idp, signed(claims(api, idp), ROTATED_KEY, kid="k2"))
    assert first.json()["message"] == PROVIDER_REFUSED
    assert idp.hits["/jwks"] == 1, "just fetched: not again within the minute"
    api.clock.advance(seconds=61)
    again = await answer_with(api, idp, signed(claims(api, idp), ROTATED_KEY, kid="k2"))
    assert again.json()["message"] == PROVIDER_REFUSED
    assert idp.hits["/jwks"] == 2, "a minute later: fetched once more, still unknown"
    for _ in range(3):
        flood = await answer_with(api, idp, signed(claims(api, idp), ATTACKER_KEY, kid="x"))
        assert flood.json()["message"] == PROVIDER_REFUSED
    assert idp.hits["/jwks"] == 2
    await assert_nobody_signed_in(api, flood)
    idp.answer("/jwks", Answer(body={"keys": [jwk(PROVIDER_KEY, "k1"), jwk(ROTATED_KEY, "k2")]}))
    api.clock.advance(seconds=61)
    rotated = await answer_with(api, idp, signed(claims(api, idp), ROTATED_KEY, kid="k2"))
    assert rotated.json()["status"] == "OK" and idp.hits["/jwks"] == 3


@pytest.mark.parametrize(
    "failure",
    [
        Answer(status=500, body={"error": "server_error"}),
        Answer(status=503, body=None),
        Answer(body=b'{"access_token": "at", "id_token": '),
        Answer(body=b"<!DOCTYPE html><html><body>Sign in to continue</body></html>",
               headers={"Content-Type": "text/html; charset=utf-8"}),
        Answer(body=["not", "an", "object"]),
    ],
    ids=["500", "503-empty", "truncated-json", "html", "json-array"],
)  # fmt: skip
async def test_a_token_endpoint_that_fails_is_try_again_and_signs_nobody_in(
    api: Api, idp: FakeProvider, events: list[dict[str, Any]], failure: Answer
) -> None:
    idp.answer("/token", failure)
    answer = await redirected(api, "forged", "a-code-the-provider-accepts")
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_DOWN}
    await assert_nobody_signed_in(api, answer)
    assert [e["event"] for e in events if e["event"] == "sign_in.failure"] == ["sign_in.failure"]
