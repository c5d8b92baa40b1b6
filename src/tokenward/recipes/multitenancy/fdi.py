"""``GET /auth[/<tenant>]/loginmethods``: which ways to sign in the frontends should offer (the
official ones read it to build their sign-in forms)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.context import runtime
from tokenward.http.tenants import tenant_of


async def login_methods(request: Request) -> Response:
    tenant_id = tenant_of(request)  # an unknown tenant is a 400
    services = runtime(request).services
    policy = services.passwordless.policy
    passwordless = [
        f"{kind}-{contact}"
        for contact, takes in (("email", policy.contact_method.takes_email),
                               ("phone", policy.contact_method.takes_phone))
        for kind, sends in (("otp", policy.flow_type.sends_code),
                            ("link", policy.flow_type.sends_link))
        if takes and sends
    ]  # fmt: skip
    providers = [
        {"id": p.third_party_id, "name": p.name}
        for p in await services.thirdparty_providers.providers(tenant_id)
    ]
    first_factors = ["emailpassword", *passwordless, *(["thirdparty"] if providers else [])]
    return JSONResponse(
        {
            "status": "OK",
            "emailPassword": {"enabled": True},
            "passwordless": {"enabled": bool(passwordless)},
            "thirdParty": {"enabled": bool(providers), "providers": providers},
            "webauthn": {"enabled": False},
            "firstFactors": first_factors,
        }
    )
