"""The database wrapper: health, unavailability, SQLite settings, migrations on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from tests.conftest import fresh_postgres_database
from tests.support.outage import join_sqlite_workers
from tests.support.postgres import PostgresServer, free_port
from tokenward.shared.database import migrate
from tokenward.shared.database.engine import Database
from tokenward.shared.database.errors import SchemaOutOfDate, StoreUnavailable
from tokenward.shared.database.schema import metadata

ALL_REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006"]


async def test_ping_on_a_live_database(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.ping()
    finally:
        await db.close()


async def test_unreachable_postgres_is_unavailable_not_a_crash() -> None:
    db = Database(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", connect_timeout=2)
    try:
        with pytest.raises(StoreUnavailable):
            await db.ping()
    finally:
        await db.close()


async def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/missing-dir/tokenward.db")
    try:
        with pytest.raises(StoreUnavailable):
            await db.ping()
    finally:
        await db.close()
    # aiosqlite stops the worker thread of a failed connection without waiting for it; let it
    # finish while this test's event loop is still open.
    join_sqlite_workers()


async def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/t.db")
    try:
        async with db.read() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
        assert (mode, keys) == ("wal", 1)
        assert busy is not None and busy >= 1000
    finally:
        await db.close()


def _schema_diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def test_migrations_produce_exactly_the_declared_schema(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await migrate.pending(db) == []
        async with db.read() as conn:
            assert await conn.run_sync(_schema_diff) == []
    finally:
        await db.close()


async def test_an_empty_database_is_out_of_date_until_migrated(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/new.db")
    try:
        with pytest.raises(SchemaOutOfDate):
            await migrate.require_current(db)
        assert await migrate.upgrade(db) == ALL_REVISIONS
        assert await migrate.upgrade(db) == []
        await migrate.require_current(db)
    finally:
        await db.close()


async def test_concurrent_migrations_on_postgres_apply_once(postgres: PostgresServer) -> None:
    import asyncpg

    url = await fresh_postgres_database(postgres, "template0")
    dbs = [Database(url) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrate.upgrade(db) for db in dbs))
        assert sorted(applied) == [[], [], ALL_REVISIONS]
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT count(*) FROM tenants") == 1
        finally:
            await conn.close()
    finally:
        for db in dbs:
            await db.close()
