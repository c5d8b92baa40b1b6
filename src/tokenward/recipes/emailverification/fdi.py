"""Email-verification FDI routes: send a link, use it, and read (and refresh) the claim."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.app.runtime import Runtime
from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.requests import json_body
from tokenward.http.tenants import tenant_of
from tokenward.recipes.emailpassword.fdi import EMAIL_NOT_SENT
from tokenward.recipes.emailverification.service import EMAIL_VERIFIED, Mode, SendOutcome
from tokenward.recipes.session.request_session import Session, SessionOptions, require_session
from tokenward.shared.email_delivery import EmailDeliveryError
from tokenward.shared.email_links.tokens import InvalidToken

# These routes serve unverified users, so the session check must not demand verification.
NO_CLAIMS = SessionOptions(claim_validators=())


async def send_link(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, NO_CLAIMS)
    try:
        outcome = await rt.services.email_verification.send_link(
            session.recipe_user_id, session.tenant_id
        )
    except EmailDeliveryError:
        return JSONResponse({"status": "GENERAL_ERROR", "message": EMAIL_NOT_SENT})
    if outcome is SendOutcome.ALREADY_VERIFIED:
        await _refresh_claim(rt, session, True)
    return JSONResponse({"status": outcome.value})


async def verify(request: Request) -> Response:
    rt = runtime(request)
    body = await json_body(request)
    token = body.get("token")
    if body.get("method") != "token" or not isinstance(token, str) or not token:
        return JSONResponse({"message": "Please provide the method 'token' and the token"}, 400)
    try:
        used = await rt.services.email_verification.verify(tenant_of(request), token)
    except InvalidToken:
        return JSONResponse({"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"})
    audit(request, "email.verified", user_id=used.user_id, email=used.email)
    return JSONResponse({"status": "OK"})


async def is_verified(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, NO_CLAIMS)
    verified = await rt.services.email_verification.is_verified(session.recipe_user_id)
    await _refresh_claim(rt, session, verified)
    return JSONResponse({"status": "OK", "isVerified": verified})


async def _refresh_claim(rt: Runtime, session: Session, value: bool) -> None:
    """Bring the token's st-ev claim up to date (a new access token goes out if it changed)."""
    if rt.services.email_verification.mode is Mode.OFF:
        return
    if EMAIL_VERIFIED.value(session.access_token_payload) == value:
        return
    await session.merge_into_access_token_payload(
        {EMAIL_VERIFIED.key: EMAIL_VERIFIED.entry(value, rt.clock.now_ms())}
    )
