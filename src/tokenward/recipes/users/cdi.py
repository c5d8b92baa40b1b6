"""Core API (CDI) user endpoints: read, list, count and remove users (supertokens-python)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from tokenward.app.runtime import Runtime
from tokenward.http.context import runtime
from tokenward.http.core_api import CdiBadRequest, body, cdi, ok, status, string_field
from tokenward.http.records import UserUpdate
from tokenward.http.requests import Endpoint
from tokenward.http.tenants import tenant_of
from tokenward.recipes.users.port import UserRecord
from tokenward.recipes.users.wire import user_json
from tokenward.shared.emails import normalise_email
from tokenward.shared.phone_numbers import normalise_phone

MAX_PAGE = 1000


async def user_answer(rt: Runtime, user: UserRecord) -> dict[str, object]:
    """The core API's ``user`` object, with each login method's verification state."""
    return user_json(user, await rt.services.email_verification.verified_login_methods(user))


@cdi
async def user_by_id(request: Request) -> Response:
    rt = runtime(request)
    user_id = request.query_params.get("userId")
    if not user_id:
        raise CdiBadRequest("Field name 'userId' is missing in GET request")
    user = await rt.stores.users.get(user_id)
    if user is None:
        return status("UNKNOWN_USER_ID_ERROR")
    return ok(user=await user_answer(rt, user))


@cdi
async def users_by_account_info(request: Request) -> Response:
    """Users with a login method of this email, phone number or provider account, oldest
    first: users matching all the account info given, or any of it with
    ``doUnionOfAccountInfo=true`` (as SuperTokens' core; the SDK's default is false)."""
    rt = runtime(request)
    tenant_id = tenant_of(request)
    q = request.query_params
    email, phone = q.get("email"), q.get("phoneNumber")
    matches: list[list[UserRecord]] = []
    if email:
        matches.append(await rt.stores.users.with_email(tenant_id, normalise_email(email)))
    if phone:
        number = normalise_phone(phone) or phone.strip()
        passwordless = await rt.stores.users.find_passwordless(tenant_id, phone_number=number)
        matches.append([] if passwordless is None else [passwordless[0]])
    provider, account = q.get("thirdPartyId"), q.get("thirdPartyUserId")
    if provider and account:
        found = await rt.stores.users.find_third_party(tenant_id, provider, account)
        matches.append([] if found is None else [found])
    users = {user.user_id: user for match in matches for user in match}
    if q.get("doUnionOfAccountInfo", "false").lower() != "true":
        users = {
            user_id: user
            for user_id, user in users.items()
            if all(any(u.user_id == user_id for u in match) for match in matches)
        }
    ordered = sorted(users.values(), key=lambda u: (u.time_joined, u.user_id))
    return ok(users=[await user_answer(rt, user) for user in ordered])


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
    answer: dict[str, object] = {"users": [await user_answer(rt, u) for u in users[:limit]]}
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


def update_user(updates: Mapping[str, UserUpdate]) -> Endpoint:
    """``PUT /recipe/user``: find the login method ``recipeUserId`` names and hand the body to
    its recipe's update (each login recipe's record says how it changes its own)."""

    @cdi
    async def endpoint(request: Request) -> Response:
        data = await body(request)
        recipe_user_id = string_field(data, "recipeUserId")
        user = await runtime(request).stores.users.get(recipe_user_id)
        methods = user.login_methods if user is not None else ()
        method = next((m for m in methods if m.recipe_user_id == recipe_user_id), None)
        update = updates.get(method.recipe_id) if method is not None else None
        if method is None or update is None:
            return status("UNKNOWN_USER_ID_ERROR")
        return await update(request, data, method)

    return endpoint
