"""The floor endpoints' database statements (bench/floor_app.py): each floor's few statements,
on SQLite through aiosqlite or the sqlite3 module, on PostgreSQL through asyncpg, written once
with asyncpg's numbered parameters."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

SELECT = "SELECT refresh_token_hash2, user_id, expires_at FROM sessions WHERE session_handle = $1"
UPDATE = (
    "UPDATE sessions SET refresh_token_hash2 = $1, expires_at = $2 "
    "WHERE session_handle = $3 AND refresh_token_hash2 = $4"
)
ACCOUNT = (
    "SELECT m.user_id, m.password_hash FROM login_method_tenants AS t "
    "JOIN login_methods AS m ON m.recipe_user_id = t.recipe_user_id "
    "WHERE t.tenant_id = 'public' AND t.recipe_id = 'emailpassword' AND t.email = $1"
)
INSERT = (
    "INSERT INTO sessions (session_handle, tenant_id, user_id, recipe_user_id, "
    "refresh_token_hash2, session_data, jwt_payload, created_at, expires_at) "
    "VALUES ($1, 'public', $2, $2, $3, '{}', '{}', $4, $5)"
)
CONSUME = (
    "DELETE FROM passwordless_devices AS d WHERE d.pre_auth_session_id = $1 "
    "AND d.tenant_id = 'public' AND EXISTS (SELECT 1 FROM passwordless_codes AS c "
    "WHERE c.link_code_hash = $2 AND c.pre_auth_session_id = d.pre_auth_session_id "
    "AND c.expires_at > $3) RETURNING email"
)
PASSWORDLESS_USER = (
    "SELECT m.user_id, m.time_joined FROM login_method_tenants AS t "
    "JOIN login_methods AS m ON m.recipe_user_id = t.recipe_user_id "
    "WHERE t.tenant_id = 'public' AND t.recipe_id = 'passwordless' AND t.email = $1"
)
SOCIAL_USERS = (
    "CREATE TABLE IF NOT EXISTS floor_social_users (third_party_id VARCHAR(64) NOT NULL, "
    "third_party_user_id VARCHAR(255) NOT NULL, user_id VARCHAR(36) NOT NULL, "
    "email VARCHAR(255) NOT NULL, email_verified BOOLEAN NOT NULL, time_joined BIGINT NOT NULL, "
    "PRIMARY KEY (third_party_id, third_party_user_id))"
)
"""The social floor's one table of users (created by bench/social.py before the floor starts)."""
UPSERT_SOCIAL = (
    "INSERT INTO floor_social_users (third_party_id, third_party_user_id, user_id, email, "
    "email_verified, time_joined) VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (third_party_id, third_party_user_id) DO UPDATE SET email = excluded.email, "
    "email_verified = excluded.email_verified RETURNING user_id, time_joined"
)
VALIDITY_MS = 100 * 86_400_000


@dataclass(frozen=True, slots=True)
class SocialAccount:
    third_party_id: str
    third_party_user_id: str
    email: str
    email_verified: bool
    now: int

    def parameters(self, new_user_id: str) -> tuple[object, ...]:
        return (
            self.third_party_id,
            self.third_party_user_id,
            new_user_id,
            self.email,
            self.email_verified,
            self.now,
        )


class Rows(Protocol):
    async def lookup(self, handle: str) -> tuple[str, str, int] | None: ...
    async def swap(self, handle: str, old: str, new: str, expires_at: int) -> bool: ...
    async def account(self, email: str) -> tuple[str, str] | None: ...
    async def insert(self, handle: str, user_id: str, hash2: str, now: int) -> None: ...
    async def consume_code(self, pre_auth_session_id: str, hash_: str, now: int) -> str | None: ...
    async def passwordless_user(self, email: str) -> tuple[str, int] | None: ...
    async def start_session(self, handle: str, user_id: str, hash2: str, now: int) -> None: ...
    async def upsert_social(self, account: SocialAccount, new_user_id: str) -> tuple[str, int]: ...


def _qmarks(sql: str) -> str:
    """asyncpg's numbered parameters as SQLite's ``?``, which take their values in order (the
    insert's user id, used twice, is passed twice)."""
    for number in range(9, 0, -1):
        sql = sql.replace(f"${number}", "?")
    return sql


