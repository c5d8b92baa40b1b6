"""Third-party sign-in over the frontend API against a real OpenID provider on loopback
(oidc-provider, tests/support/oidc_provider.py): the authorisation URL with PKCE, the code
exchange, the id token checked with the provider's keys, and the attacks the checklist names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.api import Api, front, running_api
from tests.support.oidc_provider import OidcClient, OidcProvider

TP = {"rid": "thirdparty", "fdi-version": "4.2"}
CALLBACK = "http://localhost:3567/auth/callback/acme"
ACCOUNTS = {
    "alice": {"email": "Alice@Example.com", "email_verified": True},
    "mallory": {"email": "ceo@example.com", "email_verified": False},
}


@pytest.fixture(scope="module")
def op() -> Iterator[OidcProvider]:
    clients = [
        OidcClient("spa", [CALLBACK]),
        OidcClient("web", [CALLBACK], client_secret="a confidential client secret"),
        OidcClient("other", [CALLBACK], client_secret="another client secret!!"),
    ]
    with OidcProvider(clients=clients, accounts=ACCOUNTS) as provider:
        yield provider


def providers(op: OidcProvider) -> list[dict[str, Any]]:
    return [
        {
            "thirdPartyId": "acme",
            "name": "Acme SSO",
            "oidcDiscoveryEndpoint": op.discovery_url,
            "clients": [{"clientId": "spa", "scope": ["openid", "email"]}],
        },
        {
            "thirdPartyId": "acme-web",
            "oidcDiscoveryEndpoint": op.discovery_url,
            "clients": [
                {"clientId": "web", "clientSecret": "a confidential client secret",
                 "scope": ["openid", "email"]}
            ],
        },
        {
            "thirdPartyId": "untrusted",
            "oidcDiscoveryEndpoint": op.discovery_url,
            "trustEmailVerified": False,
            "clients": [{"clientId": "spa", "scope": ["openid", "email"]}],
        },
    ]  # fmt: skip


@pytest.fixture
async def api(database_url: str, op: OidcProvider) -> AsyncIterator[Api]:
    async with running_api(database_url, thirdparty_providers=providers(op)) as running:
        running.clock.now = int(__import__("time").time() * 1000)  # id tokens carry real times
        yield running


async def authorisation(api: Api, third_party_id: str = "acme", **extra: str) -> dict[str, Any]:
    params = {"thirdPartyId": third_party_id, "redirectURIOnProviderDashboard": CALLBACK, **extra}
    answer = await api.client.get("/auth/authorisationurl", params=params, headers=TP)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def redirect_info(code: str, verifier: str | None, uri: str = CALLBACK) -> dict[str, Any]:
    info: dict[str, Any] = {
        "redirectURIOnProviderDashboard": uri,
        "redirectURIQueryParams": {"code": code, "state": "frontend-state"},
    }
    if verifier is not None:
        info["pkceCodeVerifier"] = verifier
    return info


async def sign_in_up(api: Api, third_party_id: str, **body: Any) -> httpx.Response:
    return await api.client.post(
        "/auth/signinup", json={"thirdPartyId": third_party_id, **body}, headers=TP
    )


async def log_in(
    api: Api, op: OidcProvider, login: str = "alice", tp: str = "acme"
) -> httpx.Response:
    url = await authorisation(api, tp)
    verifier = url.get("pkceCodeVerifier")
    client_id = parse_qs(urlsplit(url["urlWithQueryParams"]).query)["client_id"][0]
    done = op.login(client_id, CALLBACK, login=login, pkce=verifier is not None,
                    code_verifier=verifier, scope="openid email")  # fmt: skip
    return await sign_in_up(api, tp, redirectURIInfo=redirect_info(done.code, verifier))


async def test_a_public_client_signs_up_with_pkce_then_signs_in_as_the_same_user(
    api: Api, op: OidcProvider
) -> None:
    url = await authorisation(api)
    params = parse_qs(urlsplit(url["urlWithQueryParams"]).query)
    assert url["urlWithQueryParams"].startswith(op.authorization_endpoint)
    assert params["code_challenge_method"] == ["S256"] and url["pkceCodeVerifier"]
    assert params["redirect_uri"] == [CALLBACK] and "state" not in params
    first = await log_in(api, op)
    body = first.json()
    assert body["status"] == "OK" and body["createdNewRecipeUser"] is True, body
    user = body["user"]
    assert user["thirdParty"] == [{"id": "acme", "userId": "alice"}]
    assert user["emails"] == ["alice@example.com"]
    assert user["loginMethods"][0]["verified"] is True
    assert front(first).user_id == user["id"]
    again = (await log_in(api, op)).json()
    assert again["createdNewRecipeUser"] is False and again["user"]["id"] == user["id"]


async def test_a_confidential_client_exchanges_its_code_with_the_secret(
    api: Api, op: OidcProvider
) -> None:
    url = await authorisation(api, "acme-web")
    assert "pkceCodeVerifier" not in url
    assert (await log_in(api, op, tp="acme-web")).json()["status"] == "OK"


async def test_an_untrusted_provider_emails_stay_unverified(api: Api, op: OidcProvider) -> None:
    body = (await log_in(api, op, tp="untrusted")).json()
    assert body["status"] == "OK" and body["user"]["loginMethods"][0]["verified"] is False


async def test_a_replayed_code_or_wrong_verifier_signs_nobody_in(
    api: Api, op: OidcProvider
) -> None:
    url = await authorisation(api)
    verifier = url["pkceCodeVerifier"]
    done = op.login("spa", CALLBACK, code_verifier=verifier, scope="openid email")
    wrong = await sign_in_up(api, "acme", redirectURIInfo=redirect_info(done.code, "x" * 43))
    assert wrong.json()["status"] == "GENERAL_ERROR" and "st-access-token" not in wrong.headers
    used = await sign_in_up(api, "acme", redirectURIInfo=redirect_info(done.code, verifier))
    assert used.json()["status"] == "OK"
    replay = await sign_in_up(api, "acme", redirectURIInfo=redirect_info(done.code, verifier))
    assert replay.json() == {
        "status": "GENERAL_ERROR",
        "message": "The sign-in provider did not confirm who you are. Please try again.",
    }, "a code works once; the provider refused it (a 4xx), it is not down"
    assert "st-access-token" not in replay.headers


async def test_a_redirect_naming_another_issuer_is_refused(api: Api, op: OidcProvider) -> None:
    """RFC 9207: the provider names itself in its redirect (oidc-provider does); a code sent
    back with another issuer's name is a mix-up (OAUTH-05) and is not even exchanged."""
    url = await authorisation(api)
    verifier = url["pkceCodeVerifier"]
    done = op.login("spa", CALLBACK, code_verifier=verifier, scope="openid email")
    assert done.iss == op.issuer
    mixed = redirect_info(done.code, verifier)
    mixed["redirectURIQueryParams"]["iss"] = "https://other-idp.example"
    refused = await sign_in_up(api, "acme", redirectURIInfo=mixed)
    assert refused.json()["status"] == "GENERAL_ERROR" and "st-access-token" not in refused.headers
    honest = redirect_info(done.code, verifier)
    honest["redirectURIQueryParams"]["iss"] = done.iss
    assert (await sign_in_up(api, "acme", redirectURIInfo=honest)).json()["status"] == "OK"


