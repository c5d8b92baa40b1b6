"""Core API (CDI) user-roles endpoints (SuperTokens' userroles recipe)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tokenward.http.context import runtime
from tokenward.http.core_api import (
    CdiBadRequest,
    body,
    cdi,
    ok,
    query_field,
    status,
    string_field,
)
from tokenward.http.tenants import tenant_of

UNKNOWN_ROLE = "UNKNOWN_ROLE_ERROR"


def _strings(data: dict[str, Any], name: str) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CdiBadRequest(f"Field name '{name}' is invalid in JSON input")
    return value


@cdi
async def put_role(request: Request) -> Response:
    data = await body(request)
    try:
        created = await runtime(request).services.roles.create_or_add_permissions(
            string_field(data, "role"), _strings(data, "permissions") or ()
        )
    except ValueError as exc:
        raise CdiBadRequest(str(exc)) from None
    return ok(createdNewRole=created)


@cdi
async def role_permissions(request: Request) -> Response:
    permissions = await runtime(request).services.roles.permissions(query_field(request, "role"))
    return status(UNKNOWN_ROLE) if permissions is None else ok(permissions=permissions)


@cdi
async def remove_role_permissions(request: Request) -> Response:
    data = await body(request)
    removed = await runtime(request).services.roles.remove_permissions(
        string_field(data, "role"), _strings(data, "permissions")
    )
    return ok() if removed else status(UNKNOWN_ROLE)


@cdi
async def permission_roles(request: Request) -> Response:
    roles = await runtime(request).services.roles.roles_with_permission(
        query_field(request, "permission")
    )
    return ok(roles=roles)


@cdi
async def remove_role(request: Request) -> Response:
    data = await body(request)
    existed = await runtime(request).services.roles.delete_role(string_field(data, "role"))
    return ok(didRoleExist=existed)


@cdi
async def all_roles(request: Request) -> Response:
    return ok(roles=await runtime(request).services.roles.all_roles())


@cdi
async def add_user_role(request: Request) -> Response:
    data = await body(request)
    try:
        outcome = await runtime(request).services.roles.add_user_role(
            tenant_of(request), string_field(data, "userId"), string_field(data, "role")
        )
    except ValueError as exc:
        raise CdiBadRequest(str(exc)) from None
    if outcome == "unknown_role":
        return status(UNKNOWN_ROLE)
    return ok(didUserAlreadyHaveRole=outcome == "already_exists")


@cdi
async def remove_user_role(request: Request) -> Response:
    data = await body(request)
    outcome = await runtime(request).services.roles.remove_user_role(
        tenant_of(request), string_field(data, "userId"), string_field(data, "role")
    )
    if outcome == "unknown_role":
        return status(UNKNOWN_ROLE)
    return ok(didUserHaveRole=outcome == "removed")


@cdi
async def user_roles(request: Request) -> Response:
    roles = await runtime(request).services.roles.user_roles(
        tenant_of(request), query_field(request, "userId")
    )
    return ok(roles=roles)


@cdi
async def role_users(request: Request) -> Response:
    users = await runtime(request).services.roles.users_with_role(
        tenant_of(request), query_field(request, "role")
    )
    return status(UNKNOWN_ROLE) if users is None else ok(users=users)
