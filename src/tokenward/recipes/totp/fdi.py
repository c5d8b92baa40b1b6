"""TOTP FDI routes, as supertokens-web-js's totp recipe calls them (no tenant segment): create,
list, remove and verify devices, and verify a code. Every route takes a session whose second
factor may still be pending; a code accepted here completes ``totp`` in that session."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.requests import BadRequest, json_body
from tokenward.recipes.multifactorauth.fdi import (
    PENDING_MFA,
    assert_may_set_up,
    complete_factor,
    notice,
    require_step_up,
)
from tokenward.recipes.multifactorauth.rules import CLAIM_KEY, FactorIds, claim_of
from tokenward.recipes.multifactorauth.rules import NOT_SATISFIED as MFA_PENDING
from tokenward.recipes.session.errors import InvalidClaims
from tokenward.recipes.session.request_session import Session, require_session
from tokenward.recipes.totp.service import (
    Accepted,
    DeviceAlreadyExists,
    LockedOut,
    UnknownDevice,
    UnknownUser,
    Verdict,
)

ADDED = "A TOTP authenticator app was added"
REMOVED = "A TOTP authenticator app was removed"


def _text(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadRequest(
            f"{name} must be a non-empty string" if required else f"{name} must be a string"
        )
    return value


async def create_device(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    name = _text(await json_body(request), "deviceName", required=False)
    await assert_may_set_up(request, session, FactorIds.TOTP)
    if await rt.services.totp.has_verified_device(session.user_id):
        # Another authenticator is a factor change: a stolen session must not add its own.
        require_step_up(request, session)
    try:
        device = await rt.services.totp.create_device(session.user_id, name)
    except DeviceAlreadyExists:
        return JSONResponse({"status": "DEVICE_ALREADY_EXISTS_ERROR"})
    except UnknownUser:
        return JSONResponse({"status": "GENERAL_ERROR", "message": "The user no longer exists"})
    except ValueError as invalid:
        raise BadRequest(str(invalid)) from None
    audit(request, "totp.device_created", user_id=session.user_id)
    account = await _account_name(request, session)
    return JSONResponse(
        {
            "status": "OK",
            "deviceName": device.name,
            "secret": device.secret,
            "qrCodeString": rt.services.totp.uri(device, account),
        }
    )


async def list_devices(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    devices = await rt.services.totp.devices(session.user_id)
    return JSONResponse(
        {
            "status": "OK",
            "devices": [
                {"name": d.name, "period": d.period, "skew": d.skew, "verified": d.verified}
                for d in devices
            ],
        }
    )


async def remove_device(request: Request) -> Response:
    """An unverified device (a set-up left halfway) goes freely. Otherwise, while the user has
    a verified device, the session must have passed MFA (as SuperTokens asks), and removing a
    verified device needs a second factor completed recently (step-up)."""
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    name = _text(await json_body(request), "deviceName", required=True) or ""
    devices = await rt.services.totp.devices(session.user_id)
    target = next((d for d in devices if d.name == name), None)
    if (target is None or target.verified) and any(d.verified for d in devices):
        claim = claim_of(session.access_token_payload)
        if claim is None or not claim.v:
            raise InvalidClaims([{"id": CLAIM_KEY, "reason": {"message": MFA_PENDING}}])
        if target is not None:
            require_step_up(request, session)
    # Removed only as it was checked: a device verified meanwhile stays.
    expected = None if target is None else target.verified
    removed = await rt.services.totp.remove_device(session.user_id, name, verified=expected)
    answer = {"status": "OK", "didDeviceExist": removed is not None}
    if removed is None:
        return JSONResponse(answer)
    audit(request, "totp.device_removed", user_id=session.user_id)
    if not removed.verified:
        return JSONResponse(answer)
    if not await rt.services.totp.has_verified_device(session.user_id):
        # Recovery codes stand in for a device: with none left they would be a way around the
        # next one the user sets up.
        await rt.services.recovery_codes.revoke(session.user_id)
    return JSONResponse(answer, background=notice(request, session, REMOVED))


async def verify_device(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    body = await json_body(request)
    name = _text(body, "deviceName", required=True) or ""
    code = _text(body, "totp", required=True) or ""
    await assert_may_set_up(request, session, FactorIds.TOTP)
    try:
        verdict = await rt.services.totp.verify_device(session.user_id, name, code)
    except UnknownDevice:
        return JSONResponse({"status": "UNKNOWN_DEVICE_ERROR"})
    answer = await _answer(request, session, verdict)
    if isinstance(verdict, Accepted):
        answer = {**answer, "wasAlreadyVerified": verdict.was_already_verified}
        if not verdict.was_already_verified:
            audit(request, "totp.device_verified", user_id=session.user_id)
            return JSONResponse(answer, background=notice(request, session, ADDED))
    return JSONResponse(answer)


async def verify_code(request: Request) -> Response:
    rt = runtime(request)
    session = await require_session(request, PENDING_MFA)
    code = _text(await json_body(request), "totp", required=True) or ""
    try:
        verdict = await rt.services.totp.verify_code(session.user_id, code)
    except UnknownUser:
        return JSONResponse({"status": "UNKNOWN_USER_ID_ERROR"})
    return JSONResponse(await _answer(request, session, verdict))


async def _answer(request: Request, session: Session, verdict: Verdict) -> dict[str, Any]:
    if isinstance(verdict, LockedOut):
        audit(request, "totp.locked", user_id=session.user_id)
        return {"status": "LIMIT_REACHED_ERROR", "retryAfterMs": verdict.retry_after_ms}
    if not isinstance(verdict, Accepted):
        audit(request, "totp.code_refused", user_id=session.user_id)
        return {
            "status": "INVALID_TOTP_ERROR",
            "currentNumberOfFailedAttempts": verdict.failures,
            "maxNumberOfFailedAttempts": verdict.max_attempts,
        }
    await complete_factor(request, session, FactorIds.TOTP)
    return {"status": "OK"}


async def _account_name(request: Request, session: Session) -> str | None:
    """The account shown in the authenticator app: the session login method's email or phone,
    else the user's first."""
    user = await runtime(request).stores.users.get(session.user_id)
    if user is None:
        return None
    methods = sorted(user.login_methods, key=lambda m: m.recipe_user_id != session.recipe_user_id)
    for method in methods:
        if method.email or method.phone_number:
            return method.email or method.phone_number
    return None
