"""POST {base}/session/refresh and POST {base}/signout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.audit import audit
from tokenward.http.context import runtime, token_writes
from tokenward.http.transport import ANTI_CSRF_HEADER
from tokenward.recipes.session.errors import Unauthorised
from tokenward.recipes.session.request_session import SessionOptions, require_session


async def refresh(request: Request) -> Response:
    """Exchange the refresh token for a new pair, in the mode it came in. Any failure clears
    the client's tokens so the frontend falls back to signing in."""
    rt = runtime(request)
    presented = rt.transport.refresh_token(request)
    if presented is None:
        raise Unauthorised("refresh token not found", clear_tokens=True)
    if rt.transport.needs_custom_header(request, presented):
        raise Unauthorised("anti-csrf check failed: send a 'rid' header", clear_tokens=True)
    issued = await rt.services.sessions.refresh(
        presented.value,
        anti_csrf_token=request.headers.get(ANTI_CSRF_HEADER),
        check_anti_csrf_token=rt.transport.checks_anti_csrf_token(presented),
    )
    token_writes(request).add(
        lambda headers: rt.transport.attach_tokens(request, headers, issued, presented.mode)
    )
    claims = issued.access.claims
    audit(request, "session.refresh", user_id=claims.user_id, session_handle=claims.session_handle)
    return JSONResponse({})


async def sign_out(request: Request) -> Response:
    """Revoke the request's session and clear its tokens (claims are not checked)."""
    session = await require_session(request, SessionOptions(claim_validators=()))
    await session.revoke()
    audit(request, "sign_out", user_id=session.user_id, session_handle=session.session_handle)
    return JSONResponse({"status": "OK"})
