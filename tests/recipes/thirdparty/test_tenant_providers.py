"""Providers configured per tenant through the core API (SuperTokens'
``/recipe/multitenancy/config/thirdparty``), stored in the database and offered by tokenward's
own frontend API, against the real OpenID provider on loopback; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.api import Api, running_api
from tests.support.clock import FakeClock
from tests.support.idp import Answer, FakeProvider
from tests.support.oidc_provider import OidcClient, OidcProvider
from tokenward.recipes.thirdparty.service.providers import MAX_CACHED, TenantProviders

KEY = "thirdparty-tenant-providers-key-0123"
CORE = {"api-key": KEY, "cdi-version": "5.4"}
TP = {"rid": "thirdparty", "fdi-version": "4.2"}
CALLBACK = "http://localhost:3567/auth/callback/corp"
SECRET = "the corp client secret, from the core API"
WELL_KNOWN = "/.well-known/openid-configuration"


@pytest.fixture(scope="module")
def op() -> Iterator[OidcProvider]:
    clients = [OidcClient("corp", [CALLBACK], client_secret=SECRET)]
    accounts = {"dana": {"email": "dana@corp.example", "email_verified": True}}
    with OidcProvider(clients=clients, accounts=accounts) as provider:
        yield provider


def corp(op: OidcProvider, **changes: Any) -> dict[str, Any]:
    return {
        "thirdPartyId": "corp",
        "name": "Corp SSO",
        "oidcDiscoveryEndpoint": op.discovery_url,
        "clients": [{"clientId": "corp", "clientSecret": SECRET, "scope": ["openid", "email"]}],
        **changes,
    }


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, api_keys=KEY) as running:
        running.clock.now = int(time.time() * 1000)  # the provider's id tokens carry real times
        yield running


async def put(api: Api, config: dict[str, Any], tenant: str = "public", **extra: Any) -> Any:
    answer = await api.client.put(
        f"/{tenant}/recipe/multitenancy/config/thirdparty",
        json={"config": config, **extra},
        headers=CORE,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def remove(api: Api, third_party_id: str) -> Any:
    answer = await api.client.post(
        "/public/recipe/multitenancy/config/thirdparty/remove",
        json={"thirdPartyId": third_party_id},
        headers=CORE,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def offered(api: Api) -> list[dict[str, str]]:
    answer = await api.client.get("/auth/loginmethods", headers={"rid": "multitenancy"})
    providers: list[dict[str, str]] = answer.json()["thirdParty"]["providers"]
    return providers


async def tenant_providers(api: Api) -> list[dict[str, Any]]:
    answer = await api.client.get("/public/recipe/multitenancy/tenant/v2", headers=CORE)
    assert answer.json()["status"] == "OK"
    providers: list[dict[str, Any]] = answer.json()["thirdParty"]["providers"]
    return providers


async def test_a_provider_put_through_the_core_api_signs_users_in(
    api: Api, op: OidcProvider
) -> None:
    assert await offered(api) == []
    assert await put(api, corp(op)) == {"status": "OK", "createdNew": True}
    assert await offered(api) == [{"id": "corp", "name": "Corp SSO"}]
    assert await tenant_providers(api) == [corp(op)]  # as given, for the backend SDKs
    url = await api.client.get(
        "/auth/authorisationurl",
        params={"thirdPartyId": "corp", "redirectURIOnProviderDashboard": CALLBACK},
        headers=TP,
    )
    built = url.json()
    assert built["status"] == "OK" and "pkceCodeVerifier" not in built  # confidential client
    assert parse_qs(urlsplit(built["urlWithQueryParams"]).query)["client_id"] == ["corp"]
    done = op.login("corp", CALLBACK, login="dana", pkce=False, scope="openid email")
    signed = await api.client.post(
        "/auth/signinup",
        json={
            "thirdPartyId": "corp",
            "redirectURIInfo": {
                "redirectURIOnProviderDashboard": CALLBACK,
                "redirectURIQueryParams": {"code": done.code},
            },
        },
        headers=TP,
    )
    body = signed.json()
    assert body["status"] == "OK" and body["user"]["emails"] == ["dana@corp.example"], body


async def test_put_again_replaces_and_remove_says_whether_it_existed(
    api: Api, op: OidcProvider
) -> None:
    await put(api, corp(op))
    assert await put(api, corp(op, name="Corp")) == {"status": "OK", "createdNew": False}
    assert await offered(api) == [{"id": "corp", "name": "Corp"}]
    assert await remove(api, "corp") == {"status": "OK", "didConfigExist": True}
    assert await remove(api, "corp") == {"status": "OK", "didConfigExist": False}
    assert await offered(api) == [] and await tenant_providers(api) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"clients": [{"clientId": ""}]}, "clientId is required"),
        ({"clients": [{"clientId": "a"}, {"clientId": "b"}]}, "each needs a clientType"),
        ({"oidcDiscoveryEndpoint": "http://idp.example/.well-known"}, "must use https"),
        ({"clients": "corp"}, "clients must be a non-empty list"),
    ],
)
async def test_a_bad_config_is_a_validation_error_and_not_stored(
    api: Api, op: OidcProvider, change: dict[str, Any], reason: str
) -> None:
    answer = await put(api, corp(op, **change))
    assert answer["status"] == "CONFIG_VALIDATION_ERROR" and reason in answer["reason"]
    assert await tenant_providers(api) == []


async def test_a_config_without_clients_is_kept_for_the_sdk_but_not_offered(
    api: Api, op: OidcProvider
) -> None:
    """SuperTokens' core takes a provider whose clients the backend SDK adds; tokenward's own
    frontend API cannot use it, so it does not offer it."""
    partial = {"thirdPartyId": "corp", "oidcDiscoveryEndpoint": op.discovery_url}
    assert (await put(api, partial))["createdNew"] is True
    assert await tenant_providers(api) == [partial]
    assert await offered(api) == []
    garbage = {"thirdPartyId": "odd", "clients": "not a list"}
    assert (await put(api, garbage, skipValidation=True))["status"] == "OK"
    assert await offered(api) == []


@pytest.mark.parametrize(
    "body",
    [{}, {"config": "corp"}, {"config": {"name": "no id"}}, {"config": {}, "skipValidation": "y"}],
)
async def test_malformed_requests_are_400(api: Api, body: dict[str, Any]) -> None:
    answer = await api.client.put(
        "/public/recipe/multitenancy/config/thirdparty", json=body, headers=CORE
    )
    assert answer.status_code in (200, 400)
    if answer.status_code == 200:
        assert answer.json()["status"] == "CONFIG_VALIDATION_ERROR"
    removal = await api.client.post(
        "/public/recipe/multitenancy/config/thirdparty/remove", json={}, headers=CORE
    )
    assert removal.status_code == 400


async def test_an_unknown_tenant_is_refused(api: Api, op: OidcProvider) -> None:
    answer = await api.client.put(
        "/acme/recipe/multitenancy/config/thirdparty", json={"config": corp(op)}, headers=CORE
    )
    assert answer.status_code == 400


async def test_without_the_api_key_nothing_is_stored(api: Api, op: OidcProvider) -> None:
    answer = await api.client.put(
        "/public/recipe/multitenancy/config/thirdparty", json={"config": corp(op)}
    )
    assert answer.status_code == 401 and await tenant_providers(api) == []


async def test_another_instance_sees_the_change_within_seconds(
    database_url: str, api: Api, op: OidcProvider
) -> None:
    async with running_api(database_url, api_keys=KEY) as other:
        other.clock.now = api.clock.now
        assert await offered(other) == []
        await put(api, corp(op))
        assert await offered(other) == []  # still its cached list
        other.clock.now += 5_000
        assert await offered(other) == [{"id": "corp", "name": "Corp SSO"}]
        await remove(api, "corp")
        other.clock.now += 5_000
        assert await offered(other) == []


class SlowConfigs:
    """A store whose reads wait until the test lets them go, to interleave a change."""

    def __init__(self, stored: list[dict[str, Any]]) -> None:
        self.stored = stored
        self.gate = asyncio.Event()

    async def put_provider(
        self, tenant_id: str, third_party_id: str, config: Any, *, now: int
    ) -> bool:
        self.stored.append(dict(config))
        return True

    async def remove_provider(self, tenant_id: str, third_party_id: str) -> bool:
        self.stored[:] = [c for c in self.stored if c["thirdPartyId"] != third_party_id]
        return True

    async def tenant_providers(self, tenant_id: str) -> list[dict[str, Any]]:
        snapshot = list(self.stored)
        await self.gate.wait()
        return snapshot


async def test_a_read_overtaken_by_a_removal_is_not_cached(op: OidcProvider) -> None:
    """A read that began before a removal must not keep the removed provider for 5 s."""
    configs = SlowConfigs([corp(op)])
    async with httpx.AsyncClient() as http:
        providers = TenantProviders(configs, [], http, FakeClock())
        slow_read = asyncio.create_task(providers.providers("public"))
        await asyncio.sleep(0)  # the read has its snapshot and waits
        configs.gate.set()
        await providers.remove_provider("public", "corp")
        assert [p.third_party_id for p in await slow_read] == ["corp"]  # what it read
        assert await providers.providers("public") == []  # but not kept


async def test_tenant_ids_in_urls_cannot_grow_the_cache_without_bound(op: OidcProvider) -> None:
    """Any well-formed tenant id in a URL is looked up: the per-tenant cache keeps at most
    MAX_CACHED of them, the oldest going first."""
    configs = SlowConfigs([])
    configs.gate.set()
    async with httpx.AsyncClient() as http:
        providers = TenantProviders(configs, [], http, FakeClock())
        for n in range(MAX_CACHED + 50):
            await providers.providers(f"t-{n}")
        assert len(providers._tenants) == MAX_CACHED
        assert "t-0" not in providers._tenants and f"t-{MAX_CACHED + 49}" in providers._tenants


async def test_concurrent_requests_on_a_cold_cache_fetch_the_document_once() -> None:
    """A slow provider is asked for its discovery document once, not once per waiting user."""
    with FakeProvider() as idp:
        document = {"issuer": idp.base_url, "authorization_endpoint": idp.url("/authorize"),
                    "token_endpoint": idp.url("/token"), "jwks_uri": idp.url("/jwks")}  # fmt: skip
        idp.answer(WELL_KNOWN, Answer(body=document, delay_s=0.3))  # long enough to overlap
        config = {"thirdPartyId": "slow", "oidcDiscoveryEndpoint": idp.url(WELL_KNOWN),
                  "clients": [{"clientId": "c"}]}  # fmt: skip
        configs = SlowConfigs([config])
        configs.gate.set()
        async with httpx.AsyncClient() as http:
            providers = TenantProviders(configs, [], http, FakeClock())
            provider = await providers.provider("public", "slow")
            found = await asyncio.gather(
                *(providers.discovered("public", provider) for _ in range(10))
            )
        assert idp.hits[WELL_KNOWN] == 1
        assert {f.provider.token_endpoint for f in found} == {idp.url("/token")}
