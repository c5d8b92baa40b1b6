"""The refresh path's statements on the driver's own connection (direct_statements): a lost race
decides again on the row as it now is, faults still surface as StoreUnavailable, and a
connection handed back with a transaction open is rolled back before anyone reuses it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, text

from tests.store.test_contract import H1, H2, H3, NOW, session
from tests.support.outage import join_sqlite_workers
from tests.support.postgres import PostgresServer
from tokenward.app.stores import Stores
from tokenward.recipes.session.port import Rotate, SessionRecord, SessionWrite
from tokenward.shared.database import engine as database_module
from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.engine import Database
from tokenward.shared.database.errors import StoreUnavailable

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@SQLITE  # the racing writer is a second sqlite3 connection
@pytest.mark.parametrize("kind", ["rotate", "revoke"])
async def test_a_write_that_lost_a_race_decides_again_on_the_new_row(
    database_url: str, kind: str
) -> None:
    """Between the optimistic read and its conditional write another writer rotates the row:
    the write misses, and the store decides again on the row as it now is (under the lock), so
    the row it rotates or deletes is the row it decided on."""
    stores = Stores.open(database_url)
    record = session()
    await stores.sessions.create(record)
    rival = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    seen: list[str] = []

    def decide(stored: SessionRecord | None) -> tuple[int, SessionWrite]:
        assert stored is not None
        seen.append(stored.refresh_token_hash2)
        if len(seen) == 1:  # the rival wins the race after this read
            rival.execute("UPDATE sessions SET refresh_token_hash2 = ?", (H2,))
        if kind == "revoke":
            return len(seen), "revoke"
        return len(seen), Rotate(stored.refresh_token_hash2, H3, NOW + 5)

    try:
        assert await stores.sessions.decide_and_write(record.session_handle, decide) == (2, True)
        assert seen == [H1, H2]
        got = await stores.sessions.get(record.session_handle)
        if kind == "revoke":
            assert got is None
        else:
            assert got is not None and got.refresh_token_hash2 == H3
    finally:
        rival.close()
        await stores.close()


@SQLITE
async def test_driver_statements_on_a_locked_sqlite_are_unavailable(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    stores = Stores.open(database_url)
    record = session()
    await stores.sessions.create(record)
    other_process = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    promote = Rotate(H1, H2, NOW + 5)
    try:
        other_process.execute("BEGIN IMMEDIATE")
        assert await stores.sessions.get(record.session_handle) == record  # WAL: reads go on
        with pytest.raises(StoreUnavailable):  # "database is locked", not sqlite3's error
            await stores.sessions.decide_and_write(record.session_handle, lambda _: (0, promote))
        other_process.execute("ROLLBACK")
        result = await stores.sessions.decide_and_write(
            record.session_handle, lambda _: (0, promote)
        )
        assert result == (0, True)
    finally:
        other_process.close()
        await stores.close()
    join_sqlite_workers()


@POSTGRESQL
async def test_killed_postgres_backends_cost_one_unavailable_answer(
    postgres: PostgresServer, database_url: str
) -> None:
    """A restarted PostgreSQL leaves every pooled connection dead: the first statement to meet
    one answers StoreUnavailable and the whole pool is renewed, as SQLAlchemy's own path does,
    rather than each dead connection failing a request of its own."""
    stores = Stores.open(database_url)
    record = session()
    await stores.sessions.create(record)
    await asyncio.gather(*(stores.sessions.get(record.session_handle) for _ in range(8)))
    admin = await asyncpg.connect(postgres.url)
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'tokenward' AND datname = $1",
            database_url.rsplit("/", 1)[1],
        )
        with pytest.raises(StoreUnavailable):
            await stores.sessions.get(record.session_handle)
        for _ in range(8):  # new connections, every one
            assert await stores.sessions.get(record.session_handle) == record
    finally:
        await admin.close()
        await stores.close()


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(tmp_path: Path) -> None:
    """The pool rolls back on return only when a transaction is open (one thread hand-off saved
    per use otherwise): a connection given back holding SQLite's write lock must not keep it."""
    db = Database(f"sqlite:///{tmp_path / 'reset.db'}")
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with db.engine.connect() as pooled:
            driver = (await pooled.get_raw_connection()).driver_connection
            await driver.execute("BEGIN IMMEDIATE")
            await driver.execute("INSERT INTO t VALUES (1)")
            assert driver.in_transaction
        async with asyncio.timeout(10), db.write() as conn:  # would wait for the lock
            await conn.execute(text("INSERT INTO t VALUES (2)"))
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [2]
    finally:
        await db.close()
    join_sqlite_workers()


async def test_sqlite_statements_skip_the_pool_and_see_every_commit(tmp_path: Path) -> None:
    """On SQLite, driver statements go to the process's statement reader and writer, never
    through a checkout from the pool, and each reads the latest commit from any connection;
    closing the database ends every connection's thread."""
    before = set(threading.enumerate())
    db = Database(f"sqlite:///{tmp_path / 'statements.db'}")
    checkouts: list[object] = []
    event.listen(db.engine.sync_engine, "checkout", lambda *args: checkouts.append(args))
    try:
        async with db.write() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        checkouts.clear()
        insert = DriverStatement(db, text("INSERT INTO t VALUES (:x)"))
        read = DriverStatement(db, text("SELECT x FROM t ORDER BY x"))
        assert [row[0] for row in await read.fetch_all()] == [1]  # the pool's commit
        assert await insert.write(x=2) == 1
        assert [row[0] for row in await read.fetch_all()] == [1, 2]  # the writer's commit
        assert checkouts == []
    finally:
        await db.close()
    started = set(threading.enumerate()) - before
    for thread in started:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in started)


@POSTGRESQL
async def test_a_refresh_reads_and_writes_on_one_postgres_checkout(database_url: str) -> None:
    """The optimistic read and its compare-and-swap write share one connection from the pool
    (a checkout costs about as much CPU as a statement); a lost race still takes its own."""
    stores = Stores.open(database_url)
    record = session()
    await stores.sessions.create(record)
    checkouts: list[object] = []
    event.listen(stores.db.engine.sync_engine, "checkout", lambda *args: checkouts.append(args))
    try:
        rotate = Rotate(H1, H2, NOW + 5)
        assert await stores.sessions.decide_and_write(
            record.session_handle, lambda _: ("rotated", rotate)
        ) == ("rotated", True)
        assert len(checkouts) == 1
        got = await stores.sessions.get(record.session_handle)
        assert got is not None and got.refresh_token_hash2 == H2
    finally:
        await stores.close()
