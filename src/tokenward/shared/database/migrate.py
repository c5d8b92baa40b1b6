"""Apply and inspect schema migrations (Alembic, run on an open connection)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from tokenward.shared.database.engine import Database
from tokenward.shared.database.errors import SchemaOutOfDate

_MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: instances that migrate at the same moment take turns on this lock.
_PG_MIGRATION_LOCK = 7_305_420_011


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _pending_sync(connection: Connection) -> list[str]:
    script = ScriptDirectory.from_config(_alembic_config())
    current = MigrationContext.configure(connection).get_current_heads()
    pending = [
        rev.revision
        for rev in script.iterate_revisions(tuple(script.get_heads()), tuple(current) or "base")
    ]
    # iterate_revisions walks from the head back to the current revision, excluding it.
    return list(reversed([r for r in pending if r not in current]))


async def pending(db: Database) -> list[str]:
    """Revisions not yet applied to the database, oldest first."""
    async with db.read() as conn:
        return await conn.run_sync(_pending_sync)


async def upgrade(db: Database) -> list[str]:
    """Apply every pending migration; return the revisions applied. Safe to run concurrently."""
    async with db.write() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        todo = await conn.run_sync(_pending_sync)
        if todo:
            await conn.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))
    return todo


async def require_current(db: Database) -> None:
    """Raise SchemaOutOfDate if migrations are pending."""
    todo = await pending(db)
    if todo:
        raise SchemaOutOfDate(
            f"the database schema is {len(todo)} migration(s) behind; run `tokenward migrate`"
        )
