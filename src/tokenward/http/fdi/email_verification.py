"""Email-verification FDI routes: send a link, use it, and read (and refresh) the claim."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.fdi.email_password import EMAIL_NOT_SENT
from tokenward.http.fdi.tenants import tenant_of
from tokenward.http.requests import json_body
from tokenward.http.session_guard import SessionOptions, require_session, send_updates
from tokenward.http.state import Runtime, runtime
from tokenward.http.transport import Mode as TokenMode
from tokenward.service.accounts import InvalidToken
from tokenward.service.email_delivery import EmailDeliveryError
from tokenward.service.email_verification import EMAIL_VERIFIED, Mode, SendOutcome
from tokenward.service.session_types import VerifiedSession

# These routes serve unverified users, so the session check must not demand verification.
NO_CLAIMS = SessionOptions(claim_validators=())


async def send_link(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, rt, NO_CLAIMS)
    claims = session.verified.claims
    try:
        outcome = await rt.services.email_verification.send_link(
            claims.recipe_user_id, claims.tenant_id
        )
    except EmailDeliveryError:
        return JSONResponse({"status": "GENERAL_ERROR", "message": EMAIL_NOT_SENT})
    response = JSONResponse({"status": outcome.value})
    if outcome is SendOutcome.ALREADY_VERIFIED:
        await _refresh_claim(rt, session.verified, True, response, session.mode)
    return response


async def verify(request: Request) -> Response:
    rt = runtime(request)
    body = await json_body(request)
    token = body.get("token")
    if body.get("method") != "token" or not isinstance(token, str) or not token:
        return JSONResponse({"message": "Please provide the method 'token' and the token"}, 400)
    try:
        await rt.services.email_verification.verify(tenant_of(request), token)
    except InvalidToken:
        return JSONResponse({"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"})
    return JSONResponse({"status": "OK"})


async def is_verified(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, rt, NO_CLAIMS)
    verified = await rt.services.email_verification.is_verified(
        session.verified.claims.recipe_user_id
    )
    response = JSONResponse({"status": "OK", "isVerified": verified})
    send_updates(rt, session, response)
    await _refresh_claim(rt, session.verified, verified, response, session.mode)
    return response


async def _refresh_claim(
    rt: Runtime, verified: VerifiedSession, value: bool, response: Response, mode: TokenMode
) -> None:
    """Bring the token's st-ev claim up to date, sending a new access token if it changed."""
    if rt.services.email_verification.mode is Mode.OFF:
        return
    if EMAIL_VERIFIED.value(verified.payload) == value:
        return
    access = await rt.services.sessions.merge_into_payload(
        verified.session_handle,
        {EMAIL_VERIFIED.key: EMAIL_VERIFIED.entry(value, rt.clock.now_ms())},
        access_token_str=(
            verified.new_access_token.token if verified.new_access_token else verified.access_token
        ),
    )
    if access is not None:
        rt.transport.attach_access_token(response, access, mode)
