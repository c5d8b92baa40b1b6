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
from tokenward.recipes.passwordless.port import Accepted, Contact
from tokenward.recipes.passwordless.service import (
    CodeNotGenerated,
    DeliveryFailed,
    InvalidContact,
    RestartFlow,
    SignUpNotAllowed,
)
from tokenward.shared.emails import normalise_email
from tokenward.shared.phone_numbers import normalise_phone

SIGN_UP_NOT_ALLOWED = (
    "Cannot sign in / up due to security reasons. Please try a different login method or "
    "contact support. (ERR_CODE_002)"
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
    try:
        contact = passwordless.contact(email, phone)
        created, flow = await passwordless.start(tenant_id, contact)
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
    outcome = await rt.services.passwordless.consume(
        tenant_id, pre_auth, link_code=link_code, device_id=device_id, user_input_code=typed
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
