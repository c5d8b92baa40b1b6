"""The floors of figures 2, 3 and 7: bare Starlette endpoints doing only the work a refresh, a
password sign-in, or a passwordless code consume cannot avoid.

Refresh: one indexed lookup of the session row, one conditional update of its refresh-token
hash (the rotation guard; in a transaction on SQLite, see SqliteRows), one RS256-signed access
token, and the response headers tokenward sends in header mode.

Sign-in: one indexed lookup of the account's password hash (in tokenward's tables: the
accounts are signed up through tokenward), one Argon2id verification in a pool of as many
threads as CPUs, one session row inserted, one RS256-signed access token, the same headers.

Passwordless consume (by link code, an existing user signing in): the SHA-256 of the link
code, one conditional write that deletes the device if it has a live code of that hash (its
codes go with it, by the foreign key's cascade) and returns its email, one indexed lookup of
the user by that email (in tokenward's tables), one session row inserted, one RS256-signed
access token, the same headers.

None has framework layers, sealing of the refresh token, rate limiting, audit records,
claims beyond the standard ones, or email-verification and role reads. Run as

    python -m bench.floor_app   (DATABASE_URL, PORT, WORKERS in the environment)

on the database ``bench.databases.SessionSeeder`` filled (``floor_sessions`` for refreshes,
``passwordless_codes`` for consumes).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import json
import os
import secrets
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Protocol

import aiosqlite
import argon2
import asyncpg  # type: ignore[import-untyped]
import uvicorn
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.databases import floor_hash2

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
VALIDITY_MS = 100 * 86_400_000
EXPOSE = "front-token, st-access-token, st-refresh-token"
RESTART = {"status": "RESTART_FLOW_ERROR"}


class Rows(Protocol):
    async def lookup(self, handle: str) -> tuple[str, str, int] | None: ...
    async def swap(self, handle: str, old: str, new: str, expires_at: int) -> bool: ...
    async def account(self, email: str) -> tuple[str, str] | None: ...
    async def insert(self, handle: str, user_id: str, hash2: str, now: int) -> None: ...
    async def consume_code(self, pre_auth_session_id: str, hash_: str, now: int) -> str | None: ...
    async def passwordless_user(self, email: str) -> tuple[str, int] | None: ...
    async def start_session(self, handle: str, user_id: str, hash2: str, now: int) -> None: ...


def _qmarks(sql: str) -> str:
    """asyncpg's numbered parameters as SQLite's ``?``, which take their values in order (the
    insert's user id, used twice, is passed twice)."""
    for number in range(5, 0, -1):
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
    the loop lets it commit."""

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def create_app() -> Starlette:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"s-{uuid.uuid4()}"
    header = _b64(_json({"kid": kid, "typ": "JWT", "version": "5", "alg": "RS256"}))
    hasher = argon2.PasswordHasher()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            async with open_rows(os.environ["DATABASE_URL"]) as rows:
                state["rows"], state["pool"] = rows, pool
                yield

    def session_headers(
        handle: str, user_id: str, token: str, parent: str | None, now: int
    ) -> dict[str, str]:
        expires_s = now // 1000 + 3600
        claims: dict[str, Any] = {
            "iat": now // 1000,
            "exp": expires_s,
            "sub": user_id,
            "tId": "public",
            "rsub": user_id,
            "sessionHandle": handle,
            "refreshTokenHash1": hashlib.sha256(token.encode()).hexdigest(),
            "parentRefreshTokenHash1": (
                None if parent is None else hashlib.sha256(parent.encode()).hexdigest()
            ),
            "antiCsrfToken": None,
            "iss": "http://localhost/auth",
        }
        signing_input = f"{header}.{_b64(_json(claims))}"
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {
            "st-access-token": f"{signing_input}.{_b64(signature)}",
            "st-refresh-token": token,
            "front-token": _b64(_json({"uid": user_id, "ate": expires_s * 1000, "up": claims})),
            "access-control-expose-headers": EXPOSE,
        }

    async def refresh(request: Request) -> Response:
        rows: Rows = state["rows"]
        presented = request.headers.get("authorization", "")[7:]
        handle = presented.split(".", 1)[0]
        found = await rows.lookup(handle)
        now = int(time.time() * 1000)
        old = floor_hash2(presented)
        if found is None or found[2] <= now or not secrets.compare_digest(found[0], old):
            return JSONResponse({"message": "unauthorised"}, status_code=401)
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        if not await rows.swap(handle, old, floor_hash2(token), now + VALIDITY_MS):
            return JSONResponse({"message": "unauthorised"}, status_code=401)
        return JSONResponse({}, headers=session_headers(handle, found[1], token, presented, now))

    async def sign_in(request: Request) -> Response:
        rows: Rows = state["rows"]
        form = json.loads(await request.body())
        fields = {field["id"]: field["value"] for field in form["formFields"]}
        found = await rows.account(fields["email"])
        if found is None:
            return JSONResponse({"status": "WRONG_CREDENTIALS_ERROR"})
        user_id, stored = found
        verify = functools.partial(_verified, hasher, stored, fields["password"])
        if not await asyncio.get_running_loop().run_in_executor(state["pool"], verify):
            return JSONResponse({"status": "WRONG_CREDENTIALS_ERROR"})
        handle = str(uuid.uuid4())
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        now = int(time.time() * 1000)
        await rows.insert(handle, user_id, floor_hash2(token), now)
        user = {"id": user_id, "emails": [fields["email"]], "timeJoined": now}
        return JSONResponse(
            {"status": "OK", "user": user},
            headers=session_headers(handle, user_id, token, None, now),
        )

    async def consume_code(request: Request) -> Response:
        rows: Rows = state["rows"]
        body = json.loads(await request.body())
        link_code = body["linkCode"]
        try:
            raw = base64.urlsafe_b64decode(link_code + "=" * (-len(link_code) % 4))
        except (binascii.Error, ValueError):
            return JSONResponse(RESTART)
        now = int(time.time() * 1000)
        email = await rows.consume_code(
            body["preAuthSessionId"], _b64(hashlib.sha256(raw).digest()), now
        )
        if email is None:
            return JSONResponse(RESTART)
        found = await rows.passwordless_user(email)
        if found is None:  # the floor signs existing users in; it creates none
            return JSONResponse(RESTART)
        user_id, time_joined = found
        handle = str(uuid.uuid4())
        token = f"{handle}.{secrets.token_urlsafe(32)}"
        await rows.start_session(handle, user_id, floor_hash2(token), now)
        user = {"id": user_id, "emails": [email], "timeJoined": time_joined}
        return JSONResponse(
            {"status": "OK", "createdNewRecipeUser": False, "user": user},
            headers=session_headers(handle, user_id, token, None, now),
        )

    return Starlette(
        routes=[
            Route("/auth/session/refresh", refresh, methods=["POST"]),
            Route("/auth/signin", sign_in, methods=["POST"]),
            Route("/auth/signinup/code/consume", consume_code, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def _verified(hasher: argon2.PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except argon2.exceptions.VerificationError:
        return False


if __name__ == "__main__":
    uvicorn.run(
        "bench.floor_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        workers=int(os.environ.get("WORKERS", "1")),
        log_level="warning",
        proxy_headers=False,
        server_header=False,
    )