@pytest.mark.parametrize(
    "uri", ["https://evil.example/auth/callback/acme", "http://localhost:3567@evil.example/cb"]
)
async def test_a_foreign_redirect_uri_is_refused(api: Api, op: OidcProvider, uri: str) -> None:
    url = await api.client.get(
        "/auth/authorisationurl",
        params={"thirdPartyId": "acme", "redirectURIOnProviderDashboard": uri},
        headers=TP,
    )
    assert url.json()["status"] == "GENERAL_ERROR"
    answer = await sign_in_up(api, "acme", redirectURIInfo=redirect_info("code", None, uri))
    assert answer.json()["status"] == "GENERAL_ERROR"


async def test_an_id_token_for_another_client_is_refused(api: Api, op: OidcProvider) -> None:
    done = op.login("other", CALLBACK, pkce=False, scope="openid email")
    tokens = httpx.post(
        op.token_endpoint,
        data={"grant_type": "authorization_code", "code": done.code, "redirect_uri": CALLBACK},
        auth=("other", "another client secret!!"),
    ).json()
    answer = await sign_in_up(api, "acme", oAuthTokens={"id_token": tokens["id_token"]})
    assert answer.json()["status"] == "GENERAL_ERROR", "aud is 'other', not our 'spa'"
    unsigned = await sign_in_up(
        api, "acme", oAuthTokens={"id_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."}
    )
    assert unsigned.json()["status"] == "GENERAL_ERROR", "alg none"


async def test_unknown_providers_and_malformed_bodies_are_400(api: Api) -> None:
    unknown = await api.client.get(
        "/auth/authorisationurl",
        params={"thirdPartyId": "nope", "redirectURIOnProviderDashboard": CALLBACK},
        headers=TP,
    )
    assert unknown.status_code == 400
    for body in ({}, {"thirdPartyId": "acme"}, {"thirdPartyId": "acme", "oAuthTokens": "x"}):
        answer = await api.client.post("/auth/signinup", json=body, headers=TP)
        assert answer.status_code == 400, body


async def test_a_provider_that_is_down_is_a_retryable_error(database_url: str) -> None:
    down = [{"thirdPartyId": "gone", "oidcDiscoveryEndpoint": "http://127.0.0.1:9/.well-known/openid-configuration",
             "clients": [{"clientId": "spa"}]}]  # fmt: skip
    async with running_api(database_url, thirdparty_providers=down) as api:
        url = await api.client.get(
            "/auth/authorisationurl",
            params={"thirdPartyId": "gone", "redirectURIOnProviderDashboard": CALLBACK},
            headers=TP,
        )
        assert url.status_code == 200
        assert url.json() == {
            "status": "GENERAL_ERROR",
            "message": "The sign-in provider is not answering right now. Please try again.",
        }


async def test_login_methods_list_the_configured_providers(api: Api) -> None:
    answer = await api.client.get("/auth/loginmethods", headers={"rid": "multitenancy"})
    assert answer.json() == {
        "status": "OK",
        "emailPassword": {"enabled": True},
        "passwordless": {"enabled": True},
        "thirdParty": {
            "enabled": True,
            "providers": [
                {"id": "acme", "name": "Acme SSO"},
                {"id": "acme-web", "name": "acme-web"},
                {"id": "untrusted", "name": "untrusted"},
            ],
        },
        "webauthn": {"enabled": False},
        "firstFactors": [
            "emailpassword", "otp-email", "link-email", "otp-phone", "link-phone", "thirdparty",
        ],
    }  # fmt: skip
    tenant = await api.client.get("/auth/public/loginmethods", headers={"rid": "multitenancy"})
    assert tenant.json() == answer.json()
