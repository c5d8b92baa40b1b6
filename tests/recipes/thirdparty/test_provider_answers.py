"""What tokenward does with what a provider or an app hands it, beyond the id token's own
checks (test_id_token_attacks.py), over the frontend API on SQLite and PostgreSQL: a discovery
document naming unusable endpoints, tokens an app sends (an id token of its own user with an
access token of someone else's), an id token nobody can check, an ``iss`` from a provider
without discovery, and malformed redirects. Never a 500; never a session it should not give."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.recipes.thirdparty.test_id_token_attacks import (
    CLIENT_ID,
    PROVIDER_KEY,
    WELL_KNOWN,
    claims,
    jwk,
    signed,
)
from tests.support.api import Api, assert_nobody_signed_in, running_api
from tests.support.idp import Answer, FakeProvider, Received
from tests.support.social import CALLBACK, redirected, sign_in_up
from tokenward.recipes.thirdparty.fdi import PROVIDER_DOWN, PROVIDER_REFUSED

SECRET = "rp-client-secret-0123456789"


def document(idp: FakeProvider, **changes: Any) -> dict[str, Any]:
    base = {
        "issuer": idp.base_url,
        "authorization_endpoint": idp.url("/authorize"),
        "token_endpoint": idp.url("/token"),
        "userinfo_endpoint": idp.url("/userinfo"),
        "jwks_uri": idp.url("/jwks"),
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def bearer_user(received: Received) -> Answer:
    """User info for whoever holds the access token: ``at-<user>`` is <user>'s."""
    token = received.headers.get("Authorization", "").removeprefix("Bearer ")
    user = token.removeprefix("at-")
    if user.startswith("nosub-"):  # a provider whose user info names nobody
        user = user.removeprefix("nosub-")
        return Answer(body={"email": f"{user}@example.com", "email_verified": True})
    return Answer(body={"sub": user, "email": f"{user}@example.com", "email_verified": True})


@pytest.fixture
def idp() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        provider.answer(WELL_KNOWN, Answer(body=document(provider)))
        provider.answer("/jwks", Answer(body={"keys": [jwk(PROVIDER_KEY, "k1")]}))
        provider.handle("/userinfo", bearer_user)
        yield provider


@pytest.fixture
async def api(database_url: str, idp: FakeProvider) -> AsyncIterator[Api]:
    client = {"clientId": CLIENT_ID, "clientSecret": SECRET}
    emails_from_user_info = {
        "fromUserInfoAPI": {"email": "email", "emailVerified": "email_verified"}
    }
    providers = [
        {"thirdPartyId": "oidc", "oidcDiscoveryEndpoint": idp.url(WELL_KNOWN), "clients": [client]},
        # The user id from the id token only, the email from user info: a common map.
        {"thirdPartyId": "mapped", "oidcDiscoveryEndpoint": idp.url(WELL_KNOWN),
         "userInfoMap": emails_from_user_info, "clients": [client]},
        # Endpoints given, no discovery: no keys to check an id token with, no issuer.
        {"thirdPartyId": "plain", "authorizationEndpoint": idp.url("/authorize"),
         "tokenEndpoint": idp.url("/token"), "userInfoEndpoint": idp.url("/userinfo"),
         "clients": [client]},
    ]  # fmt: skip
    async with running_api(database_url, thirdparty_providers=providers) as running:
        yield running


