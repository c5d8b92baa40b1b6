"""Email/password FDI routes: sign-up, sign-in, email exists, password reset.

Business outcomes are HTTP 200 with a ``status`` (the SDKs throw on any other status). A
successful sign-in or sign-up creates a session in the mode ``st-auth-mode`` asks for.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http import schemas as s
from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.forms import field_error_body, form_values, require
from tokenward.http.rate_limiting import password_was_reset
from tokenward.http.requests import json_body
from tokenward.http.sign_in import signed_in
from tokenward.http.tenants import tenant_of
from tokenward.recipes.emailpassword.errors import WrongCredentials
from tokenward.shared.email_delivery import EmailDeliveryError
from tokenward.shared.email_links.tokens import InvalidToken
from tokenward.shared.form_errors import FieldError, FieldErrors

EMAIL_NOT_SENT = "We could not send the email right now. Please try again in a few minutes."


CREDENTIALS = s.CREDENTIALS


async def sign_up(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    extra = rt.hooks.sign_up_fields
    values = form_values(await json_body(request), [*CREDENTIALS, *(f.id for f in extra)])
    try:
        require(values, [*CREDENTIALS, *(f.id for f in extra if not f.optional)])
        errors = [
            FieldError(field.id, message)
            for field in extra
            if field.validate is not None
            and field.id in values
            and (message := await field.validate(values[field.id])) is not None
        ]
        if errors:  # report every problem at once, and create nothing
            accounts = rt.services.accounts
            raise FieldErrors(
                [*accounts.input_errors(values["email"], values["password"]), *errors]
            )
        user = await rt.services.accounts.sign_up(tenant_id, values["email"], values["password"])
    except FieldErrors as failed:
        return JSONResponse(field_error_body(failed))
    return await signed_in(request, user, tenant_id, "sign_up", form=_without_password(values))


async def sign_in(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    values = form_values(await json_body(request), CREDENTIALS)
    try:
        require(values, CREDENTIALS)
        user = await rt.services.accounts.sign_in(tenant_id, values["email"], values["password"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    except WrongCredentials:
        audit(request, "sign_in.failure", tenant_id=tenant_id, email=values["email"])
        return JSONResponse({"status": "WRONG_CREDENTIALS_ERROR"})
    return await signed_in(request, user, tenant_id, "sign_in", form=_without_password(values))


def _without_password(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k != "password"}


async def email_exists(request: Request) -> Response:
    email = request.query_params.get("email")
    if not email:
        return JSONResponse({"message": "Please provide the email as a GET param"}, 400)
    exists = await runtime(request).services.accounts.email_exists(tenant_of(request), email)
    return JSONResponse({"status": "OK", "exists": exists})


async def send_reset_link(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)  # an invalid tenant is a 400 whatever the form holds
    try:
        values = form_values(await json_body(request), ("email",))
        require(values, ("email",))
        await rt.services.password_reset.send_link(tenant_id, values["email"])
        audit(request, "password_reset.requested", email=values["email"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    except EmailDeliveryError:
        return JSONResponse({"status": "GENERAL_ERROR", "message": EMAIL_NOT_SENT})
    return JSONResponse({"status": "OK"})


async def reset_password(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    body = await json_body(request)
    token = body.get("token")
    if not isinstance(token, str) or not token:
        return JSONResponse({"message": "Please provide the password reset token"}, 400)
    try:
        values = form_values(body, ("password",))
        require(values, ("password",))
        user_id = await rt.services.password_reset.reset(tenant_id, token, values["password"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    except InvalidToken:
        audit(request, "password_reset.failure", reason="invalid_token")
        return JSONResponse({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"})
    audit(request, "password_reset.completed", user_id=user_id)
    await password_was_reset(request, tenant_id, user_id)
    return JSONResponse({"status": "OK"})
