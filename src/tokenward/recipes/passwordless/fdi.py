"""Passwordless FDI routes: create, resend and consume a code, and the exists checks.

Statuses and 400 messages as supertokens-python's passwordless API answers them (the official
frontends show its texts). A failing email or SMS sender is a ``GENERAL_ERROR`` the user can
retry; a consumed code signs up or in exactly as email/password does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.requests import BadRequest, json_body
from tokenward.http.sign_in import signed_in
from tokenward.http.tenants import tenant_of
from tokenward.recipes.multifactorauth.fdi import PENDING_MFA, complete_factor
from tokenward.recipes.multifactorauth.rules import factor_of
from tokenward.recipes.passwordless.port import Accepted, Contact, DeviceRecord
from tokenward.recipes.passwordless.service import (
    CodeNotGenerated,
    DeliveryFailed,
    InvalidContact,
    Purpose,
    RestartFlow,
    SignUpNotAllowed,
)
from tokenward.recipes.session.request_session import Session, require_session
from tokenward.recipes.users.port import UserRecord
from tokenward.recipes.users.wire import user_json
from tokenward.shared.emails import normalise_email
from tokenward.shared.phone_numbers import normalise_phone

SIGN_UP_NOT_ALLOWED = (
    "Cannot sign in / up due to security reasons. Please try a different login method or "
    "contact support. (ERR_CODE_002)"
)
NOT_YOURS = (
    "A code as a second factor goes only to a verified email or phone number of your account. "
    "Use one of them, or another factor."
)
NOT_SENT = "We could not send your sign-in code right now. Please try again in a few minutes."
NOT_GENERATED = "Failed to generate a one time code. Please try again"
RESTART = {"status": "RESTART_FLOW_ERROR"}


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


async def create_code(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    body = await json_body(request)
    email, phone = _text(body, "email"), _text(body, "phoneNumber")
    if (email is None) == (phone is None):
        raise BadRequest("Please provide exactly one of email or phoneNumber")
    method = rt.services.passwordless.policy.contact_method
    if email is None and not method.takes_phone:
        raise BadRequest('Please provide an email since you have set the contactMethod to "EMAIL"')
    if phone is None and not method.takes_email:
        raise BadRequest(
            'Please provide a phoneNumber since you have set the contactMethod to "PHONE"'
        )
    passwordless = rt.services.passwordless
    session = await _second_factor_session(request, body)
    purpose: Purpose = "sign_in" if session is None else "second_factor"
    try:
        contact = passwordless.contact(email, phone)
        if session is not None and await _owner(request, session, contact) is None:
            return JSONResponse({"status": "SIGN_IN_UP_NOT_ALLOWED", "reason": NOT_YOURS})
        created, flow = await passwordless.start(tenant_id, contact, purpose)
    except InvalidContact as invalid:
        return JSONResponse({"status": "GENERAL_ERROR", "message": str(invalid)})
    except SignUpNotAllowed:
        return JSONResponse({"status": "SIGN_IN_UP_NOT_ALLOWED", "reason": SIGN_UP_NOT_ALLOWED})
    except DeliveryFailed:
        audit(request, "passwordless.code_not_sent", tenant_id=tenant_id)
        return JSONResponse({"status": "GENERAL_ERROR", "message": NOT_SENT})
    except CodeNotGenerated:
        return JSONResponse({"status": "GENERAL_ERROR", "message": NOT_GENERATED})
    audit(request, "passwordless.code_sent", tenant_id=tenant_id, **_audited(contact))
    return JSONResponse(
        {
            "status": "OK",
            "deviceId": created.device_id,
            "preAuthSessionId": created.pre_auth_session_id,
            "flowType": flow.value,
        }
    )


async def resend_code(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    body = await json_body(request)
    device_id, pre_auth = _text(body, "deviceId"), _text(body, "preAuthSessionId")
    if device_id is None or pre_auth is None:
        raise BadRequest("Please provide deviceId and preAuthSessionId")
    try:
        await rt.services.passwordless.resend(tenant_id, device_id, pre_auth)
    except RestartFlow:
        return JSONResponse(RESTART)
    except DeliveryFailed:
        audit(request, "passwordless.code_not_sent", tenant_id=tenant_id)
        return JSONResponse({"status": "GENERAL_ERROR", "message": NOT_SENT})
    except CodeNotGenerated:
        return JSONResponse({"status": "GENERAL_ERROR", "message": NOT_GENERATED})
    audit(request, "passwordless.code_resent", tenant_id=tenant_id)
    return JSONResponse({"status": "OK"})


async def consume_code(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    body = await json_body(request)
    pre_auth = _text(body, "preAuthSessionId")
    if pre_auth is None:
        raise BadRequest("Please provide preAuthSessionId")
    device_id, typed = _text(body, "deviceId"), _text(body, "userInputCode")
    link_code = _text(body, "linkCode")
    if device_id is not None or typed is not None:
        if link_code is not None:
            raise BadRequest(
                "Please provide one of (linkCode) or (deviceId+userInputCode) and not both"
            )
        if device_id is None or typed is None:
            raise BadRequest("Please provide both deviceId and userInputCode")
    elif link_code is None:
        raise BadRequest(
            "Please provide one of (linkCode) or (deviceId+userInputCode) and not both"
        )
    session = await _second_factor_session(request, body)
    owner: UserRecord | None = None  # the session's user, whose second factor the code is
    if session is not None:
        device = await rt.services.passwordless.device(tenant_id, pre_auth)
        if device is None or not device.second_factor:
            return JSONResponse(RESTART)
        owner = await _owner(request, session, _contact_of(device))
        if owner is None:
            return JSONResponse({"status": "SIGN_IN_UP_NOT_ALLOWED", "reason": NOT_YOURS})
    outcome = await rt.services.passwordless.consume(
        tenant_id,
        pre_auth,
        link_code=link_code,
        device_id=device_id,
        user_input_code=typed,
        purpose="sign_in" if session is None else "second_factor",
    )
    if not isinstance(outcome, Accepted):
        audit(request, "sign_in.failure", tenant_id=tenant_id, reason=f"code_{outcome.reason}")
        if outcome.reason == "restart":
            return JSONResponse(RESTART)
        return JSONResponse(
            {
                "status": f"{outcome.reason.upper()}_USER_INPUT_CODE_ERROR",
                "failedCodeInputAttemptCount": outcome.failed_attempts,
                "maximumCodeInputAttempts": rt.services.passwordless.policy.max_attempts,
            }
        )
    factor = factor_of(
        "passwordless", email=outcome.device.email is not None, by_link=link_code is not None
    )
    if session is not None and owner is not None:  # (a second factor always has both)
        return await _second_factor_done(request, session, factor, owner)
    if outcome.user is None:  # a consume that signs in always names the user
        raise RuntimeError("the code was accepted without a user")
    device = outcome.device
    form = {
        k: v
        for k, v in (("email", device.email), ("phoneNumber", device.phone_number))
        if v is not None
    }
    return await signed_in(
        request,
        outcome.user,
        tenant_id,
        "sign_up" if outcome.created_user else "sign_in",
        form=form,
        recipe_user_id=outcome.recipe_user_id,
        answer={"createdNewRecipeUser": outcome.created_user},
        factor=factor,
    )


# --- a code as a second factor (MFA) -------------------------------------------------------------


async def _second_factor_session(request: Request, body: dict[str, Any]) -> Session | None:
    """The signed-in session a code completes a second factor of: the official frontends
    send ``shouldTryLinkingWithSessionUser: true`` for that (without it a code signs in)."""
    if body.get("shouldTryLinkingWithSessionUser") is not True:
        return None
    return await require_session(request, PENDING_MFA)


async def _owner(request: Request, session: Session, contact: Contact) -> UserRecord | None:
    """The session's user if ``contact`` is one of their verified emails or phone numbers
    (without account linking no new login method is made), else None. No setup check: the
    factor belongs to the session user already, and SuperTokens checks none for the session
    user's own login method (``OkSecondFactorLinkedResponse``); the check would refuse exactly
    the pending session the code is for, since the factor is set up and still to do."""
    mfa = runtime(request).services.mfa
    user = await runtime(request).stores.users.get(session.user_id)
    if user is None:
        return None
    factor = factor_of("passwordless", email=contact.email is not None, by_link=False)
    if factor not in mfa.secondary_factors:  # the flow type sends no codes this way
        return None
    standing = await mfa.standing(user, session.tenant_id)
    if contact.email in standing.emails or contact.phone_number in standing.phone_numbers:
        return user
    return None


def _contact_of(device: DeviceRecord) -> Contact:
    return Contact(email=device.email, phone_number=device.phone_number)


async def _second_factor_done(
    request: Request, session: Session, factor: str, user: UserRecord
) -> Response:
    """The code completed ``factor`` in the session (which gets the new claim; no new one)."""
    rt = runtime(request)
    await complete_factor(request, session, factor)
    verified = await rt.services.email_verification.verified_login_methods(user)
    return JSONResponse(
        {"status": "OK", "createdNewRecipeUser": False, "user": user_json(user, verified)}
    )


async def email_exists(request: Request) -> Response:
    email = request.query_params.get("email")
    if not email:
        raise BadRequest("Please provide the email as a GET param")
    return await _exists(request, email, None)


async def phone_number_exists(request: Request) -> Response:
    phone = request.query_params.get("phoneNumber")
    if not phone:
        raise BadRequest("Please provide the phoneNumber as a GET param")
    return await _exists(request, None, phone)


async def _exists(request: Request, email: str | None, phone: str | None) -> Response:
    passwordless = runtime(request).services.passwordless
    try:
        contact = passwordless.contact(email, phone)
    except InvalidContact:
        return JSONResponse({"status": "OK", "exists": False})  # nobody signs in with it
    exists = await passwordless.exists(tenant_of(request), contact)
    return JSONResponse({"status": "OK", "exists": exists})


def _audited(contact: Contact) -> dict[str, str]:
    if contact.email is not None:
        return {"email": contact.email}
    return {"phone_number": contact.phone_number or ""}


def contact_key(body: dict[str, Any]) -> str | None:
    """The normalised email or phone number a create-code body names (for its rate limit)."""
    email, phone = body.get("email"), body.get("phoneNumber")
    if isinstance(email, str):
        return normalise_email(email)
    if isinstance(phone, str):
        return normalise_phone(phone)
    return None


def device_key(body: dict[str, Any]) -> str | None:
    """The sign-in attempt a resend body names (for its rate limit)."""
    value = body.get("preAuthSessionId")
    return value if isinstance(value, str) and value else None
