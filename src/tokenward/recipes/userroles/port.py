"""Roles, their permissions, and the users holding them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

AddUserRoleOutcome = Literal["added", "already_exists", "unknown_role"]
RemoveUserRoleOutcome = Literal["removed", "not_assigned", "unknown_role"]


class RoleStore(Protocol):
    """Roles and their permissions (per app), and which users hold them (per tenant). Every list
    returned is sorted."""

    async def create_or_add_permissions(
        self, role: str, permissions: Sequence[str], *, now: int
    ) -> bool:
        """Create the role if it does not exist and give it these permissions (those it has
        already are kept). True if this call created the role. Safe under concurrent calls with
        the same role or permissions: of racing creators exactly one gets True."""
        ...

    async def permissions(self, role: str) -> list[str] | None:
        """The role's permissions, or None if there is no such role."""
        ...

    async def remove_permissions(self, role: str, permissions: Sequence[str] | None) -> bool:
        """Take these permissions from the role (``None``: all of them). False if no such role."""
        ...

    async def delete_role(self, role: str) -> bool:
        """Delete the role with its permissions and assignments; False if there was none."""
        ...

    async def all_roles(self) -> list[str]: ...

    async def roles_with_permission(self, permission: str) -> list[str]: ...

    async def add_user_role(
        self, tenant_id: str, user_id: str, role: str
    ) -> AddUserRoleOutcome: ...

    async def remove_user_role(
        self, tenant_id: str, user_id: str, role: str
    ) -> RemoveUserRoleOutcome: ...

    async def user_roles(self, tenant_id: str, user_id: str) -> list[str]: ...

    async def user_roles_and_permissions(
        self, tenant_id: str, user_id: str
    ) -> tuple[list[str], list[str]]:
        """The user's roles in the tenant and the distinct permissions of those roles, read in
        one snapshot (what the ``st-role`` and ``st-perm`` claims carry)."""
        ...

    async def users_with_role(self, tenant_id: str, role: str) -> list[str] | None:
        """Users holding the role in the tenant, or None if there is no such role."""
        ...

    async def delete_user(self, user_id: str) -> int:
        """Drop every role assignment of the user, in all tenants; return how many there were."""
        ...
