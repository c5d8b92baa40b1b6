"""Email/password FDI routes: sign-up, sign-in, email exists, password reset.

Business outcomes are HTTP 200 with a ``status`` (the SDKs throw on any other status). A
successful sign-in or sign-up creates a session in the mode ``st-auth-mode`` asks for.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.context import runtime, token_writes
from tokenward.http.fdi.forms import field_error_body, form_values
from tokenward.http.fdi.tenants import tenant_of
from tokenward.http.fdi.users import user_json
from tokenward.http.requests import json_body
from tokenward.http.state import Runtime
from tokenward.service.accounts import FieldErrors, InvalidToken, WrongCredentials
from tokenward.service.email_delivery import EmailDeliveryError
from tokenward.store.ports import UserRecord

EMAIL_NOT_SENT = "We could not send the email right now. Please try again in a few minutes."


async def sign_up(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    try:
        values = form_values(await json_body(request), ("email", "password"))
        user = await rt.services.accounts.sign_up(tenant_id, values["email"], values["password"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    return await _signed_in(request, rt, user, tenant_id)


async def sign_in(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    try:
        values = form_values(await json_body(request), ("email", "password"))
        user = await rt.services.accounts.sign_in(tenant_id, values["email"], values["password"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    except WrongCredentials:
        return JSONResponse({"status": "WRONG_CREDENTIALS_ERROR"})
    return await _signed_in(request, rt, user, tenant_id)


async def _signed_in(request: Request, rt: Runtime, user: UserRecord, tenant_id: str) -> Response:
    verification = rt.services.email_verification
    recipe_user_id = user.login_methods[0].recipe_user_id
    issued = await rt.services.sessions.create(
        user.user_id,
        recipe_user_id=recipe_user_id,
        tenant_id=tenant_id,
        access_token_payload=await verification.claim_payload(recipe_user_id),
    )
    verified = await verification.verified_login_methods(user)
    mode = rt.transport.creation_mode(request)
    token_writes(request).add(
        lambda headers: rt.transport.attach_tokens(request, headers, issued, mode)
    )
    return JSONResponse({"status": "OK", "user": user_json(user, verified)})


async def email_exists(request: Request) -> Response:
    email = request.query_params.get("email")
    if not email:
        return JSONResponse({"message": "Please provide the email as a GET param"}, 400)
    exists = await runtime(request).services.accounts.email_exists(tenant_of(request), email)
    return JSONResponse({"status": "OK", "exists": exists})


async def send_reset_link(request: Request) -> Response:
    rt = runtime(request)
    try:
        values = form_values(await json_body(request), ("email",))
        await rt.services.password_reset.send_link(tenant_of(request), values["email"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    except EmailDeliveryError:
        return JSONResponse({"status": "GENERAL_ERROR", "message": EMAIL_NOT_SENT})
    return JSONResponse({"status": "OK"})


async def reset_password(request: Request) -> Response:
    rt = runtime(request)
    body = await json_body(request)
    token = body.get("token")
    if not isinstance(token, str) or not token:
        return JSONResponse({"message": "Please provide the password reset token"}, 400)
    try:
        values = form_values(body, ("password",))
        await rt.services.password_reset.reset(tenant_of(request), token, values["password"])
    except FieldErrors as errors:
        return JSONResponse(field_error_body(errors))
    except InvalidToken:
        return JSONResponse({"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"})
    return JSONResponse({"status": "OK"})