class SqliteRows:
    """The refresh floor's statements go through aiosqlite, as a bare async app's would (one
    connection per process). Its update runs in BEGIN IMMEDIATE, as tokenward's writes do: in
    WAL mode a plain UPDATE can fail at once with SQLITE_BUSY_SNAPSHOT when another process
    wrote since its snapshot. Writers of this process queue on a lock for it.

    The sign-in floor's two statements run on a plain connection, on the event loop itself:
    at a few dozen sign-ins a second that blocks the loop for a fraction of a millisecond
    each time, and no way of running them costs less CPU (aiosqlite's hand-offs to its thread
    cost more than the statements).

    The consume floor's three statements all go through aiosqlite, its two writes in BEGIN
    IMMEDIATE on the lock: an insert on the plain connection would block the event loop
    while it waits for SQLite's write lock, which a consume of this process may hold until
    the loop lets it commit. The social floor's two writes (the user's upsert, the session's
    insert) go the same way, for the same reason."""

    def __init__(self, conn: aiosqlite.Connection, inline: sqlite3.Connection) -> None:
        self._conn = conn
        self._inline = inline
        self._writer = asyncio.Lock()

    async def lookup(self, handle: str) -> tuple[str, str, int] | None:
        async with self._conn.execute(_qmarks(SELECT), (handle,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else (row[0], row[1], row[2])

    async def swap(self, handle: str, old: str, new: str, expires_at: int) -> bool:
        return await self._write(_qmarks(UPDATE), (new, expires_at, handle, old)) == 1

    async def account(self, email: str) -> tuple[str, str] | None:
        row = self._inline.execute(_qmarks(ACCOUNT), (email,)).fetchone()
        return None if row is None else (row[0], row[1])

    async def insert(self, handle: str, user_id: str, hash2: str, now: int) -> None:
        parameters = (handle, user_id, user_id, hash2, now, now + VALIDITY_MS)
        self._inline.execute(_qmarks(INSERT), parameters)  # autocommit: its own transaction

    async def consume_code(self, pre_auth_session_id: str, hash_: str, now: int) -> str | None:
        async with self._immediate():
            rows = list(
                await self._conn.execute_fetchall(
                    _qmarks(CONSUME), (pre_auth_session_id, hash_, now)
                )
            )
        return str(rows[0][0]) if rows else None

    async def passwordless_user(self, email: str) -> tuple[str, int] | None:
        async with self._conn.execute(_qmarks(PASSWORDLESS_USER), (email,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else (row[0], row[1])

    async def start_session(self, handle: str, user_id: str, hash2: str, now: int) -> None:
        parameters = (handle, user_id, user_id, hash2, now, now + VALIDITY_MS)
        await self._write(_qmarks(INSERT), parameters)

    async def upsert_social(self, account: SocialAccount, new_user_id: str) -> tuple[str, int]:
        async with self._immediate():
            rows = list(
                await self._conn.execute_fetchall(
                    _qmarks(UPSERT_SOCIAL), account.parameters(new_user_id)
                )
            )
        return str(rows[0][0]), int(rows[0][1])

    async def _write(self, sql: str, parameters: tuple[object, ...]) -> int:
        async with self._immediate():
            cursor = await self._conn.execute(sql, parameters)
        return cursor.rowcount

    @asynccontextmanager
    async def _immediate(self) -> AsyncIterator[None]:
        """A write transaction of this process's writer connection, queued on the lock."""
        async with self._writer:
            await self._begin_immediate()
            try:
                yield
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")

    async def _begin_immediate(self) -> None:
        # SQLite can refuse at once, without its busy handler, while the other process
        # recovers or restarts the WAL; that passes in milliseconds.
        for attempt in range(1, 50):
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError:
                await asyncio.sleep(0.001 * attempt)
        await self._conn.execute("BEGIN IMMEDIATE")


class PostgresRows:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def lookup(self, handle: str) -> tuple[str, str, int] | None:
        row = await self._pool.fetchrow(SELECT, handle)
        return None if row is None else (row[0], row[1], row[2])

    async def swap(self, handle: str, old: str, new: str, expires_at: int) -> bool:
        status = await self._pool.execute(UPDATE, new, expires_at, handle, old)
        return bool(status == "UPDATE 1")

    async def account(self, email: str) -> tuple[str, str] | None:
        row = await self._pool.fetchrow(ACCOUNT, email)
        return None if row is None else (row[0], row[1])

    async def insert(self, handle: str, user_id: str, hash2: str, now: int) -> None:
        await self._pool.execute(INSERT, handle, user_id, hash2, now, now + VALIDITY_MS)

    async def consume_code(self, pre_auth_session_id: str, hash_: str, now: int) -> str | None:
        email = await self._pool.fetchval(CONSUME, pre_auth_session_id, hash_, now)
        return None if email is None else str(email)

    async def passwordless_user(self, email: str) -> tuple[str, int] | None:
        row = await self._pool.fetchrow(PASSWORDLESS_USER, email)
        return None if row is None else (row[0], row[1])

    async def start_session(self, handle: str, user_id: str, hash2: str, now: int) -> None:
        await self.insert(handle, user_id, hash2, now)

    async def upsert_social(self, account: SocialAccount, new_user_id: str) -> tuple[str, int]:
        row = await self._pool.fetchrow(UPSERT_SOCIAL, *account.parameters(new_user_id))
        return str(row[0]), int(row[1])


@asynccontextmanager
async def open_rows(url: str) -> AsyncIterator[Rows]:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        conn = await aiosqlite.connect(path, isolation_level=None, timeout=60)
        inline = sqlite3.connect(path, isolation_level=None, timeout=60)
        # A long busy timeout: two worker processes can starve each other of SQLite's write
        # lock for seconds under this load; the floor waits (its p99 shows it) but never fails.
        # Foreign keys on, as tokenward has them: a consumed device's codes go by the cascade.
        pragmas = (
            "journal_mode=WAL",
            "busy_timeout=60000",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        )
        for pragma in pragmas:
            await conn.execute(f"PRAGMA {pragma}")
            inline.execute(f"PRAGMA {pragma}")
        try:
            yield SqliteRows(conn, inline)
        finally:
            inline.close()
            await conn.close()
        return
    pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
    try:
        yield PostgresRows(pool)
    finally:
        await pool.close()
