"""Starlette: verify the session inside an endpoint, or guard an endpoint with a decorator.

auth = Auth(settings)
app = Starlette(routes=[Route("/api/me", me)], lifespan=lambda app: auth.lifespan())
auth.install(app)

@requires_session()
async def me(request: Request, session: Session) -> Response:
    return JSONResponse({"userId": session.user_id})
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response

from tokenward.recipes.session.request_session import (
    Session,
    SessionOptions,
    optional_session,
    require_session,
)
from tokenward.shared.claims import ClaimValidator

SessionEndpoint = Callable[[Request, Session], Awaitable[Response]]

__all__ = [
    "Session",
    "SessionOptions",
    "get_optional_session",
    "get_session",
    "requires_session",
]


async def get_session(request: Request, options: SessionOptions | None = None) -> Session:
    """The request's verified session, or the protocol's 401/403 (raised, then answered)."""
    return await require_session(request, options or SessionOptions())


async def get_optional_session(
    request: Request, options: SessionOptions | None = None
) -> Session | None:
    """Like ``get_session``, but None when the request carries no session token."""
    return await optional_session(request, options or SessionOptions())


def requires_session(
    *,
    check_database: bool = False,
    anti_csrf_check: bool | None = None,
    claim_validators: Sequence[ClaimValidator] | None = None,
    mfa: bool = True,
    step_up: int | None = None,
) -> Callable[[SessionEndpoint], Callable[[Request], Awaitable[Response]]]:
    """Decorate ``async def endpoint(request, session)`` so it runs only with a valid session;
    otherwise the protocol's 401/403 answer goes out. ``mfa=False`` lets a session whose MFA
    is pending in; ``step_up`` asks for a second factor completed within that many seconds."""
    options = SessionOptions(
        check_database=check_database,
        anti_csrf_check=anti_csrf_check,
        claim_validators=claim_validators,
        mfa=mfa,
        step_up=step_up,
    )

    def decorate(endpoint: SessionEndpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            return await endpoint(request, await require_session(request, options))

        return guarded

    return decorate
