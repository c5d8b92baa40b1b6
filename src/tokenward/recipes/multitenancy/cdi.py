"""Core API (CDI) multi-tenancy endpoints. Only the ``public`` tenant exists so far."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.context import runtime
from tokenward.http.core_api import cdi, ok, status
from tokenward.http.tenants import tenant_of


@cdi
async def tenant(request: Request) -> Response:
    tenant_id = tenant_of(request)
    if tenant_id != "public":
        return status("TENANT_NOT_FOUND_ERROR", f"Tenant with id {tenant_id} not found")
    app = runtime(request)
    providers = await app.services.thirdparty_providers.stored_providers(tenant_id)
    # The backend SDKs' MFA recipes require these factors (one of them) of every user, as
    # tokenward's own sign-in does; like SuperTokens' core, the key is left out when unset
    # (and so is firstFactors: every enabled login method is a first factor).
    required = list(app.settings.mfa_required_secondary_factors)
    return ok(
        tenantId=tenant_id,
        thirdParty={"providers": providers},
        coreConfig={},
        **({"requiredSecondaryFactors": required} if required else {}),
    )
