"""Core API (CDI) third-party endpoints, as supertokens-python 0.31 calls them: the SDK talks to
the provider itself and hands the core the account it found; the providers a tenant offers are
configured here too (SuperTokens keeps that route under multitenancy)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.context import runtime
from tokenward.http.core_api import (
    CdiBadRequest,
    body,
    cdi,
    object_field,
    ok,
    string_field,
)
from tokenward.http.tenants import tenant_of
from tokenward.recipes.thirdparty.port import ProviderAccount
from tokenward.recipes.thirdparty.rules.providers import InvalidProviderConfig
from tokenward.recipes.users.cdi import user_answer
from tokenward.shared.emails import email_error, normalise_email


@cdi
async def sign_in_up(request: Request) -> Response:
    """``POST /<tenant>/recipe/signinup``: ``{thirdPartyId, thirdPartyUserId, email: {id,
    isVerified}}`` → the user, created on first sign-in, its email kept in step."""
    rt = runtime(request)
    data = await body(request)
    email_field = object_field(data, "email")
    email = normalise_email(string_field(email_field, "id"))
    if email_error(email) is not None:
        raise CdiBadRequest("Field name 'email.id' is invalid in JSON input")
    verified = email_field.get("isVerified", False)
    if not isinstance(verified, bool):
        raise CdiBadRequest("Field name 'email.isVerified' is invalid in JSON input")
    account = ProviderAccount(
        string_field(data, "thirdPartyId"),
        string_field(data, "thirdPartyUserId"),
        email,
        verified,
    )
    done = await rt.stores.thirdparty.sign_in_up(
        tenant_of(request), account, new_user_id=str(uuid.uuid4()), now=rt.clock.now_ms()
    )
    return ok(
        createdNewUser=done.created,
        user=await user_answer(rt, done.user),
        recipeUserId=done.method.recipe_user_id,
    )


@cdi
async def put_provider(request: Request) -> Response:
    """``PUT /<tenant>/recipe/multitenancy/config/thirdparty``: ``{config, skipValidation?}``
    → ``{createdNew}``, or ``CONFIG_VALIDATION_ERROR`` with the reason."""
    data = await body(request)
    config = object_field(data, "config")
    skip = data.get("skipValidation", False)
    if not isinstance(skip, bool):
        raise CdiBadRequest("Field name 'skipValidation' is invalid in JSON input")
    try:
        created = await runtime(request).services.thirdparty_providers.put_provider(
            tenant_of(request), config, skip_validation=skip
        )
    except InvalidProviderConfig as invalid:
        return JSONResponse({"status": "CONFIG_VALIDATION_ERROR", "reason": str(invalid)})
    return ok(createdNew=created)


@cdi
async def remove_provider(request: Request) -> Response:
    """``POST /<tenant>/recipe/multitenancy/config/thirdparty/remove``: ``{thirdPartyId}`` →
    ``{didConfigExist}``."""
    third_party_id = string_field(await body(request), "thirdPartyId")
    removed = await runtime(request).services.thirdparty_providers.remove_provider(
        tenant_of(request), third_party_id
    )
    return ok(didConfigExist=removed)
