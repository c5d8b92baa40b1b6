"""Social login through the official supertokens-python SDK (0.31.4) with tokenward as its core:
the SDK's third-party recipe (custom OIDC providers, static in the SDK) logs in at a real local
OpenID provider (tests/support/oidc_provider.py), and every user, session and verified email
it makes goes through tokenward's core API over real HTTP."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.e2e.conftest import SDK_API_KEY
from tests.support.cli import clean_env
from tests.support.oidc_provider import OidcClient, OidcProvider, pkce_challenge
from tests.support.server import ServeProcess

HERE = Path(__file__).resolve().parent
TP = {"rid": "thirdparty", "fdi-version": "4.1", "st-auth-mode": "header"}
CORE = {"api-key": SDK_API_KEY, "cdi-version": "5.4"}
WEB, WEB_SECRET, SPA = "sdk-web", "sdk-web-client-secret-for-tests", "sdk-spa"
CALLBACK = "http://127.0.0.1:9/auth/callback/"
"""Where the provider sends the browser back (never called: the test takes the code)."""
ACCOUNTS = {"alice": {"email": "Alice@Example.com", "email_verified": True, "name": "Alice"}}
_ACCESS = re.compile(r'"(?P<request>[A-Z]+ \S+) HTTP/[\d.]+" (?P<status>\d{3})')


def rsa_only_jwks() -> dict[str, Any]:
    """The SDK reads every key of the provider's JWKS as RSA (RSAAlgorithm.from_jwk), so an
    ES256 key in it breaks ID-token verification: the provider gets a single RS256 key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    return {"keys": [{**jwk, "alg": "RS256", "use": "sig", "kid": "rs256-sdk"}]}


@pytest.fixture(scope="module")
def op() -> Iterator[OidcProvider]:
    with OidcProvider(
        clients=[
            # The SDK sends its secret in the token request's body.
            OidcClient(
                WEB,
                [CALLBACK + "local-oidc", CALLBACK + "core-oidc"],
                client_secret=WEB_SECRET,
                token_endpoint_auth_method="client_secret_post",
            ),
            OidcClient(SPA, [CALLBACK + "local-oidc-public"]),
        ],
        accounts=ACCOUNTS,
        jwks=rsa_only_jwks(),
    ) as provider:
        yield provider


@dataclass(frozen=True)
class Stack:
    url: str
    core: ServeProcess


@pytest.fixture
def stack(tmp_path: Path, database_url: str, op: OidcProvider) -> Iterator[Stack]:
    core_env = clean_env(TOKENWARD_DATABASE_URL=database_url, TOKENWARD_API_KEYS=SDK_API_KEY)
    with ServeProcess(tmp_path, env=core_env) as core:
        app_env = clean_env(
            TOKENWARD_CORE_URL=core.url,
            TOKENWARD_CORE_API_KEY=SDK_API_KEY,
            OIDC_DISCOVERY_URL=op.discovery_url,
            OIDC_WEB_CLIENT_ID=WEB,
            OIDC_WEB_CLIENT_SECRET=WEB_SECRET,
            OIDC_SPA_CLIENT_ID=SPA,
            TLDEXTRACT_CACHE=str(tmp_path / "tld-cache"),
        )
        command = [sys.executable, str(HERE / "sdk_thirdparty_app.py")]
        with ServeProcess(tmp_path, env=app_env, command=command) as app:
            yield Stack(app.url, core)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def assert_core_log_clean(stack: Stack) -> None:
    """Every core API call the SDK made got a 200: no missing route, no bad input, no crash."""
    log = stack.core.output()
    calls = [m for m in _ACCESS.finditer(log) if m["request"] != "GET /hello"]
    assert calls, log
    assert [c.group(0) for c in calls if c["status"] != "200"] == [], log
    assert "Traceback" not in log, log


