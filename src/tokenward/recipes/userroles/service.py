"""Roles and permissions (SuperTokens' userroles recipe), and the ``st-role`` / ``st-perm``
claims that carry a user's roles and permissions in the access token.

Roles and permissions belong to the app; a user holds roles per tenant. Role and permission
names are trimmed and must not be empty, as SuperTokens' core requires; a name the store cannot
hold raises ValueError (a 400), never a database error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tokenward.recipes.userroles.port import AddUserRoleOutcome, RemoveUserRoleOutcome, RoleStore
from tokenward.shared.claims import PrimitiveArrayClaim
from tokenward.shared.clock import Clock

ROLES_CLAIM = PrimitiveArrayClaim("st-role")
PERMISSIONS_CLAIM = PrimitiveArrayClaim("st-perm")

# Column sizes in shared/database/schema.py.
MAX_NAME_LENGTH = 255
MAX_USER_ID_LENGTH = 128
MAX_TENANT_ID_LENGTH = 64


def _check(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    if "\x00" in value:
        raise ValueError(f"{field} must not contain a NUL character")
    if len(value) > max_length:
        raise ValueError(f"{field} must be at most {max_length} characters")
    return value


def _name(value: object, field: str) -> str:
    """A role or permission: trimmed, not empty."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    name = _check(value.strip(), field, MAX_NAME_LENGTH)
    if not name:
        raise ValueError(f"{field} cannot be an empty string")
    return name


def _names(values: Iterable[object], field: str) -> list[str]:
    if isinstance(values, str):
        raise ValueError(f"{field} must be a list of strings")
    return [_name(value, field) for value in values]


def _user(tenant_id: object, user_id: object) -> tuple[str, str]:
    return (
        _check(tenant_id, "tenantId", MAX_TENANT_ID_LENGTH),
        _check(user_id, "userId", MAX_USER_ID_LENGTH),
    )


class Roles:
    def __init__(self, store: RoleStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    # --- roles and permissions (per app) -------------------------------------------------------

    async def create_or_add_permissions(self, role: str, permissions: Iterable[str] = ()) -> bool:
        """Create the role (if new) with these permissions, or add them to it. True if created."""
        name = _name(role, "role")
        granted = _names(permissions, "permissions")
        return await self._store.create_or_add_permissions(name, granted, now=self._clock.now_ms())

    async def permissions(self, role: str) -> list[str] | None:
        """The role's permissions, sorted; None if there is no such role."""
        return await self._store.permissions(_name(role, "role"))

    async def remove_permissions(self, role: str, permissions: Iterable[str] | None = None) -> bool:
        """Take these permissions from the role (None: all of them). False if no such role."""
        name = _name(role, "role")
        removed = None if permissions is None else _names(permissions, "permissions")
        return await self._store.remove_permissions(name, removed)

    async def delete_role(self, role: str) -> bool:
        """Delete the role, its permissions and every assignment of it. False if none existed."""
        return await self._store.delete_role(_name(role, "role"))

    async def all_roles(self) -> list[str]:
        return await self._store.all_roles()

    async def roles_with_permission(self, permission: str) -> list[str]:
        return await self._store.roles_with_permission(_name(permission, "permission"))

    # --- users' roles (per tenant) -------------------------------------------------------------

    async def add_user_role(self, tenant_id: str, user_id: str, role: str) -> AddUserRoleOutcome:
        tenant, user = _user(tenant_id, user_id)
        return await self._store.add_user_role(tenant, user, _name(role, "role"))

    async def remove_user_role(
        self, tenant_id: str, user_id: str, role: str
    ) -> RemoveUserRoleOutcome:
        tenant, user = _user(tenant_id, user_id)
        return await self._store.remove_user_role(tenant, user, _name(role, "role"))

    async def user_roles(self, tenant_id: str, user_id: str) -> list[str]:
        return await self._store.user_roles(*_user(tenant_id, user_id))

    async def users_with_role(self, tenant_id: str, role: str) -> list[str] | None:
        """The users holding the role in the tenant, sorted; None if there is no such role."""
        tenant = _check(tenant_id, "tenantId", MAX_TENANT_ID_LENGTH)
        return await self._store.users_with_role(tenant, _name(role, "role"))

    async def delete_user(self, user_id: str) -> int:
        """Drop the user's roles in every tenant (when the user is deleted)."""
        return await self._store.delete_user(_check(user_id, "userId", MAX_USER_ID_LENGTH))

    # --- claims --------------------------------------------------------------------------------

    async def claims_payload(self, tenant_id: str, user_id: str, now_ms: int) -> dict[str, Any]:
        """The ``st-role`` and ``st-perm`` access-token claims for the user in the tenant:
        ``{"st-role": {"v": roles, "t": now_ms}, "st-perm": {"v": permissions, "t": now_ms}}``,
        both sorted, the permissions those of all the user's roles without repeats."""
        held, granted = await self._store.user_roles_and_permissions(*_user(tenant_id, user_id))
        return {
            ROLES_CLAIM.key: ROLES_CLAIM.entry(held, now_ms),
            PERMISSIONS_CLAIM.key: PERMISSIONS_CLAIM.entry(granted, now_ms),
        }
