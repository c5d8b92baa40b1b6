"""Sessions in SQL: the row per session that refresh-token rotation updates conditionally."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from tokenward.store.database import Database
from tokenward.store.ports import JsonObject, SessionRecord
from tokenward.store.schema import sessions
from tokenward.store.sql import dump_json, load_json


def _record(row: Any) -> SessionRecord:
    return SessionRecord(
        session_handle=row.session_handle,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        recipe_user_id=row.recipe_user_id,
        refresh_token_hash2=row.refresh_token_hash2,
        session_data=load_json(row.session_data),
        jwt_payload=load_json(row.jwt_payload),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, session: SessionRecord) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                insert(sessions).values(
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
            )

    async def get(self, session_handle: str) -> SessionRecord | None:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(sessions).where(sessions.c.session_handle == session_handle)
            )
            row = result.first()
        return None if row is None else _record(row)

    async def rotate(
        self, session_handle: str, *, expected_hash2: str, new_hash2: str, expires_at: int
    ) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                update(sessions)
                .where(
                    and_(
                        sessions.c.session_handle == session_handle,
                        sessions.c.refresh_token_hash2 == expected_hash2,
                    )
                )
                .values(refresh_token_hash2=new_hash2, expires_at=expires_at)
            )
        return result.rowcount == 1

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
