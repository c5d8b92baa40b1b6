"""The one place where exceptions become HTTP responses. Bodies never carry tracebacks or SQL."""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from tokenward.hooks import TheftEvent
from tokenward.http.audit import address, audit
from tokenward.http.context import session_access, token_writes
from tokenward.http.requests import BadRequest, PayloadTooLarge, UnsupportedMediaType
from tokenward.recipes.session.errors import (
    InvalidClaims,
    SessionBusy,
    TokenTheftDetected,
    TryRefreshToken,
    Unauthorised,
)
from tokenward.recipes.users.port import UnknownTenant
from tokenward.shared.database.errors import InvalidInput, StoreUnavailable
from tokenward.shared.password_hashing import HashingBusy
from tokenward.shared.token_errors import ProtectedClaimError

log = logging.getLogger("tokenward.http")

RETRY_AFTER_SECONDS = 5


def _unavailable(message: str, retry_after: int = RETRY_AFTER_SECONDS) -> Response:
    return JSONResponse(
        {"message": message}, status_code=503, headers={"Retry-After": str(retry_after)}
    )


async def store_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable during %s %s", request.method, request.url.path)
    return _unavailable("The service is temporarily unavailable; please retry.")


async def hashing_busy(request: Request, exc: Exception) -> Response:
    log.warning("password hashing queue full during %s %s", request.method, request.url.path)
    return _unavailable("Too many sign-ins at once; please retry.", 1)


async def session_busy(request: Request, exc: Exception) -> Response:
    return _unavailable("The session is being renewed concurrently; please retry.", 1)


async def try_refresh_token(request: Request, exc: Exception) -> Response:
    status = session_access(request).settings.session_expired_status_code
    return JSONResponse({"message": "try refresh token"}, status_code=status)


async def unauthorised(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorised) and exc.clear_tokens:
        token_writes(request).replace_all(session_access(request).transport.clear)
    return JSONResponse({"message": "unauthorised"}, status_code=401)


async def token_theft(request: Request, exc: Exception) -> Response:
    rt = session_access(request)
    if isinstance(exc, TokenTheftDetected):
        audit(
            request,
            "session.theft_detected",
            user_id=exc.user_id,
            session_handle=exc.session_handle,
        )
        event = TheftEvent(
            session_handle=exc.session_handle,
            user_id=exc.user_id,
            ip=address(request),
            user_agent=request.headers.get("user-agent"),
        )
        for hook in rt.hooks.on_theft_detected:
            await hook(event)
    token_writes(request).replace_all(rt.transport.clear)
    return JSONResponse({"message": "token theft detected"}, status_code=401)


async def invalid_claims(request: Request, exc: Exception) -> Response:
    errors = exc.errors if isinstance(exc, InvalidClaims) else []
    return JSONResponse(
        {"message": "invalid claim", "claimValidationErrors": errors},
        status_code=session_access(request).settings.invalid_claim_status_code,
    )


async def bad_request(request: Request, exc: Exception) -> Response:
    """Malformed input: the message is ours (never a parser's or a driver's text)."""
    return JSONResponse({"message": str(exc)}, status_code=400)


async def payload_too_large(request: Request, exc: Exception) -> Response:
    return JSONResponse({"message": "Request body is too large"}, status_code=413)


async def unsupported_media_type(request: Request, exc: Exception) -> Response:
    return JSONResponse({"message": "Content-Type must be application/json"}, status_code=415)


async def invalid_input(request: Request, exc: Exception) -> Response:
    return JSONResponse({"message": "Invalid input"}, status_code=400)


async def unknown_tenant(request: Request, exc: Exception) -> Response:
    return JSONResponse({"message": "Unknown tenant"}, status_code=400)


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client closed the connection before its body arrived: nobody reads the answer, and
    it is no server error (load generators and impatient browsers do it)."""
    log.debug("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error during %s %s", request.method, request.url.path)
    return JSONResponse({"message": "Internal error"}, status_code=500)


SESSION_HANDLERS: dict[type[Exception] | int, ExceptionHandler] = {
    StoreUnavailable: store_unavailable,
    SessionBusy: session_busy,
    HashingBusy: hashing_busy,
    TryRefreshToken: try_refresh_token,
    Unauthorised: unauthorised,
    TokenTheftDetected: token_theft,
    InvalidClaims: invalid_claims,
    ProtectedClaimError: bad_request,
    BadRequest: bad_request,
    PayloadTooLarge: payload_too_large,
    UnsupportedMediaType: unsupported_media_type,
    UnknownTenant: unknown_tenant,
    InvalidInput: invalid_input,
    ClientDisconnect: client_gone,
}
"""What ``Auth.install`` registers on an app (its own 500 handling stays the app's)."""
