"""Verifying the session of a request (token transport, anti-CSRF, claims), and the Session that
route handlers get.

``require_session`` and ``optional_session`` raise the service's session errors, which
``http.errors`` turns into the protocol's responses. Token changes (a replacement access token
after a promotion, a payload update, a revocation) are queued on the request and written into
the response's headers by ``TokenwardMiddleware``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from tokenward.http.context import session_access, token_writes
from tokenward.http.session_access import SessionAccess
from tokenward.http.transport import (
    ANTI_CSRF_HEADER,
    DuplicateAccessCookies,
    Mode,
    PresentedToken,
)
from tokenward.recipes.multifactorauth.rules import CLAIM_KEY as MFA_CLAIM
from tokenward.recipes.multifactorauth.rules import SECONDARY_FACTORS, CompletedRecently
from tokenward.recipes.session.errors import InvalidClaims, TryRefreshToken, Unauthorised
from tokenward.recipes.session.port import JsonObject
from tokenward.recipes.session.rules.access_token import build_payload
from tokenward.recipes.session.service.types import AccessToken, VerifiedSession
from tokenward.shared.claims import ClaimValidator, validate_all

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class SessionOptions:
    check_database: bool = False
    """Consult the session row, so a revocation is visible at once (one query)."""
    anti_csrf_check: bool | None = None
    """None: check on state-changing methods (not GET, HEAD or OPTIONS)."""
    claim_validators: Sequence[ClaimValidator] | None = None
    """None: the app's global validators; an empty sequence disables claim checks."""
    mfa: bool = True
    """False: the route opts out of MFA's check (``st-mfa``) and keeps the others."""
    step_up: int | None = None
    """Seconds: the session must have completed a second factor this recently (sensitive
    routes: changing a password, removing a device). The 403 sends the user to MFA again."""


class Session:
    """The verified session of one request."""

    def __init__(
        self, request: Request, rt: SessionAccess, verified: VerifiedSession, mode: Mode
    ) -> None:
        self._request = request
        self._rt = rt
        self._verified = verified
        self._mode = mode
        self._access: AccessToken | None = verified.new_access_token

    @property
    def request(self) -> Request:
        return self._request

    @property
    def user_id(self) -> str:
        return self._verified.claims.user_id

    @property
    def recipe_user_id(self) -> str:
        return self._verified.claims.recipe_user_id

    @property
    def tenant_id(self) -> str:
        return self._verified.claims.tenant_id

    @property
    def session_handle(self) -> str:
        return self._verified.claims.session_handle

    @property
    def access_token(self) -> str:
        return self._access.token if self._access else self._verified.access_token

    @property
    def access_token_payload(self) -> Mapping[str, Any]:
        if self._access is not None:
            return build_payload(self._access.claims)
        return self._verified.payload

    async def merge_into_access_token_payload(self, patch: Mapping[str, Any]) -> None:
        """Merge claims into the payload (``None`` deletes a key); the response carries the new
        access token. Reserved claim names raise ProtectedClaimError (400)."""
        access = await self._rt.sessions.merge_into_payload(
            self.session_handle, patch, access_token_str=self.access_token
        )
        if access is not None:
            self._access = access
            self._send(access)

    async def get_data(self) -> JsonObject:
        """The session's server-side data (never sent to the client)."""
        info = await self._rt.sessions.info(self.session_handle)
        if info is None:
            raise Unauthorised("session has ended", clear_tokens=True)
        return info.session_data

    async def created_at_ms(self) -> int:
        """When the session began (one read)."""
        info = await self._rt.sessions.info(self.session_handle)
        if info is None:
            raise Unauthorised("session has ended", clear_tokens=True)
        return info.created_at_ms

    async def update_data(self, data: Mapping[str, Any]) -> None:
        if not await self._rt.sessions.update_data(self.session_handle, data):
            raise Unauthorised("session has ended", clear_tokens=True)

    async def revoke(self) -> None:
        """End this session everywhere; the response clears the client's tokens."""
        await self._rt.sessions.revoke([self.session_handle])
        token_writes(self._request).replace_all(self._rt.transport.clear)

    def _send(self, access: AccessToken) -> None:
        transport, mode = self._rt.transport, self._mode
        token_writes(self._request).add(
            lambda headers: transport.attach_access_token(headers, access, mode)
        )


async def require_session(request: Request, options: SessionOptions = SessionOptions()) -> Session:
    """The request's session; Unauthorised (401, tokens kept) when it carries none."""
    rt = session_access(request)
    presented = _presented(request, rt)
    if presented is None:
        raise Unauthorised("no session", clear_tokens=False)
    return await _verify(request, rt, presented, options)


async def optional_session(
    request: Request, options: SessionOptions = SessionOptions()
) -> Session | None:
    """The request's session, or None when it carries no token. A token that fails still
    raises: an expired one must make the frontend refresh, not act signed out."""
    rt = session_access(request)
    presented = _presented(request, rt)
    if presented is None:
        return None
    return await _verify(request, rt, presented, options)


def _presented(request: Request, rt: SessionAccess) -> PresentedToken | None:
    try:
        return rt.transport.access_token(request)
    except DuplicateAccessCookies:
        raise TryRefreshToken("several access-token cookies were sent") from None


async def _verify(
    request: Request, rt: SessionAccess, presented: PresentedToken, options: SessionOptions
) -> Session:
    transport = rt.transport
    check_csrf = (
        options.anti_csrf_check
        if options.anti_csrf_check is not None
        else request.method not in SAFE_METHODS
    )
    if check_csrf and transport.needs_custom_header(request, presented):
        raise TryRefreshToken("anti-csrf check failed: send a 'rid' header")
    verified = await rt.sessions.verify(
        presented.value,
        check_database=options.check_database,
        anti_csrf_token=request.headers.get(ANTI_CSRF_HEADER),
        check_anti_csrf_token=check_csrf and transport.checks_anti_csrf_token(presented),
    )
    session = Session(request, rt, verified, presented.mode)
    if verified.new_access_token is not None:
        session._send(verified.new_access_token)
    validators = (
        rt.claim_validators if options.claim_validators is None else options.claim_validators
    )
    if not options.mfa:
        validators = [v for v in validators if v.id != MFA_CLAIM]
    if options.step_up is not None:
        validators = [*validators, CompletedRecently(SECONDARY_FACTORS, options.step_up)]
    if validators:
        for key, refetch in rt.claim_refetch.items():
            if key not in verified.payload and any(v.id == key for v in validators):
                await session.merge_into_access_token_payload(await refetch(session))
        errors = validate_all(session.access_token_payload, validators, rt.clock.now_ms())
        if errors:
            raise InvalidClaims(errors)
    return session
