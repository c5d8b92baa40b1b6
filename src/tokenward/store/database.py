"""The connection to SQLite or PostgreSQL, and the one place driver errors are translated.

Store modules run their statements inside ``Database.read()`` or ``Database.write()``. A database
that cannot be reached surfaces as ``StoreUnavailable`` (answered with 503 and ``Retry-After``),
never as a driver exception, and never as an authentication failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, TimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tokenward.store.errors import InvalidInput, StoreUnavailable

Dialect = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 5000
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


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate.startswith(_TRANSIENT_CLASSES) or sqlstate in _TRANSIENT_STATES
        ):
            return True
        return bool(exc.connection_invalidated)
    return isinstance(exc, (OSError, asyncio.TimeoutError))


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
                "pool_size": 10,
                "max_overflow": 10,
                "pool_timeout": connect_timeout,
                "connect_args": {
                    "timeout": connect_timeout,
                    "command_timeout": 30,
                    "server_settings": {"application_name": "tokenward"},
                },
            }
        else:
            kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._sqlite_writer = asyncio.Lock() if self.dialect == "sqlite" else None
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

    async def ping(self) -> None:
        """Raise StoreUnavailable unless a trivial query succeeds."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module, so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
