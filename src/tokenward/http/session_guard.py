"""Verifying the session of a request: token transport, anti-CSRF, claims.

``require_session`` and ``optional_session`` raise the service's session errors, which
``http.errors`` turns into the protocol's responses. When verification issued a replacement
access token, ``send_updates`` puts it on the response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from tokenward.core.claims import ClaimValidator, validate_all
from tokenward.http.state import Runtime
from tokenward.http.transport import (
    ANTI_CSRF_HEADER,
    DuplicateAccessCookies,
    Mode,
    PresentedToken,
)
from tokenward.service.errors import InvalidClaims, TryRefreshToken, Unauthorised
from tokenward.service.session_types import VerifiedSession

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class SessionOptions:
    check_database: bool = False
    anti_csrf_check: bool | None = None
    """None: check on state-changing methods (not GET, HEAD or OPTIONS)."""
    claim_validators: Sequence[ClaimValidator] | None = None
    """None: the app's global validators; an empty sequence disables claim checks."""


@dataclass(frozen=True, slots=True)
class RequestSession:
    verified: VerifiedSession
    mode: Mode


async def require_session(
    request: Request, runtime: Runtime, options: SessionOptions = SessionOptions()
) -> RequestSession:
    """The request's session; Unauthorised (401, tokens kept) when it carries none."""
    presented = _presented(request, runtime)
    if presented is None:
        raise Unauthorised("no session", clear_tokens=False)
    return await _verify(request, runtime, presented, options)


async def optional_session(
    request: Request, runtime: Runtime, options: SessionOptions = SessionOptions()
) -> RequestSession | None:
    """The request's session, or None when it carries no token. A token that fails still
    raises: an expired one must make the frontend refresh, not act signed out."""
    presented = _presented(request, runtime)
    if presented is None:
        return None
    return await _verify(request, runtime, presented, options)


def _presented(request: Request, runtime: Runtime) -> PresentedToken | None:
    try:
        return runtime.transport.access_token(request)
    except DuplicateAccessCookies:
        raise TryRefreshToken("several access-token cookies were sent") from None


async def _verify(
    request: Request, runtime: Runtime, presented: PresentedToken, options: SessionOptions
) -> RequestSession:
    transport = runtime.transport
    check_csrf = (
        options.anti_csrf_check
        if options.anti_csrf_check is not None
        else request.method not in SAFE_METHODS
    )
    if check_csrf and transport.needs_custom_header(request, presented):
        raise TryRefreshToken("anti-csrf check failed: send a 'rid' header")
    verified = await runtime.services.sessions.verify(
        presented.value,
        check_database=options.check_database,
        anti_csrf_token=request.headers.get(ANTI_CSRF_HEADER),
        check_anti_csrf_token=check_csrf and transport.checks_anti_csrf_token(presented),
    )
    validators = (
        runtime.claim_validators if options.claim_validators is None else options.claim_validators
    )
    if validators:
        errors = validate_all(verified.payload, validators, runtime.clock.now_ms())
        if errors:
            raise InvalidClaims(errors)
    return RequestSession(verified, presented.mode)


def send_updates(runtime: Runtime, session: RequestSession | None, response: Response) -> None:
    """Attach a replacement access token, if verification issued one."""
    if session is not None and session.verified.new_access_token is not None:
        runtime.transport.attach_access_token(
            response, session.verified.new_access_token, session.mode
        )
