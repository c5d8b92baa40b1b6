"""Single-use tokens (password reset, email verification) in SQL; only their hashes are stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import one_time_tokens
from tokenward.shared.email_links.port import OneTimeTokenRecord


def _usable(token_hash: str, purpose: str, now: int) -> ColumnElement[bool]:
    return and_(
        one_time_tokens.c.token_hash == token_hash,
        one_time_tokens.c.purpose == purpose,
        one_time_tokens.c.expires_at > now,
    )


def _record(row: Any) -> OneTimeTokenRecord:
    return OneTimeTokenRecord(
        token_hash=row.token_hash,
        purpose=row.purpose,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        email=row.email,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


async def consume_token(
    conn: AsyncConnection, token_hash: str, *, purpose: str, now: int
) -> OneTimeTokenRecord | None:
    """DELETE … RETURNING inside the caller's transaction: whoever deletes the row first gets
    it, so a token is used at most once however many requests race for it."""
    result = await conn.execute(
        delete(one_time_tokens)
        .where(_usable(token_hash, purpose, now))
        .returning(*one_time_tokens.c)
    )
    row = result.first()
    return None if row is None else _record(row)


async def delete_tokens(
    conn: AsyncConnection, purpose: str, user_id: str, email: str | None = None
) -> int:
    condition = and_(one_time_tokens.c.purpose == purpose, one_time_tokens.c.user_id == user_id)
    if email is not None:
        condition = and_(condition, one_time_tokens.c.email == email)
    result = await conn.execute(delete(one_time_tokens).where(condition))
    return result.rowcount


class SqlOneTimeTokenStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, token: OneTimeTokenRecord) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                insert(one_time_tokens).values(
                    token_hash=token.token_hash,
                    purpose=token.purpose,
                    tenant_id=token.tenant_id,
                    user_id=token.user_id,
                    email=token.email,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                )
            )

    async def consume(
        self, token_hash: str, *, purpose: str, now: int
    ) -> OneTimeTokenRecord | None:
        async with self._db.write() as conn:
            return await consume_token(conn, token_hash, purpose=purpose, now=now)

    async def peek(self, token_hash: str, *, purpose: str, now: int) -> OneTimeTokenRecord | None:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(one_time_tokens).where(_usable(token_hash, purpose, now))
            )
            row = result.first()
        return None if row is None else _record(row)

    async def delete_for_user(self, purpose: str, user_id: str) -> int:
        async with self._db.write() as conn:
            return await delete_tokens(conn, purpose, user_id)

    async def delete_expired(self, now: int) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(one_time_tokens).where(one_time_tokens.c.expires_at <= now)
            )
        return result.rowcount
