"""The connection to SQLite or PostgreSQL, and the one place driver errors are translated.

Store modules run their statements inside ``Database.read()`` or ``Database.write()``. A database
that cannot be reached surfaces as ``StoreUnavailable`` (answered with 503 and ``Retry-After``),
never as a driver exception, and never as an authentication failure.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from asyncpg import InterfaceError as PostgresInterfaceError  # type: ignore[import-untyped]
from asyncpg import InternalClientError as PostgresClientError
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, TimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

from tokenward.shared.database.errors import InvalidInput, StoreUnavailable
from tokenward.shared.database.sqlite_threads import StatementThread

Dialect = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 5000
POOL_SIZE = 20
"""Connections each process keeps open, and never more: a pool that overflows closes the extra
connections as they come back, and under a steady load of more concurrent requests than its
size it then connects anew many times a second (each time a TLS attempt on PostgreSQL, a
thread and a file open on SQLite)."""
_SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "foreign_keys=ON",
    f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "synchronous=NORMAL",
)
_WRITE = "tokenward_write"


def driver_url(database_url: str) -> URL:
    """Map the user-facing URL (sqlite:///…, postgresql://…) to the async driver's URL."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database URL scheme {url.drivername!r}")


def _is_bad_value(exc: DBAPIError) -> bool:
    """A value the database cannot store or compare (SQLSTATE class 22, "data exception"):
    for example a NUL character in PostgreSQL text. That is bad input, not an outage."""
    if isinstance(exc, DataError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


# SQLSTATEs saying the database cannot serve us right now, not that the request is wrong: class
# 08 (connection exception), 53 (insufficient resources: too many connections, disk full), 57
# (operator intervention: shutting down, crashed, starting up, cancelled), and the retryable
# rollbacks (serialization failure, deadlock) and lock timeout. asyncpg raises most of them as
# plain PostgresErrors, which SQLAlchemy does not class as OperationalError.
_TRANSIENT_CLASSES = ("08", "53", "57")
_TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03"})


def _is_transient_state(sqlstate: object) -> bool:
    return isinstance(sqlstate, str) and (
        sqlstate.startswith(_TRANSIENT_CLASSES) or sqlstate in _TRANSIENT_STATES
    )


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if _is_transient_state(getattr(exc.orig, "sqlstate", None)):
            return True
        return bool(exc.connection_invalidated)
    return isinstance(exc, (OSError, asyncio.TimeoutError))


_SERVER_GONE = frozenset({"57P01", "57P02", "57P03"})  # shut down, crashed, starting up


def _is_disconnect(exc: Exception) -> bool:
    """Whether a driver error says the connection itself is gone (not just its statement)."""
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _SERVER_GONE):
        return True
    return isinstance(exc, (PostgresInterfaceError, PostgresClientError, OSError))


def _driver_error(exc: Exception) -> Exception | None:
    """What a driver's own exception (sqlite3's, asyncpg's) means to a caller
    of ``Database.driver_connection``; None for a bug, to propagate as it is."""
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(exc, sqlite3.DataError) or (
        isinstance(sqlstate, str) and sqlstate.startswith("22")
    ):
        return InvalidInput("the database refused a malformed value")
    # asyncpg's client-side errors: a closed connection, or one whose protocol state a
    # terminated backend left confused ("another operation is in progress").
    client_side = (PostgresInterfaceError, PostgresClientError)
    if isinstance(
        exc, (sqlite3.OperationalError, *client_side, OSError, asyncio.TimeoutError)
    ) or _is_transient_state(sqlstate):
        return StoreUnavailable("the database is unavailable; try again shortly")
    return None


class Database:
    """An async engine plus the transaction discipline every store uses."""

    def __init__(self, database_url: str, *, connect_timeout: float = 5.0) -> None:
        url = driver_url(database_url)
        self.dialect: Dialect = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
        kwargs: dict[str, Any] = {}
        if self.dialect == "postgresql":
            # No pre-ping (a round trip per checkout): a connection found dead fails its
            # transaction with a disconnect error, which answers 503 and makes SQLAlchemy
            # discard the whole pool, so the next checkout connects afresh.
            kwargs = {
                "pool_size": POOL_SIZE,
                "max_overflow": 0,
                "pool_timeout": connect_timeout,
                "connect_args": {
                    "timeout": connect_timeout,
                    "command_timeout": 30,
                    "server_settings": {"application_name": "tokenward"},
                },
            }
        else:
            kwargs = {
                "pool_size": POOL_SIZE,
                "max_overflow": 0,
                "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                # Rolled back on return only when a transaction is open (see _on_reset): an
                # unconditional rollback is one more hand-off to aiosqlite's thread per use.
                "pool_reset_on_return": None,
            }
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._sqlite_writer = asyncio.Lock() if self.dialect == "sqlite" else None
        self._statement_connections: dict[bool, StatementThread] = {}
        """On SQLite, this process's statement writer (``True``) and reader (``False``)."""
        self._pool_generation = 0
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
            # aiosqlite's DEBUG records carry every statement's parameters, password hashes
            # and token digests among them (LOG-02): an app that turns the root logger to
            # DEBUG must not get those.
            logging.getLogger("aiosqlite").setLevel(logging.INFO)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A transaction for reads (a consistent snapshot; no write lock on SQLite)."""
        async with self._transaction(write=False) as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that writes. On SQLite it takes the write lock up front (BEGIN
        IMMEDIATE), so two writers queue on the busy timeout instead of deadlocking."""
        async with self._transaction(write=True) as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        # SQLite has one writer at a time. Queueing this process's writers on a lock, before
        # they take a connection, replaces SQLite's busy-wait (sleeps of up to 100 ms) with a
        # fair, instant hand-over; other processes still meet the busy timeout.
        if write and self._sqlite_writer is not None:
            async with self._sqlite_writer, self._transaction_on_connection(write=True) as conn:
                yield conn
        else:
            async with self._transaction_on_connection(write=write) as conn:
                yield conn

    @asynccontextmanager
    async def _transaction_on_connection(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                if write and self.dialect == "sqlite":  # read by _on_begin
                    await conn.execution_options(**{_WRITE: True})
                async with conn.begin():
                    yield conn
        except DBAPIError as exc:
            if _is_bad_value(exc):
                raise InvalidInput("the database refused a malformed value") from None
            if _is_unavailable(exc):
                raise StoreUnavailable("the database is unavailable; try again shortly") from exc
            raise
        except Exception as exc:
            if _is_unavailable(exc):
                raise StoreUnavailable("the database is unavailable; try again shortly") from exc
            raise

    @asynccontextmanager
    async def driver_connection(self, *, write: bool) -> AsyncIterator[Any]:
        """A connection outside any transaction, for ``direct_statements``'s statements: asyncpg's
        own, or on SQLite a ``StatementThread``. Driver errors become StoreUnavailable or
        InvalidInput here too; a PostgreSQL connection found dead renews the pool.

        On SQLite, the process has one connection for each kind, outside the pool: the
        statement writer and the statement reader. Each has its own thread, which runs the
        jobs queued to it one after another (a single statement is its own transaction; a
        read, its own snapshot). Writers thus queue without a lock or a turn of the event loop
        between them, and no statement pays for a checkout from the pool (about as much CPU as
        the statement's own hand-off to the thread)."""
        try:
            if self.dialect == "sqlite":
                yield await self._sqlite_statement_connection(write)
                return
            async with self.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                generation = self._pool_generation
                try:
                    yield raw.driver_connection
                except Exception as exc:
                    if self.dialect == "postgresql" and _is_disconnect(exc):
                        await conn.invalidate()
                        # The server went away, so every pooled connection is likely dead:
                        # renew the pool once (as SQLAlchemy does on its own path), not
                        # once per failing request.
                        if generation == self._pool_generation:
                            self._pool_generation += 1
                            await self.engine.dispose()
                    raise
        except DBAPIError as exc:  # from the checkout, through SQLAlchemy
            if _is_unavailable(exc):
                raise StoreUnavailable("the database is unavailable; try again shortly") from exc
            raise
        except Exception as exc:
            translated = _driver_error(exc)
            if translated is None:
                raise
            raise translated from exc

    @asynccontextmanager
    async def held_connection(self) -> AsyncIterator[Any]:
        """For a few ``direct_statements`` statements in a row: on PostgreSQL one pooled connection
        for all of them (one checkout, each statement still its own transaction); on SQLite
        None, so each goes to the statement reader or writer as usual."""
        if self.dialect == "sqlite":
            yield None
            return
        async with self.driver_connection(write=True) as conn:
            yield conn

    async def ping(self) -> None:
        """Raise StoreUnavailable unless a trivial query succeeds."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def _sqlite_statement_connection(self, write: bool) -> StatementThread:
        current = self._statement_connections.get(write)
        if current is not None:
            return current
        opened = await StatementThread.open(
            self.engine.url.database or "",
            timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000,
            pragmas=_SQLITE_PRAGMAS,
        )
        current = self._statement_connections.setdefault(write, opened)
        if current is not opened:  # another task opened one meanwhile
            await opened.close()
        return current

    async def close(self) -> None:
        connections = list(self._statement_connections.values())
        self._statement_connections.clear()
        for connection in connections:
            await connection.close()
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module, so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        if state.asyncio_safe and not state.terminate_only and _in_transaction(dbapi_connection):
            dbapi_connection.rollback()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether SQLAlchemy's aiosqlite adapter has a transaction open (read without a hand-off
    to aiosqlite's thread); True when that cannot be told, so the rollback happens."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    return bool(getattr(driver, "in_transaction", True))
