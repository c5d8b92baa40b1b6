"""Recovery codes in SQL."""

from __future__ import annotations

from sqlalchemy import and_, delete, func, insert, select, update

from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import mfa_recovery_codes as codes


class SqlRecoveryCodeStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replace(self, user_id: str, code_hashes: list[str], now: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(delete(codes).where(codes.c.user_id == user_id))
            if code_hashes:
                await conn.execute(
                    insert(codes),
                    [
                        {"user_id": user_id, "code_hash": h, "created_at": now, "used_at": None}
                        for h in code_hashes
                    ],
                )

    async def use(self, user_id: str, code_hash: str, now: int) -> bool:
        async with self._db.write() as conn:
            used = await conn.execute(
                update(codes)
                .where(
                    and_(
                        codes.c.user_id == user_id,
                        codes.c.code_hash == code_hash,
                        codes.c.used_at.is_(None),
                    )
                )
                .values(used_at=now)
            )
            return used.rowcount == 1

    async def remaining(self, user_id: str) -> int:
        async with self._db.read() as conn:
            count = await conn.execute(
                select(func.count())
                .select_from(codes)
                .where(and_(codes.c.user_id == user_id, codes.c.used_at.is_(None)))
            )
            return int(count.scalar_one())
