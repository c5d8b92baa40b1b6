"""Core API (CDI) passwordless endpoints, as supertokens-python 0.31 calls them: create a code
(for a new or an existing device), check and consume it, list and remove codes.

The SDK sends the messages itself, so nothing here sends any."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.context import runtime
from tokenward.http.core_api import CdiBadRequest, body, cdi, ok, status, string_field
from tokenward.http.tenants import tenant_of
from tokenward.recipes.passwordless.port import Accepted, CodeCollision, Contact, DeviceRecord
from tokenward.recipes.passwordless.service import (
    CodeNotGenerated,
    InvalidContact,
    Passwordless,
    RestartFlow,
)
from tokenward.recipes.users.cdi import user_answer
from tokenward.recipes.users.port import (
    EmailAlreadyExists,
    LoginMethodRecord,
    PhoneNumberAlreadyExists,
)
from tokenward.shared.emails import email_error, normalise_email
from tokenward.shared.phone_numbers import INVALID_PHONE, normalise_phone

EXACTLY_ONE = "Please provide exactly one of linkCode or deviceId+userInputCode"


def _optional_text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CdiBadRequest(f"Field name '{name}' is invalid in JSON input")
    return value


def _contact(service: Passwordless, email: str | None, phone: str | None) -> Contact:
    try:
        return service.contact(email, phone, any_method=True)
    except InvalidContact as invalid:
        raise CdiBadRequest(str(invalid)) from None


@cdi
async def create_code(request: Request) -> Response:
    rt = runtime(request)
    service = rt.services.passwordless
    tenant_id = tenant_of(request)
    data = await body(request)
    typed = _optional_text(data, "userInputCode")
    device_id = _optional_text(data, "deviceId")
    try:
        if device_id is not None:
            created = await service.create_code_for_device(tenant_id, device_id, typed)
        else:
            email, phone = _optional_text(data, "email"), _optional_text(data, "phoneNumber")
            if (email is None) == (phone is None):
                raise CdiBadRequest("Please provide exactly one of email, phoneNumber or deviceId")
            contact = _contact(service, email, phone)
            created = await service.create_code(tenant_id, contact, typed)
    except RestartFlow:
        return status("RESTART_FLOW_ERROR")
    except (CodeCollision, CodeNotGenerated):
        return status("USER_INPUT_CODE_ALREADY_USED_ERROR")
    return ok(
        preAuthSessionId=created.pre_auth_session_id,
        codeId=created.code_id,
        deviceId=created.device_id,
        userInputCode=created.user_input_code,
        linkCode=created.link_code,
        timeCreated=created.time_created,
        codeLifetime=created.code_lifetime_ms,
    )


async def _use(request: Request, *, sign_in: bool) -> Response:
    rt = runtime(request)
    data = await body(request)
    pre_auth = string_field(data, "preAuthSessionId")
    link_code = _optional_text(data, "linkCode")
    device_id, typed = _optional_text(data, "deviceId"), _optional_text(data, "userInputCode")
    by_typed = device_id is not None and typed is not None
    if (link_code is not None) == by_typed or (not by_typed and (device_id or typed)):
        raise CdiBadRequest(EXACTLY_ONE)
    service = rt.services.passwordless
    outcome = await service.consume(
        tenant_of(request),
        pre_auth,
        link_code=link_code,
        device_id=device_id,
        user_input_code=typed,
        purpose="sign_in" if sign_in else "check",
    )
    if not isinstance(outcome, Accepted):
        if outcome.reason == "restart":
            return status("RESTART_FLOW_ERROR")
        return JSONResponse(
            {
                "status": f"{outcome.reason.upper()}_USER_INPUT_CODE_ERROR",
                "failedCodeInputAttemptCount": outcome.failed_attempts,
                "maximumCodeInputAttempts": service.policy.max_attempts,
            }
        )
    consumed = _consumed_device(outcome.device)
    if outcome.user is None:
        return ok(consumedDevice=consumed)
    return ok(
        createdNewUser=outcome.created_user,
        user=await user_answer(rt, outcome.user),
        recipeUserId=outcome.recipe_user_id,
        consumedDevice=consumed,
    )


@cdi
async def consume_code(request: Request) -> Response:
    return await _use(request, sign_in=True)


@cdi
async def check_code(request: Request) -> Response:
    return await _use(request, sign_in=False)


@cdi
async def list_codes(request: Request) -> Response:
    rt = runtime(request)
    service = rt.services.passwordless
    tenant_id = tenant_of(request)
    q = request.query_params
    devices: list[DeviceRecord]
    if (email := q.get("email")) is not None:
        devices = await service.devices_of(tenant_id, Contact(email=normalise_email(email)))
    elif (phone := q.get("phoneNumber")) is not None:
        number = normalise_phone(phone) or phone.strip()
        devices = await service.devices_of(tenant_id, Contact(phone_number=number))
    elif (device_id := q.get("deviceId")) is not None:
        found = await service.device_by_id(tenant_id, device_id)
        devices = [found] if found is not None else []
    elif (pre_auth := q.get("preAuthSessionId")) is not None:
        found = await service.device(tenant_id, pre_auth)
        devices = [found] if found is not None else []
    else:
        raise CdiBadRequest(
            "Please provide exactly one of email, phoneNumber, deviceId or preAuthSessionId"
        )
    return ok(devices=[_device_json(d) for d in devices])


@cdi
async def remove_code(request: Request) -> Response:
    data = await body(request)
    await runtime(request).services.passwordless.remove_code(
        tenant_of(request), string_field(data, "codeId")
    )
    return ok()


@cdi
async def remove_codes(request: Request) -> Response:
    service = runtime(request).services.passwordless
    data = await body(request)
    email, phone = _optional_text(data, "email"), _optional_text(data, "phoneNumber")
    if email is not None and phone is None and normalise_phone(email) is not None:
        # supertokens-python 0.31 sends a phone number in the "email" field here.
        email, phone = None, email
    if (email is None) == (phone is None):
        raise CdiBadRequest("Please provide exactly one of email or phoneNumber")
    if email is not None:
        contact = Contact(email=normalise_email(email))
    else:
        contact = Contact(phone_number=normalise_phone(phone or "") or (phone or "").strip())
    await service.remove_codes_of(tenant_of(request), contact)
    return ok()


def _consumed_device(device: DeviceRecord) -> dict[str, Any]:
    return {
        "preAuthSessionId": device.pre_auth_session_id,
        "failedCodeInputAttemptCount": device.failed_attempts,
        **({"email": device.email} if device.email is not None else {}),
        **({"phoneNumber": device.phone_number} if device.phone_number is not None else {}),
    }


def _device_json(device: DeviceRecord) -> dict[str, Any]:
    return {
        **_consumed_device(device),
        "codes": [
            {
                "codeId": c.code_id,
                "timeCreated": c.created_at,
                "codeLifetime": c.expires_at - c.created_at,
            }
            for c in device.codes
        ],
    }


async def update_user(
    request: Request, data: dict[str, Any], method: LoginMethodRecord
) -> Response:
    """``PUT /recipe/user`` for a passwordless login method: a new email and/or phone number
    (a key left out keeps its value, null removes it; one of the two must remain)."""
    email, phone = method.email, method.phone_number
    if "email" in data:
        email = _new_email(data)
    if "phoneNumber" in data:
        phone = _new_phone(data)
    if email is None and phone is None:
        raise CdiBadRequest("A passwordless user needs an email or a phone number")
    if (email, phone) == (method.email, method.phone_number):
        return ok()
    try:
        changed = await runtime(request).stores.users.set_contact(
            method.recipe_user_id, email=email, phone_number=phone
        )
    except EmailAlreadyExists:
        return status("EMAIL_ALREADY_EXISTS_ERROR")
    except PhoneNumberAlreadyExists:
        return status("PHONE_NUMBER_ALREADY_EXISTS_ERROR")
    return ok() if changed else status("UNKNOWN_USER_ID_ERROR")


def _new_email(data: dict[str, Any]) -> str | None:
    value = _optional_text(data, "email")
    if value is None:
        return None
    email = normalise_email(value)
    if (message := email_error(email)) is not None:
        raise CdiBadRequest(message)
    return email


def _new_phone(data: dict[str, Any]) -> str | None:
    value = _optional_text(data, "phoneNumber")
    if value is None:
        return None
    phone = normalise_phone(value)
    if phone is None:
        raise CdiBadRequest(INVALID_PHONE)
    return phone
