"""Verified emails in SQL, and the atomic use of email-verification tokens."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, delete, select

from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import verified_emails
from tokenward.shared.database.sql import insert_ignoring_conflicts
from tokenward.shared.email_links.port import OneTimeTokenRecord
from tokenward.shared.email_links.sql import consume_token, delete_tokens

EMAIL_VERIFICATION = "email_verification"


_IS_VERIFIED = select(verified_emails.c.user_id).where(
    and_(
        verified_emails.c.user_id == bindparam("user_id"),
        verified_emails.c.email == bindparam("email"),
    )
)


class SqlEmailVerificationStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._is_verified = DriverStatement(db, _IS_VERIFIED)  # read on every sign-in

    async def mark_verified(self, user_id: str, email: str, *, now: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, verified_emails).values(
                    user_id=user_id, email=email, verified_at=now
                )
            )

    async def verify_with_token(self, token_hash: str, *, now: int) -> OneTimeTokenRecord | None:
        async with self._db.write() as conn:
            token = await consume_token(conn, token_hash, purpose=EMAIL_VERIFICATION, now=now)
            if token is None:
                return None
            await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, verified_emails).values(
                    user_id=token.user_id, email=token.email, verified_at=now
                )
            )
            await delete_tokens(conn, EMAIL_VERIFICATION, token.user_id, token.email)
        return token

    async def unmark_verified(self, user_id: str, email: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                delete(verified_emails).where(
                    and_(verified_emails.c.user_id == user_id, verified_emails.c.email == email)
                )
            )

    async def is_verified(self, user_id: str, email: str) -> bool:
        return await self._is_verified.fetch_one(user_id=user_id, email=email) is not None
