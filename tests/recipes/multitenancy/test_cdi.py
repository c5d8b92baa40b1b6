"""The tenant as the core API describes it to the backend SDKs (GET .../tenant/v2)."""

from __future__ import annotations

from tests.support.api import running_api

KEY = "multitenancy-cdi-test-key-0123456789"
CORE = {"api-key": KEY, "cdi-version": "5.4"}


async def test_the_tenant_carries_the_required_second_factors_only_when_set(
    database_url: str,
) -> None:
    async with running_api(database_url, api_keys=KEY) as api:
        plain = await api.client.get("/public/recipe/multitenancy/tenant/v2", headers=CORE)
    assert plain.json() == {
        "status": "OK",
        "tenantId": "public",
        "thirdParty": {"providers": []},
        "coreConfig": {},
    }
    async with running_api(
        database_url, api_keys=KEY, mfa_required_secondary_factors="totp,otp-email"
    ) as api:
        required = await api.client.get("/public/recipe/multitenancy/tenant/v2", headers=CORE)
    assert required.json()["requiredSecondaryFactors"] == ["totp", "otp-email"]
    assert "firstFactors" not in required.json()  # every enabled login method
