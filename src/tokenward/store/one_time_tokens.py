"""Single-use tokens (password reset, email verification) in SQL; only their hashes are stored."""

from __future__ import annotations

from sqlalchemy import and_, delete, insert

from tokenward.store.database import Database
from tokenward.store.ports import OneTimeTokenRecord
from tokenward.store.schema import one_time_tokens


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
        # One DELETE … RETURNING: the row goes to exactly one caller, whoever deletes it first.
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(one_time_tokens)
                .where(
                    and_(
                        one_time_tokens.c.token_hash == token_hash,
                        one_time_tokens.c.purpose == purpose,
                        one_time_tokens.c.expires_at > now,
                    )
                )
                .returning(*one_time_tokens.c)
            )
            row = result.first()
        if row is None:
            return None
        return OneTimeTokenRecord(
            token_hash=row.token_hash,
            purpose=row.purpose,
            tenant_id=row.tenant_id,
            user_id=row.user_id,
            email=row.email,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def delete_for_user(self, purpose: str, user_id: str) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(one_time_tokens).where(
                    and_(one_time_tokens.c.purpose == purpose, one_time_tokens.c.user_id == user_id)
                )
            )
        return result.rowcount

    async def delete_expired(self, now: int) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(one_time_tokens).where(one_time_tokens.c.expires_at <= now)
            )
        return result.rowcount
