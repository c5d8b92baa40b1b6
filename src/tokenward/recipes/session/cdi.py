"""CDI session endpoints that verify, inspect and change existing sessions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.core_api import (
    CdiBadRequest,
    body,
    cdi,
    object_field,
    ok,
    status,
    string_field,
)
from tokenward.http.tenants import tenant_of
from tokenward.recipes.session.errors import TokenTheftDetected, TryRefreshToken, Unauthorised
from tokenward.recipes.session.rules.access_token import AccessTokenClaims
from tokenward.recipes.session.service.types import AccessToken, IssuedTokens, VerifiedSession
from tokenward.shared.token_errors import ProtectedClaimError


def _session_json(verified: VerifiedSession) -> dict[str, Any]:
    claims = verified.new_access_token.claims if verified.new_access_token else verified.claims
    return {
        "handle": claims.session_handle,
        "userId": claims.user_id,
        "recipeUserId": claims.recipe_user_id,
        "userDataInJWT": _user_data(claims),
        "tenantId": claims.tenant_id,
    }


def _token_json(access: AccessToken) -> dict[str, Any]:
    return {
        "token": access.token,
        "expiry": access.expires_at_ms,
        "createdTime": access.claims.issued_at_s * 1000,
    }


def _issued_json(issued: IssuedTokens, tenant_id: str, recipe_user_id: str) -> dict[str, Any]:
    claims = issued.access.claims
    created = claims.issued_at_s * 1000
    answer: dict[str, Any] = {
        "session": {
            "handle": claims.session_handle,
            "userId": claims.user_id,
            "recipeUserId": recipe_user_id,
            "userDataInJWT": _user_data(claims),
            "tenantId": tenant_id,
        },
        "accessToken": _token_json(issued.access),
        "refreshToken": {
            "token": issued.refresh_token,
            "expiry": issued.refresh_expires_at_ms,
            "createdTime": created,
        },
    }
    if issued.anti_csrf_token is not None:
        answer["antiCsrfToken"] = issued.anti_csrf_token
    return answer


def _user_data(claims: AccessTokenClaims) -> dict[str, Any]:
    data = dict(claims.user_claims)
    if claims.issuer is not None:
        data["iss"] = claims.issuer
    return data


@cdi
async def create(request: Request) -> Response:
    data = await body(request)
    user_id = string_field(data, "userId")
    payload = data.get("userDataInJWT") or {}
    session_data = data.get("userDataInDatabase") or {}
    if not isinstance(payload, dict) or not isinstance(session_data, dict):
        raise CdiBadRequest("userDataInJWT and userDataInDatabase must be JSON objects")
    tenant_id = tenant_of(request)
    try:
        issued = await runtime(request).services.sessions.create(
            user_id,
            recipe_user_id=user_id,
            tenant_id=tenant_id,
            access_token_payload=payload,
            session_data=session_data,
            anti_csrf=data.get("enableAntiCsrf") is True,
        )
    except ProtectedClaimError as exc:
        raise CdiBadRequest(str(exc)) from None
    return ok(**_issued_json(issued, tenant_id, user_id))


@cdi
async def refresh(request: Request) -> Response:
    data = await body(request)
    token = string_field(data, "refreshToken")
    anti_csrf = data.get("antiCsrfToken")
    enabled = data.get("enableAntiCsrf") is True
    try:
        issued = await runtime(request).services.sessions.refresh(
            token,
            anti_csrf_token=anti_csrf if isinstance(anti_csrf, str) else None,
            check_anti_csrf_token=enabled,
            anti_csrf=enabled,
        )
    except TokenTheftDetected as theft:
        return JSONResponse(
            {
                "status": "TOKEN_THEFT_DETECTED",
                "session": {
                    "handle": theft.session_handle,
                    "userId": theft.user_id,
                    "recipeUserId": theft.recipe_user_id,
                },
            }
        )
    except Unauthorised as exc:
        return status("UNAUTHORISED", str(exc))
    claims = issued.access.claims
    return ok(**_issued_json(issued, claims.tenant_id, claims.recipe_user_id))


@cdi
async def user_sessions(request: Request) -> Response:
    user_id = request.query_params.get("userId")
    if not user_id:
        raise CdiBadRequest("Field name 'userId' is missing in GET request")
    all_tenants = request.query_params.get("fetchAcrossAllTenants", "true") != "false"
    tenant = None if all_tenants else tenant_of(request)
    handles = await runtime(request).services.sessions.handles_for_user(user_id, tenant)
    return ok(sessionHandles=handles)


@cdi
async def put_jwt_data(request: Request) -> Response:
    data = await body(request)
    handle = string_field(data, "sessionHandle")
    payload = object_field(data, "userDataInJWT")
    sessions = runtime(request).services.sessions
    try:
        if await sessions.info(handle) is None:
            return status("UNAUTHORISED", "Session does not exist.")
        await sessions.replace_payload(handle, payload)
    except ProtectedClaimError as exc:
        raise CdiBadRequest(str(exc)) from None
    return ok()


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
            anti_csrf=data.get("enableAntiCsrf") is True,
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
    except ProtectedClaimError as exc:
        raise CdiBadRequest(str(exc)) from None
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
        tenant_id = None if data.get("revokeAcrossAllTenants") is not False else tenant_of(request)
        revoked = await sessions.revoke_all_for_user(data["userId"], tenant_id)
    else:
        raise CdiBadRequest("Invalid JSON input: give sessionHandles or userId")
    if revoked:
        user_id = data.get("userId") if isinstance(data.get("userId"), str) else None
        audit(request, "session.revoked", user_id=user_id, session_handles=",".join(revoked))
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
