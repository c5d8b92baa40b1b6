"""Core API (CDI) email-verification endpoints: tokens, verifying, checking and unverifying."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.context import runtime
from tokenward.http.core_api import CdiBadRequest, body, cdi, ok, status, string_field
from tokenward.http.tenants import tenant_of
from tokenward.shared.email_links.tokens import InvalidToken
from tokenward.shared.emails import normalise_email


@cdi
async def verification_token(request: Request) -> Response:
    data = await body(request)
    token = await runtime(request).services.email_verification.create_token(
        string_field(data, "userId"),
        normalise_email(string_field(data, "email")),
        tenant_of(request),
    )
    if token is None:
        return status("EMAIL_ALREADY_VERIFIED_ERROR")
    return ok(token=token)


@cdi
async def verify_email(request: Request) -> Response:
    data = await body(request)
    if data.get("method") != "token":
        raise CdiBadRequest("Field name 'method' is invalid in JSON input")
    try:
        used = await runtime(request).services.email_verification.verify(
            tenant_of(request), string_field(data, "token")
        )
    except InvalidToken:
        return status("EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
    return ok(userId=used.user_id, email=used.email)


@cdi
async def is_email_verified(request: Request) -> Response:
    user_id, email = request.query_params.get("userId"), request.query_params.get("email")
    if not user_id or not email:
        raise CdiBadRequest("Field name 'userId' or 'email' is missing in GET request")
    verified = await runtime(request).stores.email_verification.is_verified(
        user_id, normalise_email(email)
    )
    return ok(isVerified=verified)


@cdi
async def unverify_email(request: Request) -> Response:
    data = await body(request)
    await runtime(request).stores.email_verification.unmark_verified(
        string_field(data, "userId"), normalise_email(string_field(data, "email"))
    )
    return ok()
