"""Core API (CDI) email/password endpoints: sign-up, sign-in, password changes and reset tokens."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.context import runtime
from tokenward.http.core_api import CdiBadRequest, body, cdi, ok, status, string_field
from tokenward.http.tenants import tenant_of
from tokenward.recipes.emailpassword.errors import WrongCredentials
from tokenward.recipes.users.cdi import user_answer
from tokenward.recipes.users.port import EmailAlreadyExists, LoginMethodRecord
from tokenward.shared.email_links.tokens import InvalidToken
from tokenward.shared.emails import normalise_email
from tokenward.shared.form_errors import FieldErrors


@cdi
async def sign_up(request: Request) -> Response:
    rt = runtime(request)
    data = await body(request)
    try:
        user = await rt.services.accounts.create_user(
            tenant_of(request), string_field(data, "email"), string_field(data, "password")
        )
    except EmailAlreadyExists:
        return status("EMAIL_ALREADY_EXISTS_ERROR")
    return ok(user=await user_answer(rt, user), recipeUserId=user.user_id)


@cdi
async def sign_in(request: Request) -> Response:
    rt = runtime(request)
    data = await body(request)
    try:
        user = await rt.services.accounts.sign_in(
            tenant_of(request), string_field(data, "email"), string_field(data, "password")
        )
    except (WrongCredentials, FieldErrors):  # a malformed email matches no account
        return status("WRONG_CREDENTIALS_ERROR")
    return ok(user=await user_answer(rt, user), recipeUserId=user.login_methods[0].recipe_user_id)


async def update_user(
    request: Request, data: dict[str, Any], method: LoginMethodRecord
) -> Response:
    """``PUT /recipe/user`` for an email/password login method: a new password (emails do not
    change yet)."""
    if data.get("email") is not None and method.email != normalise_email(str(data["email"])):
        return status("EMAIL_CHANGE_NOT_ALLOWED_ERROR", "Changing emails is not supported yet")
    password = data.get("password")
    if password is not None:
        if not isinstance(password, str) or not password:
            raise CdiBadRequest("Field name 'password' is invalid in JSON input")
        accounts = runtime(request).services.accounts
        if not await accounts.set_password(method.recipe_user_id, password):
            return status("UNKNOWN_USER_ID_ERROR")
    return ok()


@cdi
async def reset_token(request: Request) -> Response:
    rt = runtime(request)
    data = await body(request)
    user_id = string_field(data, "userId")
    email = normalise_email(string_field(data, "email"))
    user = await rt.stores.users.get(user_id)
    if user is None:
        return status("UNKNOWN_USER_ID_ERROR")
    token = await rt.services.password_reset.create_token(tenant_of(request), user_id, email)
    return ok(token=token)


@cdi
async def consume_reset_token(request: Request) -> Response:
    data = await body(request)
    try:
        used = await runtime(request).services.password_reset.consume(
            tenant_of(request), string_field(data, "token")
        )
    except InvalidToken:
        return status("RESET_PASSWORD_INVALID_TOKEN_ERROR")
    return ok(userId=used.user_id, email=used.email)
