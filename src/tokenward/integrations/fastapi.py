"""FastAPI: a dependency that verifies the session.

auth = Auth(settings)
app = FastAPI(lifespan=lambda app: auth.lifespan())
auth.install(app)

@app.get("/api/me")
async def me(session: Session = Depends(verify_session())) -> dict[str, str]:
    return {"userId": session.user_id}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request

from tokenward.recipes.session.request_session import (
    Session,
    SessionOptions,
    optional_session,
    require_session,
)
from tokenward.shared.claims import ClaimValidator

__all__ = ["Session", "verify_session", "verify_optional_session"]


def _options(
    check_database: bool,
    anti_csrf_check: bool | None,
    claim_validators: Sequence[ClaimValidator] | None,
    mfa: bool,
    step_up: int | None,
) -> SessionOptions:
    return SessionOptions(
        check_database=check_database,
        anti_csrf_check=anti_csrf_check,
        claim_validators=claim_validators,
        mfa=mfa,
        step_up=step_up,
    )


def verify_session(
    *,
    check_database: bool = False,
    anti_csrf_check: bool | None = None,
    claim_validators: Sequence[ClaimValidator] | None = None,
    mfa: bool = True,
    step_up: int | None = None,
) -> Callable[[Request], Awaitable[Session]]:
    """``Depends(verify_session())``: the verified Session, or the protocol's 401/403.
    ``claim_validators`` replaces the global validators for this route (``[]`` disables them,
    MFA's too); ``mfa=False`` drops only MFA's check (a route a half-signed-in user may use);
    ``step_up=300`` asks for a second factor completed in the last 300 seconds."""
    options = _options(check_database, anti_csrf_check, claim_validators, mfa, step_up)

    async def dependency(request: Request) -> Session:
        return await require_session(request, options)

    return dependency


def verify_optional_session(
    *,
    check_database: bool = False,
    anti_csrf_check: bool | None = None,
    claim_validators: Sequence[ClaimValidator] | None = None,
    mfa: bool = True,
    step_up: int | None = None,
) -> Callable[[Request], Awaitable[Session | None]]:
    """Like ``verify_session`` but None when the request carries no session token."""
    options = _options(check_database, anti_csrf_check, claim_validators, mfa, step_up)

    async def dependency(request: Request) -> Session | None:
        return await optional_session(request, options)

    return dependency
