"""Sessions in SQL: the row per session that refresh-token rotation updates conditionally."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from tokenward.recipes.session.port import JsonObject, Rotate, SessionRecord, SessionWrite
from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import sessions
from tokenward.shared.database.sql import dump_json, load_json

T = TypeVar("T")

# Built once: the refresh path runs these on every request, and building a statement (and its
# cache key) costs more than executing a cached one.
_BY_HANDLE = select(sessions).where(sessions.c.session_handle == bindparam("handle"))
_LOCKED_BY_HANDLE = _BY_HANDLE.with_for_update()
_ROTATE = (
    update(sessions)
    .where(
        and_(
            sessions.c.session_handle == bindparam("handle"),
            sessions.c.refresh_token_hash2 == bindparam("expected_hash2"),
        )
    )
    .values(refresh_token_hash2=bindparam("new_hash2"), expires_at=bindparam("new_expiry"))
)
_INSERT = insert(sessions).values({column.name: bindparam(column.name) for column in sessions.c})
_DELETE = delete(sessions).where(sessions.c.session_handle == bindparam("handle"))
_DELETE_IF = _DELETE.where(sessions.c.refresh_token_hash2 == bindparam("expected_hash2"))


def _record(row: Sequence[Any]) -> SessionRecord:
    """A session from a row of all the table's columns, in the table's order."""
    handle, tenant, user, recipe_user, hash2, data, payload, created_at, expires_at = row
    return SessionRecord(
        session_handle=handle,
        tenant_id=tenant,
        user_id=user,
        recipe_user_id=recipe_user,
        refresh_token_hash2=hash2,
        session_data=load_json(data),
        jwt_payload=load_json(payload),
        created_at=created_at,
        expires_at=expires_at,
    )


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = DriverStatement(db, _INSERT)
        self._read = DriverStatement(db, _BY_HANDLE)
        self._rotate_if = DriverStatement(db, _ROTATE)
        self._delete_if = DriverStatement(db, _DELETE_IF)

    async def create(self, session: SessionRecord) -> None:
        await self._insert.write(
            session_handle=session.session_handle,
            tenant_id=session.tenant_id,
            user_id=session.user_id,
            recipe_user_id=session.recipe_user_id,
            refresh_token_hash2=session.refresh_token_hash2,
            session_data=dump_json(session.session_data),
            jwt_payload=dump_json(session.jwt_payload),
            created_at=session.created_at,
            expires_at=session.expires_at,
        )

    async def get(self, session_handle: str) -> SessionRecord | None:
        row = await self._read.fetch_one(handle=session_handle)
        return None if row is None else _record(row)

    async def decide_and_write(
        self,
        session_handle: str,
        decide: Callable[[SessionRecord | None], tuple[T, SessionWrite]],
    ) -> tuple[T, bool]:
        # Optimistic first: read, decide, and write only if the row is still as read, each
        # statement on its own (see direct_statements). A write that lost a race to another
        # request decides again on the locked row, so no caller ever sees the race.
        # On PostgreSQL the read and the write share one checkout from the pool.
        async with self._db.held_connection() as held:
            row = await self._read.fetch_one(held, handle=session_handle)
            stored = None if row is None else _record(row)
            outcome, write = decide(stored)
            if write is None or stored is None:
                return outcome, False
            if isinstance(write, Rotate):
                if write.expected_hash2 != stored.refresh_token_hash2:
                    return outcome, False  # a decision on another row: cannot apply
                changed = await self._rotate_if.write(
                    held,
                    handle=session_handle,
                    expected_hash2=write.expected_hash2,
                    new_hash2=write.new_hash2,
                    new_expiry=write.expires_at,
                )
            else:
                changed = await self._delete_if.write(
                    held, handle=session_handle, expected_hash2=stored.refresh_token_hash2
                )
        if changed:
            return outcome, True
        # Outside the held connection: a request never holds two of the pool's connections.
        return await self._decide_and_write_locked(session_handle, decide)

    async def _decide_and_write_locked(
        self,
        session_handle: str,
        decide: Callable[[SessionRecord | None], tuple[T, SessionWrite]],
    ) -> tuple[T, bool]:
        # SQLite's BEGIN IMMEDIATE already serialises writers.
        query = _LOCKED_BY_HANDLE if self._db.dialect == "postgresql" else _BY_HANDLE
        async with self._db.write() as conn:
            row = (await conn.execute(query, {"handle": session_handle})).first()
            outcome, write = decide(None if row is None else _record(row))
            if write is None:
                return outcome, False
            if isinstance(write, Rotate):
                return outcome, await _rotate(conn, session_handle, write)
            deleted = await conn.execute(_DELETE, {"handle": session_handle})
            return outcome, deleted.rowcount == 1

    async def update_data(self, session_handle: str, data: JsonObject) -> bool:
        return await self._set(session_handle, session_data=dump_json(data))

    async def update_jwt_payload(self, session_handle: str, payload: JsonObject) -> bool:
        return await self._set(session_handle, jwt_payload=dump_json(payload))

    async def merge_jwt_payload(
        self, session_handle: str, patch: JsonObject, *, now: int
    ) -> JsonObject | None:
        query = select(sessions.c.jwt_payload).where(
            and_(sessions.c.session_handle == session_handle, sessions.c.expires_at > now)
        )
        if self._db.dialect == "postgresql":
            query = query.with_for_update()  # SQLite's BEGIN IMMEDIATE already serialises
        async with self._db.write() as conn:
            current = (await conn.execute(query)).scalar_one_or_none()
            if current is None:
                return None
            merged = {**load_json(current), **patch}
            merged = {k: v for k, v in merged.items() if v is not None}
            await conn.execute(
                update(sessions)
                .where(sessions.c.session_handle == session_handle)
                .values(jwt_payload=dump_json(merged))
            )
        return merged

    async def _set(self, session_handle: str, **values: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                update(sessions).where(sessions.c.session_handle == session_handle).values(**values)
            )
        return result.rowcount == 1

    async def delete(self, session_handles: Sequence[str]) -> list[str]:
        if not session_handles:
            return []
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(sessions)
                .where(sessions.c.session_handle.in_(list(session_handles)))
                .returning(sessions.c.session_handle)
            )
            return list(result.scalars())

    async def delete_for_user(self, user_id: str, tenant_id: str | None = None) -> list[str]:
        condition = sessions.c.user_id == user_id
        if tenant_id is not None:
            condition = and_(condition, sessions.c.tenant_id == tenant_id)
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(sessions).where(condition).returning(sessions.c.session_handle)
            )
            return list(result.scalars())

    async def handles_for_user(
        self, user_id: str, *, now: int, tenant_id: str | None = None
    ) -> list[str]:
        condition = and_(sessions.c.user_id == user_id, sessions.c.expires_at > now)
        if tenant_id is not None:
            condition = and_(condition, sessions.c.tenant_id == tenant_id)
        async with self._db.read() as conn:
            result = await conn.execute(
                select(sessions.c.session_handle)
                .where(condition)
                .order_by(sessions.c.created_at, sessions.c.session_handle)
            )
            return list(result.scalars())

    async def delete_expired(self, now: int) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(delete(sessions).where(sessions.c.expires_at <= now))
        return result.rowcount


async def _rotate(conn: AsyncConnection, session_handle: str, write: Rotate) -> bool:
    parameters = {
        "handle": session_handle,
        "expected_hash2": write.expected_hash2,
        "new_hash2": write.new_hash2,
        "new_expiry": write.expires_at,
    }
    return (await conn.execute(_ROTATE, parameters)).rowcount == 1
