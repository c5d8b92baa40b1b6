"""Database faults surface as StoreUnavailable (503), never as driver errors (500): a PostgreSQL
that is starting up, has no connection slot left or kills our backend, and a locked SQLite file
(security checklist §4.1, RT-12)."""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from tests.support.outage import join_sqlite_workers
from tests.support.postgres import PostgresServer
from tokenward.shared.database import engine as database_module
from tokenward.shared.database.engine import Database
from tokenward.shared.database.errors import StoreUnavailable

SSL_REQUEST = 80877103


def _error_response(sqlstate: str, message: str) -> bytes:
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


@pytest.fixture
async def starting_up_postgres() -> AsyncIterator[int]:
    """A port that answers every PostgreSQL connection the way a server still replaying its WAL
    after a crash does: FATAL 57P03 "the database system is starting up"."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length, code = struct.unpack("!ii", await reader.readexactly(8))
        if code == SSL_REQUEST:
            writer.write(b"N")
            length, _ = struct.unpack("!ii", await reader.readexactly(8))
        await reader.readexactly(length - 8)
        writer.write(_error_response("57P03", "the database system is starting up"))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_postgres_starting_up_is_unavailable(starting_up_postgres: int) -> None:
    db = Database(f"postgresql://postgres@127.0.0.1:{starting_up_postgres}/postgres")
    try:
        with pytest.raises(StoreUnavailable):
            await db.ping()
    finally:
        await db.close()


async def test_no_connection_slot_left_is_unavailable(postgres: PostgresServer) -> None:
    role = f"limited_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres.url)
    await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    db = Database(f"postgresql://{role}@127.0.0.1:{postgres.port}/postgres")
    try:
        with pytest.raises(StoreUnavailable):  # 53300 too many connections for role
            await db.ping()
    finally:
        await db.close()
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_backend_killed_mid_transaction_is_unavailable_then_recovers(
    postgres: PostgresServer,
) -> None:
    db = Database(postgres.url)
    admin = await asyncpg.connect(postgres.url)
    try:
        with pytest.raises(StoreUnavailable):
            async with db.read() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
                await conn.execute(text("SELECT 1"))
        await db.ping()  # the pool replaces the dead connection by itself
    finally:
        await admin.close()
        await db.close()


async def test_locked_sqlite_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "locked.db"
    other_process = sqlite3.connect(path, isolation_level=None)
    other_process.execute("PRAGMA journal_mode=WAL")
    other_process.execute("CREATE TABLE t (x INTEGER)")
    other_process.execute("BEGIN IMMEDIATE")
    db = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(StoreUnavailable):  # "database is locked"
            async with db.write() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        other_process.execute("ROLLBACK")
        async with db.write() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await db.close()
        other_process.close()
    join_sqlite_workers()