def authorisation_url(client: httpx.Client, third_party_id: str) -> tuple[str, str | None]:
    answer = client.get(
        "/auth/authorisationurl",
        params={
            "thirdPartyId": third_party_id,
            "redirectURIOnProviderDashboard": CALLBACK + third_party_id,
        },
        headers=TP,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "OK", answer.text
    return body["urlWithQueryParams"], body.get("pkceCodeVerifier")


def social_login(
    client: httpx.Client, op: OidcProvider, third_party_id: str, login: str
) -> httpx.Response:
    """The whole round trip as a frontend makes it: the SDK's authorisation URL, the login at
    the provider, the code (and the PKCE verifier, if any) back to the SDK's /signinup."""
    url, verifier = authorisation_url(client, third_party_id)
    back = op.follow(url, login=login)
    redirect_info: dict[str, Any] = {
        "redirectURIOnProviderDashboard": CALLBACK + third_party_id,
        "redirectURIQueryParams": back,
    }
    if verifier is not None:
        redirect_info["pkceCodeVerifier"] = verifier
    answer = client.post(
        "/auth/signinup",
        json={"thirdPartyId": third_party_id, "redirectURIInfo": redirect_info},
        headers=TP,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "OK", answer.text
    return answer


def core_get(stack: Stack, path: str, **params: str) -> dict[str, Any]:
    answer = httpx.get(stack.core.url + path, params=params, headers=CORE, timeout=10)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_confidential_client_signs_up_then_in(stack: Stack, op: OidcProvider) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        url, verifier = authorisation_url(client, "local-oidc")
        query = parse_qs(urlsplit(url).query)
        assert url.startswith(op.authorization_endpoint + "?")
        assert query["client_id"] == [WEB] and query["response_type"] == ["code"]
        assert query["redirect_uri"] == [CALLBACK + "local-oidc"]
        assert query["scope"] == ["openid email profile"]
        assert verifier is None and "code_challenge" not in query  # a secret: no PKCE

        first = social_login(client, op, "local-oidc", "alice")
        body = first.json()
        assert body["createdNewRecipeUser"] is True
        user = body["user"]
        assert user["thirdParty"] == [{"id": "local-oidc", "userId": "alice"}]
        assert user["emails"] == ["alice@example.com"]
        [method] = user["loginMethods"]
        assert method["recipeId"] == "thirdparty" and method["verified"] is True
        assert method["recipeUserId"] == user["id"]

        access = first.headers["st-access-token"]
        me = client.get("/api/me", headers=bearer(access))
        assert me.status_code == 200, me.text
        assert me.json()["userId"] == user["id"]
        assert me.json()["payload"]["st-ev"]["v"] is True  # the provider said verified

        second = social_login(client, op, "local-oidc", "alice")
        assert second.json()["createdNewRecipeUser"] is False
        assert second.json()["user"]["id"] == user["id"]
        assert second.headers["st-access-token"] != access

    # The user, as tokenward's core has it.
    by_id = core_get(stack, "/user/id", userId=user["id"])
    assert by_id["status"] == "OK"
    assert by_id["user"]["thirdParty"] == [{"id": "local-oidc", "userId": "alice"}]
    assert by_id["user"]["loginMethods"][0]["verified"] is True
    found = core_get(
        stack, "/public/users/by-accountinfo", thirdPartyId="local-oidc", thirdPartyUserId="alice"
    )
    assert [u["id"] for u in found["users"]] == [user["id"]]
    verified = core_get(
        stack, "/recipe/user/email/verify", userId=user["id"], email="alice@example.com"
    )
    assert verified == {"status": "OK", "isVerified": True}
    assert_core_log_clean(stack)


def test_a_provider_configured_in_the_core_by_the_sdk_signs_users_in(
    stack: Stack, op: OidcProvider
) -> None:
    """The SDK's create_or_update_third_party_config stores the provider in tokenward's core;
    the SDK then reads it back from the core's tenant (with the core's providers present, the
    SDK offers only those) and signs a user in with it."""
    core_provider = {"third_party_id": "core-oidc", "client_id": WEB, "client_secret": WEB_SECRET}
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        assert client.put("/api/providers", json=core_provider).json() == {"createdNew": True}
        stored = core_get(stack, "/public/recipe/multitenancy/tenant/v2")["thirdParty"]
        assert [p["thirdPartyId"] for p in stored["providers"]] == ["core-oidc"]
        assert stored["providers"][0]["oidcDiscoveryEndpoint"] == op.discovery_url
        body = social_login(client, op, "core-oidc", "alice").json()
        assert body["status"] == "OK" and body["createdNewRecipeUser"] is True, body
        assert body["user"]["thirdParty"] == [{"id": "core-oidc", "userId": "alice"}]
        static = client.get(
            "/auth/authorisationurl",
            params={"thirdPartyId": "local-oidc", "redirectURIOnProviderDashboard": CALLBACK},
            headers=TP,
        )
        assert static.status_code == 400  # the SDK's own rule: core providers replace static ones
        removed = client.post("/api/providers/remove", json=core_provider).json()
        assert removed == {"didConfigExist": True}
        assert authorisation_url(client, "local-oidc")[0].startswith(op.authorization_endpoint)
    assert_core_log_clean(stack)


def test_public_client_gets_pkce(stack: Stack, op: OidcProvider) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        url, verifier = authorisation_url(client, "local-oidc-public")
        query = parse_qs(urlsplit(url).query)
        assert query["client_id"] == [SPA]
        assert verifier is not None
        assert query["code_challenge"] == [pkce_challenge(verifier)]
        assert query["code_challenge_method"] == ["S256"]

        # bob is not in the provider's accounts: bob@example.com, not verified.
        first = social_login(client, op, "local-oidc-public", "bob")
        user = first.json()["user"]
        assert first.json()["createdNewRecipeUser"] is True
        assert user["thirdParty"] == [{"id": "local-oidc-public", "userId": "bob"}]
        assert user["emails"] == ["bob@example.com"]
        assert user["loginMethods"][0]["verified"] is False
        me = client.get("/api/me", headers=bearer(first.headers["st-access-token"]))
        assert me.json()["payload"]["st-ev"]["v"] is False

        again = social_login(client, op, "local-oidc-public", "bob")
        assert again.json()["createdNewRecipeUser"] is False
        assert again.json()["user"]["id"] == user["id"]

        # The same provider account through the other provider id is another user.
        other = social_login(client, op, "local-oidc", "bob")
        assert other.json()["createdNewRecipeUser"] is True
        assert other.json()["user"]["id"] != user["id"]

        # The SDK's own account-info lookups, answered by tokenward.
        lookup = client.get(
            "/api/by-account-info",
            params={"third_party_id": "local-oidc-public", "third_party_user_id": "bob"},
        )
        assert [u["id"] for u in lookup.json()["users"]] == [user["id"]]
        assert lookup.json()["users"][0]["thirdParty"] == [
            {"id": "local-oidc-public", "userId": "bob"}
        ]
        by_email = client.get("/api/by-account-info", params={"email": "bob@example.com"})
        assert sorted(u["id"] for u in by_email.json()["users"]) == sorted(
            [user["id"], other.json()["user"]["id"]]
        )
        fetched = client.get(f"/api/users/{user['id']}").json()["user"]
        assert fetched["id"] == user["id"] and fetched["emails"] == ["bob@example.com"]
    assert_core_log_clean(stack)


def manual(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/manual", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["status"] == "OK", answer.text
    return result


def test_manually_create_or_update_user_follows_the_email(stack: Stack) -> None:
    tp = {"third_party_id": "manual-idp", "third_party_user_id": "m-1"}
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        created = manual(client, **tp, email="Old@Example.com", is_verified=False)
        assert created["createdNewRecipeUser"] is True
        user_id = created["user"]["id"]
        assert created["recipeUserId"] == user_id
        assert created["user"]["emails"] == ["old@example.com"]
        assert created["user"]["loginMethods"][0]["verified"] is False

        changed = manual(client, **tp, email="new@example.com", is_verified=True)
        assert changed["createdNewRecipeUser"] is False
        assert changed["user"]["id"] == user_id
        assert changed["user"]["emails"] == ["new@example.com"]
        assert changed["user"]["loginMethods"][0]["verified"] is True

        # Back to the first address, never verified; then to the second, verified before.
        back = manual(client, **tp, email="old@example.com", is_verified=False)
        assert back["user"]["loginMethods"][0]["verified"] is False
        again = manual(client, **tp, email="new@example.com", is_verified=False)
        assert again["user"]["loginMethods"][0]["verified"] is True
        manual(client, **tp, email="old@example.com", is_verified=False)

        lookup = client.get("/api/by-account-info", params={"email": "new@example.com"})
        assert lookup.json()["users"] == []
        lookup = client.get("/api/by-account-info", params={"email": "old@example.com"})
        assert [u["id"] for u in lookup.json()["users"]] == [user_id]
        lookup = client.get(
            "/api/by-account-info",
            params={"third_party_id": "manual-idp", "third_party_user_id": "m-1"},
        )
        assert [u["id"] for u in lookup.json()["users"]] == [user_id]
        lookup = client.get(
            "/api/by-account-info",
            params={"third_party_id": "manual-idp", "third_party_user_id": "m-2"},
        )
        assert lookup.json()["users"] == []
    assert core_get(stack, "/user/id", userId=user_id)["user"]["emails"] == ["old@example.com"]
    assert_core_log_clean(stack)


def test_account_info_lookups_match_all_unless_union(stack: Stack) -> None:
    """The SDK's list_users_by_account_info: with an email and a provider account, users
    with both (doUnionOfAccountInfo false, the SDK's default), or with either (true)."""
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        first = manual(
            client, third_party_id="idp-a", third_party_user_id="x", email="x@example.com",
            is_verified=True,
        )["user"]["id"]  # fmt: skip
        second = manual(
            client, third_party_id="idp-b", third_party_user_id="x", email="x@example.com",
            is_verified=False,
        )["user"]["id"]  # fmt: skip

        def ids(**params: Any) -> list[str]:
            answer = client.get("/api/by-account-info", params=params)
            assert answer.status_code == 200, answer.text
            return sorted(u["id"] for u in answer.json()["users"])  # joined in one ms: any order

        account = {"third_party_id": "idp-b", "third_party_user_id": "x"}
        assert ids(email="X@example.com") == sorted([first, second])
        assert ids(email="x@example.com", **account) == [second]
        assert ids(email="x@example.com", union=True, **account) == sorted([first, second])
        assert ids(email="other@example.com", **account) == []
        assert ids(email="other@example.com", union=True, **account) == [second]
    assert_core_log_clean(stack)
