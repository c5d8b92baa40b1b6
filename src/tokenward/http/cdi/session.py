"""CDI session endpoints that verify, inspect and change existing sessions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.cdi.guard import (
    CdiBadRequest,
    body,
    cdi,
    object_field,
    ok,
    status,
    string_field,
)
from tokenward.http.context import runtime
from tokenward.service.errors import TryRefreshToken, Unauthorised
from tokenward.service.session_types import AccessToken, VerifiedSession


def _session_json(verified: VerifiedSession) -> dict[str, Any]:
    claims = verified.new_access_token.claims if verified.new_access_token else verified.claims
    return {
        "handle": claims.session_handle,
        "userId": claims.user_id,
        "recipeUserId": claims.recipe_user_id,
        "userDataInJWT": dict(claims.user_claims),
        "tenantId": claims.tenant_id,
    }


def _token_json(access: AccessToken) -> dict[str, Any]:
    return {
        "token": access.token,
        "expiry": access.expires_at_ms,
        "createdTime": access.claims.issued_at_s * 1000,
    }


@cdi
async def verify(request: Request) -> Response:
    data = await body(request)
    token = string_field(data, "accessToken")
    anti_csrf = data.get("antiCsrfToken")
    try:
        verified = await runtime(request).services.sessions.verify(
            token,
            check_database=data.get("checkDatabase") is True,
            anti_csrf_token=anti_csrf if isinstance(anti_csrf, str) else None,
            check_anti_csrf_token=data.get("doAntiCsrfCheck") is True,
        )
    except TryRefreshToken as exc:
        return status("TRY_REFRESH_TOKEN", str(exc))
    except Unauthorised as exc:
        return status("UNAUTHORISED", str(exc))
    extra = {}
    if verified.new_access_token is not None:
        extra["accessToken"] = _token_json(verified.new_access_token)
    return ok(session=_session_json(verified), **extra)


@cdi
async def regenerate(request: Request) -> Response:
    """Replace the access-token payload (``userDataInJWT``) and reissue the given token."""
    data = await body(request)
    token = string_field(data, "accessToken")
    payload = object_field(data, "userDataInJWT")
    try:
        access = await runtime(request).services.sessions.regenerate(token, payload)
    except (Unauthorised, TryRefreshToken) as exc:
        return status("UNAUTHORISED", str(exc))
    verified = VerifiedSession(access.claims, access.token)
    return ok(session=_session_json(verified), accessToken=_token_json(access))


@cdi
async def remove(request: Request) -> Response:
    data = await body(request)
    sessions = runtime(request).services.sessions
    handles = data.get("sessionHandles")
    if isinstance(handles, list) and all(isinstance(h, str) for h in handles):
        revoked = await sessions.revoke(handles)
    elif isinstance(data.get("userId"), str):
        tenant_id = None if data.get("revokeAcrossAllTenants", True) else "public"
        revoked = await sessions.revoke_all_for_user(data["userId"], tenant_id)
    else:
        raise CdiBadRequest("Invalid JSON input: give sessionHandles or userId")
    return ok(sessionHandlesRevoked=revoked)


@cdi
async def get_session(request: Request) -> Response:
    handle = request.query_params.get("sessionHandle")
    if not handle:
        raise CdiBadRequest("Field name 'sessionHandle' is missing in GET request")
    info = await runtime(request).services.sessions.info(handle)
    if info is None:
        return status("UNAUTHORISED", "Session does not exist.")
    return ok(
        sessionHandle=info.session_handle,
        userId=info.user_id,
        recipeUserId=info.recipe_user_id,
        tenantId=info.tenant_id,
        userDataInDatabase=info.session_data,
        userDataInJWT=info.access_token_payload,
        expiry=info.expires_at_ms,
        timeCreated=info.created_at_ms,
    )


@cdi
async def put_data(request: Request) -> Response:
    data = await body(request)
    handle = string_field(data, "sessionHandle")
    values = object_field(data, "userDataInDatabase")
    if not await runtime(request).services.sessions.update_data(handle, values):
        return status("UNAUTHORISED", "Session does not exist.")
    return ok()
