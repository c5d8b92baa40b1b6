"""Shared fixtures: a real PostgreSQL for the whole run, a fresh migrated database per test on
SQLite and on PostgreSQL, and keys (RSA generation takes tens of milliseconds, so they are made
once per run and never mutated)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tests.support.migrations import migrate_url
from tests.support.postgres import PostgresServer
from tokenward.app.stores import Stores
from tokenward.recipes.jwt.rules import generate_rsa_private_key
from tokenward.recipes.session.rules import refresh_token

pytest_plugins = ("tests.support.log_scan",)  # LOG-02: the run fails on a secret in a log

TEMPLATE_DB = "tokenward_template"
T = TypeVar("T")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The run's PostgreSQL server. If it cannot start, every PostgreSQL test errors (no skip)."""
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


def run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even while a test's event loop runs
    (session fixtures are set up lazily from inside async fixtures)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_in_own_loop(migrate_url(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    async def create() -> None:
        conn = await asyncpg.connect(postgres.url)
        try:
            await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        finally:
            await conn.close()
        await migrate_url(postgres.url_for(TEMPLATE_DB))

    run_in_own_loop(create())
    return TEMPLATE_DB


async def fresh_postgres_database(postgres: PostgresServer, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(postgres.url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return postgres.url_for(name)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated, empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "tokenward.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = await fresh_postgres_database(server, request.getfixturevalue("postgres_template"))
    yield url
    conn = await asyncpg.connect(server.url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[Stores]:
    opened = Stores.open(database_url)
    yield opened
    await opened.close()


def pytest_report_header() -> str:
    return f"tokenward tests: uid={os.geteuid()}"


# --- keys ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rsa_key() -> RSAPrivateKey:
    """Our signing key."""
    return generate_rsa_private_key()


@pytest.fixture(scope="session")
def attacker_key() -> RSAPrivateKey:
    """A valid RSA key that is not ours."""
    return generate_rsa_private_key()


@pytest.fixture(scope="session")
def refresh_key() -> bytes:
    return refresh_token.new_key()
