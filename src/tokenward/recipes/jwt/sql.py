"""Signing keys and deployment secrets in SQL, shared by every instance on one database."""

from __future__ import annotations

from sqlalchemy import delete, select

from tokenward.recipes.jwt.port import SigningKeyRecord
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import app_secrets, signing_keys
from tokenward.shared.database.sql import insert_ignoring_conflicts


class SqlSigningKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[SigningKeyRecord]:
        async with self._db.read() as conn:
            result = await conn.execute(
                select(signing_keys).order_by(
                    signing_keys.c.created_at.desc(), signing_keys.c.kid.desc()
                )
            )
            return [
                SigningKeyRecord(
                    kid=row.kid,
                    algorithm=row.algorithm,
                    private_key=row.private_key,
                    created_at=row.created_at,
                )
                for row in result
            ]

    async def add(self, key: SigningKeyRecord) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, signing_keys).values(
                    kid=key.kid,
                    algorithm=key.algorithm,
                    private_key=key.private_key,
                    created_at=key.created_at,
                )
            )
        return result.rowcount == 1

    async def delete_created_before(self, created_at: int) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(signing_keys).where(signing_keys.c.created_at < created_at)
            )
        return result.rowcount


class SqlSecretStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_or_create(self, name: str, value: str, *, now: int) -> str:
        async with self._db.write() as conn:
            await conn.execute(
                insert_ignoring_conflicts(self._db.dialect, app_secrets).values(
                    name=name, value=value, created_at=now
                )
            )
            result = await conn.execute(
                select(app_secrets.c.value).where(app_secrets.c.name == name)
            )
            return str(result.scalar_one())
