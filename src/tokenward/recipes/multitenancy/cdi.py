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
    providers = await runtime(request).services.thirdparty_providers.stored_providers(tenant_id)
    return ok(tenantId=tenant_id, thirdParty={"providers": providers}, coreConfig={})
