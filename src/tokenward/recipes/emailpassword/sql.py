"""The password reset as one transaction: consume the token, set the hash, drop the other tokens."""

from __future__ import annotations

from sqlalchemy import (
    and_,
    update,
)

from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import (
    login_method_tenants,
    login_methods,
)
from tokenward.shared.email_links.port import OneTimeTokenRecord
from tokenward.shared.email_links.sql import consume_token, delete_tokens

EP_RECIPE_ID = "emailpassword"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a token purpose

_METHOD_COLUMNS = (*login_methods.c, login_method_tenants.c.tenant_id)


class SqlPasswordResetStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reset_password(
        self, token_hash: str, *, now: int, password_hash: str
    ) -> OneTimeTokenRecord | None:
        async with self._db.write() as conn:
            token = await consume_token(conn, token_hash, purpose=PASSWORD_RESET, now=now)
            if token is None:
                return None
            updated = await conn.execute(
                update(login_methods)
                .where(
                    and_(
                        login_methods.c.recipe_user_id == token.user_id,
                        login_methods.c.recipe_id == EP_RECIPE_ID,
                        login_methods.c.email == token.email,
                    )
                )
                .values(password_hash=password_hash)
            )
            if updated.rowcount != 1:
                return None  # the account changed its email or is gone; the token is spent
            await delete_tokens(conn, PASSWORD_RESET, token.user_id)
        return token
