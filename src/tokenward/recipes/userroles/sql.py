"""Roles, their permissions and user-role assignments in SQL (SuperTokens' userroles recipe).

Roles and permissions belong to the app; assignments are per tenant. Deleting a role cascades to
its permissions and assignments. Every statement that needs a role to exist first locks that row
against deletion (``FOR KEY SHARE`` on PostgreSQL; SQLite's write transactions are serial), so a
concurrent ``delete_role`` never turns into a foreign-key error.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tokenward.recipes.userroles.port import AddUserRoleOutcome, RemoveUserRoleOutcome
from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.engine import Database
from tokenward.shared.database.errors import StoreUnavailable
from tokenward.shared.database.schema import role_permissions, roles, user_roles
from tokenward.shared.database.sql import insert_ignoring_conflicts

# Each extra round needs another transaction to delete the role and commit in between; more
# rounds than this means something deletes and recreates one role in a tight loop.
_MAX_ENSURE_ROUNDS = 5


async def _lock_role(conn: AsyncConnection, role: str) -> bool:
    """Whether the role exists; if it does, it cannot be deleted until this transaction ends."""
    result = await conn.execute(
        select(roles.c.role).where(roles.c.role == role).with_for_update(read=True, key_share=True)
    )
    return result.first() is not None


def _present(rows: list[str | None]) -> list[str] | None:
    """Rows of ``roles LEFT JOIN x`` for one role: None if the role is missing (no rows), else
    the joined values without the NULL of a role that has none."""
    if not rows:
        return None
    return [value for value in rows if value is not None]


# Read into every session a sign-in creates (the roles claim).
_ROLES_AND_PERMISSIONS = (
    select(user_roles.c.role, role_permissions.c.permission)
    .select_from(
        user_roles.outerjoin(role_permissions, role_permissions.c.role == user_roles.c.role)
    )
    .where(
        and_(
            user_roles.c.tenant_id == bindparam("tenant_id"),
            user_roles.c.user_id == bindparam("user_id"),
        )
    )
)


class SqlRoleStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._roles_and_permissions = DriverStatement(db, _ROLES_AND_PERMISSIONS)

    async def _ensure_role(self, conn: AsyncConnection, role: str, now: int) -> bool:
        """Create the role or lock the existing one; True if this transaction created it."""
        for _ in range(_MAX_ENSURE_ROUNDS):
            created = await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, roles).values(role=role, created_at=now)
            )
            if created.rowcount == 1:
                return True
            if await _lock_role(conn, role):
                return False
            # Deleted (and committed) between the insert and the lock: insert again.
        raise StoreUnavailable(f"role {role!r} is being deleted and created concurrently")

    async def create_or_add_permissions(
        self, role: str, permissions: Sequence[str], *, now: int
    ) -> bool:
        # Sorted, so that concurrent calls take the row locks in the same order.
        wanted = sorted(set(permissions))
        async with self._db.write() as conn:
            created = await self._ensure_role(conn, role, now)
            if wanted:
                await conn.execute(
                    insert_ignoring_conflicts(self._db.dialect, role_permissions).values(
                        [{"role": role, "permission": p} for p in wanted]
                    )
                )
        return created

    async def permissions(self, role: str) -> list[str] | None:
        # One statement, so that "no such role" and "no permissions" come from one snapshot.
        async with self._db.read() as conn:
            result = await conn.execute(
                select(role_permissions.c.permission)
                .select_from(
                    roles.outerjoin(role_permissions, role_permissions.c.role == roles.c.role)
                )
                .where(roles.c.role == role)
                .order_by(role_permissions.c.permission)
            )
            rows = list(result.scalars())
        return _present(rows)

    async def remove_permissions(self, role: str, permissions: Sequence[str] | None) -> bool:
        condition = role_permissions.c.role == role
        if permissions is not None:
            if not permissions:
                return await self.permissions(role) is not None
            condition = and_(condition, role_permissions.c.permission.in_(sorted(set(permissions))))
        async with self._db.write() as conn:
            if not await _lock_role(conn, role):
                return False
            await conn.execute(delete(role_permissions).where(condition))
        return True

    async def delete_role(self, role: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(delete(roles).where(roles.c.role == role))
        return result.rowcount == 1

    async def all_roles(self) -> list[str]:
        async with self._db.read() as conn:
            result = await conn.execute(select(roles.c.role).order_by(roles.c.role))
            return list(result.scalars())

    async def roles_with_permission(self, permission: str) -> list[str]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(role_permissions.c.role)
                .where(role_permissions.c.permission == permission)
                .order_by(role_permissions.c.role)
            )
            return list(result.scalars())

    async def add_user_role(self, tenant_id: str, user_id: str, role: str) -> AddUserRoleOutcome:
        async with self._db.write() as conn:
            if not await _lock_role(conn, role):
                return "unknown_role"
            result = await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, user_roles).values(
                    tenant_id=tenant_id, user_id=user_id, role=role
                )
            )
        return "added" if result.rowcount == 1 else "already_exists"

    async def remove_user_role(
        self, tenant_id: str, user_id: str, role: str
    ) -> RemoveUserRoleOutcome:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(user_roles).where(
                    and_(
                        user_roles.c.tenant_id == tenant_id,
                        user_roles.c.user_id == user_id,
                        user_roles.c.role == role,
                    )
                )
            )
            if result.rowcount == 1:
                return "removed"
            found = await conn.execute(select(roles.c.role).where(roles.c.role == role))
            return "not_assigned" if found.first() is not None else "unknown_role"

    async def user_roles(self, tenant_id: str, user_id: str) -> list[str]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(user_roles.c.role)
                .where(and_(user_roles.c.tenant_id == tenant_id, user_roles.c.user_id == user_id))
                .order_by(user_roles.c.role)
            )
            return list(result.scalars())

    async def user_roles_and_permissions(
        self, tenant_id: str, user_id: str
    ) -> tuple[list[str], list[str]]:
        rows = await self._roles_and_permissions.fetch_all(tenant_id=tenant_id, user_id=user_id)
        held = sorted({row.role for row in rows})
        granted = sorted({row.permission for row in rows if row.permission is not None})
        return held, granted

    async def users_with_role(self, tenant_id: str, role: str) -> list[str] | None:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(user_roles.c.user_id)
                .select_from(
                    roles.outerjoin(
                        user_roles,
                        and_(
                            user_roles.c.role == roles.c.role, user_roles.c.tenant_id == tenant_id
                        ),
                    )
                )
                .where(roles.c.role == role)
                .order_by(user_roles.c.user_id)
            )
            rows = list(result.scalars())
        return _present(rows)

    async def delete_user(self, user_id: str) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
        return result.rowcount
