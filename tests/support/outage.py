"""Take a running app's database away for a moment: its engine points at one that cannot be
reached, and on SQLite its statement connections are set aside (new ones open from the engine's
URL, and fail), then the real ones come back."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.postgres import free_port
from tokenward.shared.database.engine import Database


@asynccontextmanager
async def database_unreachable(db: Database, tmp_path: Path) -> AsyncIterator[None]:
    working = db.engine
    unreachable = (
        f"postgresql://postgres@127.0.0.1:{free_port()}/none"
        if db.dialect == "postgresql"
        else f"sqlite:///{tmp_path}/no-such-dir/db"
    )
    statement_connections = db._statement_connections
    db._statement_connections = {}
    db.engine = Database(unreachable).engine
    try:
        yield
    finally:
        for connection in db._statement_connections.values():
            await connection.close()
        await db.engine.dispose()
        db.engine = working
        db._statement_connections = statement_connections


def join_sqlite_workers() -> None:
    """Wait for aiosqlite's connection threads of the unreachable database to end (see
    tests/shared/database/test_engine.py)."""
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=10)
