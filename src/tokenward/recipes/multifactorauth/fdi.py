"""Multi-factor auth FDI routes (``PUT /mfa/info``, recovery codes), and what the other
recipes' second-factor routes share: the setup check and marking a factor complete in the
session, whose new ``st-mfa`` claim goes out on the same response."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.requests import BadRequest, json_body
from tokenward.recipes.multifactorauth.rules import (
    CLAIM_KEY,
    SECONDARY_FACTORS,
    CompletedRecently,
    FactorIds,
    MfaClaim,
    claim_of,
)
from tokenward.recipes.multifactorauth.service.factors import SessionFacts, UnknownSessionUser
from tokenward.recipes.session.errors import InvalidClaims, Unauthorised
from tokenward.recipes.session.request_session import Session, SessionOptions, require_session

PENDING_MFA = SessionOptions(claim_validators=())
"""MFA's own routes serve sessions whose second factor is still to come."""
CODES_MADE = "New recovery codes were made"
CODE_USED = "A recovery code was used to sign in"


async def _facts(session: Session) -> SessionFacts:
    """The session as MFA sees it; its start is read only when the claim must be rebuilt (a
    token without it)."""
    payload = session.access_token_payload
    created = 0 if claim_of(payload) is not None else await session.created_at_ms()
    return SessionFacts(
        session.user_id, session.recipe_user_id, session.tenant_id, payload, created
    )


@contextmanager
def _user_gone(message: str = "the session's user is gone") -> Iterator[None]:
    try:
        yield
    except UnknownSessionUser:
        raise Unauthorised(message, clear_tokens=True) from None


async def refetch_claim(session: Session) -> dict[str, Any]:
    """The claim for a session whose token lacks it (created before MFA, or by the app's own
    code): its login method as the first factor, ``v`` for what the user must complete."""
    with _user_gone():
        claim = await runtime(session.request).services.mfa.current_claim(await _facts(session))
    return {CLAIM_KEY: claim.entry()}


async def assert_may_set_up(request: Request, session: Session, factor: str) -> None:
    """403 with the ``st-mfa`` reason unless the session may set up (or, before the
    requirements are met, use) ``factor``."""
    with _user_gone():
        refusal = await runtime(request).services.mfa.setup_refusal(await _facts(session), factor)
    if refusal is not None:
        raise InvalidClaims([{"id": CLAIM_KEY, "reason": {"message": refusal}}])


async def complete_factor(request: Request, session: Session, factor: str) -> MfaClaim:
    """Mark ``factor`` completed now in the session (no new session): the response carries
    the access token with the updated claim."""
    with _user_gone():
        claim = await runtime(request).services.mfa.completed(await _facts(session), factor)
    await session.merge_into_access_token_payload({CLAIM_KEY: claim.entry()})
    audit(request, "mfa.factor_completed", user_id=session.user_id, factor=factor)
    return claim


def require_step_up(request: Request, session: Session) -> None:
    """403 unless the session completed a second factor within ``mfa_step_up_max_age`` (its
    factors are then asked for again: the frontends resync through ``PUT /mfa/info``)."""
    rt = runtime(request)
    check = CompletedRecently(SECONDARY_FACTORS, rt.settings.mfa_step_up_max_age)
    reason = check.validate(session.access_token_payload, rt.clock.now_ms())
    if reason is not None:
        raise InvalidClaims([{"id": check.id, "reason": reason}])


async def info(request: Request) -> Response:
    """``PUT /mfa/info``: what is set up, allowed and next, with the claim brought up to date."""
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    with _user_gone("User no longer associated with the session"):
        found = await rt.services.mfa.info(await _facts(session))
    if claim_of(session.access_token_payload) != found.claim:
        await session.merge_into_access_token_payload({CLAIM_KEY: found.claim.entry()})
    return JSONResponse(
        {
            "status": "OK",
            "factors": {
                "next": found.next,
                "alreadySetup": found.already_set_up,
                "allowedToSetup": found.allowed_to_set_up,
            },
            "emails": found.emails,
            "phoneNumbers": found.phone_numbers,
        }
    )


# --- recovery codes (tokenward's own) ------------------------------------------------------------


def notice(request: Request, session: Session, change: str) -> BackgroundTask:
    """The security notice about ``change``, sent once the answer is out (a slow or failing
    mail server neither delays nor fails the change)."""
    return BackgroundTask(runtime(request).services.mfa.notify, session.user_id, change)


async def create_recovery_codes(request: Request) -> Response:
    """A new set of recovery codes, shown this once; the old set stops working. They stand in
    for an authenticator app, so the user must have one, and must have completed a second
    factor recently (step-up) in a session that passed MFA."""
    rt = runtime(request)
    session = await require_session(request)
    if not await rt.services.totp.has_verified_device(session.user_id):
        return JSONResponse({"status": "NO_SECOND_FACTOR_ERROR"})
    require_step_up(request, session)
    codes = await rt.services.recovery_codes.issue(session.user_id)
    audit(request, "mfa.recovery_codes_created", user_id=session.user_id)
    answer = {"status": "OK", "recoveryCodes": codes}
    return JSONResponse(answer, background=notice(request, session, CODES_MADE))


async def count_recovery_codes(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    remaining = await rt.services.recovery_codes.remaining(session.user_id)
    return JSONResponse({"status": "OK", "remaining": remaining})


async def use_recovery_code(request: Request) -> Response:
    """A recovery code completes the second factor (it counts as any of them) once."""
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    code = _string(await json_body(request), "recoveryCode")
    if not await rt.services.recovery_codes.use(session.user_id, code):
        audit(request, "mfa.recovery_code_refused", user_id=session.user_id)
        return JSONResponse({"status": "INVALID_RECOVERY_CODE_ERROR"})
    audit(request, "mfa.recovery_code_used", user_id=session.user_id)
    await complete_factor(request, session, FactorIds.RECOVERY_CODE)
    remaining = await rt.services.recovery_codes.remaining(session.user_id)
    answer = {"status": "OK", "remaining": remaining}
    return JSONResponse(answer, background=notice(request, session, CODE_USED))


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} must be a non-empty string")
    return value
