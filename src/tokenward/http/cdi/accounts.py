"""CDI email/password, email-verification and user endpoints, as supertokens-python calls them."""

from __future__ import annotations

import base64
import json

from starlette.requests import Request
from starlette.responses import Response

from tokenward.core.emails import normalise_email
from tokenward.http.cdi.guard import CdiBadRequest, body, cdi, ok, status, string_field
from tokenward.http.context import runtime
from tokenward.http.state import Runtime
from tokenward.http.tenants import tenant_of
from tokenward.http.users import user_json
from tokenward.service.accounts import FieldErrors, InvalidToken, WrongCredentials
from tokenward.store.ports import EmailAlreadyExists, UserRecord

MAX_PAGE = 1000


async def _user(rt: Runtime, user: UserRecord) -> dict[str, object]:
    return user_json(user, await rt.services.email_verification.verified_login_methods(user))


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
    return ok(user=await _user(rt, user), recipeUserId=user.user_id)


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
    return ok(user=await _user(rt, user), recipeUserId=user.login_methods[0].recipe_user_id)


@cdi
async def update_user(request: Request) -> Response:
    rt = runtime(request)
    data = await body(request)
    recipe_user_id = string_field(data, "recipeUserId")
    if data.get("email") is not None:
        user = await rt.stores.users.get(recipe_user_id)
        current = user.login_methods[0].email if user and user.login_methods else None
        if user is None:
            return status("UNKNOWN_USER_ID_ERROR")
        if current != normalise_email(str(data["email"])):
            return status("EMAIL_CHANGE_NOT_ALLOWED_ERROR", "Changing emails is not supported yet")
    password = data.get("password")
    if password is not None:
        if not isinstance(password, str) or not password:
            raise CdiBadRequest("Field name 'password' is invalid in JSON input")
        if not await rt.services.accounts.set_password(recipe_user_id, password):
            return status("UNKNOWN_USER_ID_ERROR")
    elif await rt.stores.users.get(recipe_user_id) is None:
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


@cdi
async def verification_token(request: Request) -> Response:
    data = await body(request)
    token = await runtime(request).services.email_verification.create_token(
        string_field(data, "userId"),
        normalise_email(string_field(data, "email")),
        tenant_of(request),
    )
    if token is None:
        return status("EMAIL_ALREADY_VERIFIED_ERROR")
    return ok(token=token)


@cdi
async def verify_email(request: Request) -> Response:
    data = await body(request)
    if data.get("method") != "token":
        raise CdiBadRequest("Field name 'method' is invalid in JSON input")
    try:
        used = await runtime(request).services.email_verification.verify(
            tenant_of(request), string_field(data, "token")
        )
    except InvalidToken:
        return status("EMAIL_VERIFICATION_INVALID_TOKEN_ERROR")
    return ok(userId=used.user_id, email=used.email)


@cdi
async def is_email_verified(request: Request) -> Response:
    user_id, email = request.query_params.get("userId"), request.query_params.get("email")
    if not user_id or not email:
        raise CdiBadRequest("Field name 'userId' or 'email' is missing in GET request")
    verified = await runtime(request).stores.email_verification.is_verified(
        user_id, normalise_email(email)
    )
    return ok(isVerified=verified)


@cdi
async def unverify_email(request: Request) -> Response:
    data = await body(request)
    await runtime(request).stores.email_verification.unmark_verified(
        string_field(data, "userId"), normalise_email(string_field(data, "email"))
    )
    return ok()


@cdi
async def user_by_id(request: Request) -> Response:
    rt = runtime(request)
    user_id = request.query_params.get("userId")
    if not user_id:
        raise CdiBadRequest("Field name 'userId' is missing in GET request")
    user = await rt.stores.users.get(user_id)
    if user is None:
        return status("UNKNOWN_USER_ID_ERROR")
    return ok(user=await _user(rt, user))


@cdi
async def users_by_account_info(request: Request) -> Response:
    rt = runtime(request)
    email = request.query_params.get("email")
    found: list[dict[str, object]] = []
    if email:
        method = await rt.stores.users.find_email_password(
            tenant_of(request), normalise_email(email)
        )
        user = await rt.stores.users.get(method.user_id) if method else None
        if user is not None:
            found.append(await _user(rt, user))
    return ok(users=found)


@cdi
async def list_users(request: Request) -> Response:
    rt = runtime(request)
    params = request.query_params
    limit = _int(params.get("limit"), 100)
    if not 1 <= limit <= MAX_PAGE:
        raise CdiBadRequest(f"limit must be between 1 and {MAX_PAGE}")
    newest_first = params.get("timeJoinedOrder", "ASC").upper() == "DESC"
    after = _position(params.get("paginationToken"))
    tenant = tenant_of(request) if "tenant_id" in request.path_params else None
    users = await rt.stores.users.page(
        tenant, limit=limit + 1, after=after, newest_first=newest_first
    )
    answer: dict[str, object] = {"users": [await _user(rt, u) for u in users[:limit]]}
    if len(users) > limit:
        last = users[limit - 1]
        answer["nextPaginationToken"] = base64.b64encode(
            json.dumps([last.time_joined, last.user_id]).encode()
        ).decode()
    return ok(**answer)


@cdi
async def count_users(request: Request) -> Response:
    tenant = tenant_of(request) if "tenant_id" in request.path_params else None
    return ok(count=await runtime(request).stores.users.count(tenant))


@cdi
async def remove_user(request: Request) -> Response:
    rt = runtime(request)
    user_id = string_field(await body(request), "userId")
    await rt.services.sessions.revoke_all_for_user(user_id)
    await rt.services.roles.delete_user(user_id)
    await rt.services.user_metadata.clear(user_id)
    await rt.stores.users.delete(user_id)
    return ok()


@cdi
async def tenant(request: Request) -> Response:
    tenant_id = tenant_of(request)
    if tenant_id != "public":
        return status("TENANT_NOT_FOUND_ERROR", f"Tenant with id {tenant_id} not found")
    return ok(tenantId=tenant_id, thirdParty={"providers": []}, coreConfig={})


def _int(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise CdiBadRequest("limit must be a number") from None


def _position(token: str | None) -> tuple[int, str] | None:
    if not token:
        return None
    try:
        joined, user_id = json.loads(base64.b64decode(token, validate=True))
        if isinstance(joined, int) and isinstance(user_id, str):
            return joined, user_id
    except (ValueError, TypeError):
        pass
    raise CdiBadRequest("invalid pagination token")