async def test_a_discovery_document_cannot_send_the_code_elsewhere(
    api: Api, idp: FakeProvider
) -> None:
    """A document naming a plain-http token endpoint off loopback (a cloud metadata address,
    say) is unusable: the provider is "not answering", and nothing is posted there."""
    idp.answer(WELL_KNOWN, Answer(body=document(idp, token_endpoint="http://169.254.169.254/t")))
    url = await api.client.get(
        "/auth/authorisationurl",
        params={"thirdPartyId": "oidc", "redirectURIOnProviderDashboard": CALLBACK},
        headers={"rid": "thirdparty"},
    )
    assert url.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_DOWN}
    answer = await redirected(api, "oidc", "a-code")
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_DOWN}
    await assert_nobody_signed_in(api, answer)
    idp.answer(WELL_KNOWN, Answer(body=document(idp, authorization_endpoint=None)))
    api.clock.advance(seconds=3601)  # past the discovery cache
    url = await api.client.get(
        "/auth/authorisationurl",
        params={"thirdPartyId": "oidc", "redirectURIOnProviderDashboard": CALLBACK},
        headers={"rid": "thirdparty"},
    )
    assert url.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_DOWN}


async def test_an_apps_id_token_cannot_carry_someone_elses_access_token(
    api: Api, idp: FakeProvider
) -> None:
    """The attacker's own id token (our audience) with the victim's access token (got through
    another app): user info names the victim, so it is not the id token's user."""
    own = signed(claims(api, idp, sub="attacker", email="attacker@example.com"))
    for provider in ("oidc", "mapped"):
        answer = await sign_in_up(
            api, provider, oAuthTokens={"id_token": own, "access_token": "at-victim"}
        )
        assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}, provider
        await assert_nobody_signed_in(api, answer)
    # User info that names nobody cannot be tied to the id token: it is not used at all.
    unnamed = await sign_in_up(
        api, "oidc", oAuthTokens={"id_token": own, "access_token": "at-nosub-victim"}
    )
    assert unnamed.json()["user"]["emails"] == ["attacker@example.com"]
    honest = await sign_in_up(
        api, "oidc", oAuthTokens={"id_token": own, "access_token": "at-attacker"}
    )
    body = honest.json()
    assert body["status"] == "OK" and body["user"]["emails"] == ["attacker@example.com"]


async def test_the_app_must_send_some_token(api: Api) -> None:
    for tokens in ({}, {"id_token": ""}, {"access_token": None}):
        answer = await api.client.post(
            "/auth/signinup",
            json={"thirdPartyId": "oidc", "oAuthTokens": tokens},
            headers={"rid": "thirdparty"},
        )
        assert answer.status_code == 400, tokens


async def test_an_id_token_nobody_can_check_is_ignored_from_the_exchange_refused_from_an_app(
    api: Api, idp: FakeProvider
) -> None:
    """Without discovery there are no keys: the token endpoint's id token (straight from the
    provider over TLS) is ignored and user info decides, as SuperTokens does (LinkedIn's case);
    an app's id token is refused, since nothing proves it was issued to us."""
    unverifiable = signed(claims(api, idp, sub="someone-else"))
    idp.answer("/token", Answer(body={"access_token": "at-dana", "id_token": unverifiable}))
    body = (await redirected(api, "plain", "a-code")).json()
    assert body["status"] == "OK" and body["user"]["thirdParty"] == [
        {"id": "plain", "userId": "dana"}
    ]
    app = await sign_in_up(api, "plain", oAuthTokens={"id_token": unverifiable})
    assert app.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}


async def test_an_iss_from_a_provider_without_discovery_is_not_held_against_it(
    api: Api, idp: FakeProvider
) -> None:
    idp.answer("/token", Answer(body={"access_token": "at-erin"}))
    info: dict[str, Any] = {
        "redirectURIOnProviderDashboard": CALLBACK,
        "redirectURIQueryParams": {"code": "c", "iss": "https://plain.example"},
    }
    body = (await sign_in_up(api, "plain", redirectURIInfo=info)).json()
    assert body["status"] == "OK", body


async def test_an_empty_code_is_a_refusal_not_a_crash(api: Api) -> None:
    info = {"redirectURIOnProviderDashboard": CALLBACK, "redirectURIQueryParams": {"code": ""}}
    answer = await sign_in_up(api, "oidc", redirectURIInfo=info)
    assert answer.json() == {"status": "GENERAL_ERROR", "message": PROVIDER_REFUSED}
