"""Bring a database's schema up to date from outside the app (test fixtures, benchmarks)."""

from __future__ import annotations

from tokenward.shared.database import migrate
from tokenward.shared.database.engine import Database


async def migrate_url(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.close()
