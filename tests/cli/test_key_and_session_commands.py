"""`tokenward keys list|rotate` and `tokenward sessions cleanup` against a real database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.cli import clean_env, tokenward
from tokenward.app.stores import Stores
from tokenward.recipes.session.port import SessionRecord


async def add_expired_session(database_url: str) -> None:
    stores = Stores.open(database_url)
    try:
        await stores.sessions.create(
            SessionRecord("old", "public", "u", "u", "0" * 64, {}, {}, created_at=1, expires_at=2)
        )
    finally:
        await stores.close()


def test_rotate_list_and_cleanup(tmp_path: Path, database_url: str) -> None:
    env = clean_env(TOKENWARD_DATABASE_URL=database_url)
    first = tokenward("keys", "rotate", cwd=tmp_path, env=env)
    assert first.returncode == 0 and first.stdout.startswith("d-")
    listed = tokenward("keys", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0
    assert listed.stdout.split("\t")[0] == first.stdout.strip()
    assert "PRIVATE" not in listed.stdout

    asyncio.run(add_expired_session(database_url))
    cleaned = tokenward("sessions", "cleanup", cwd=tmp_path, env=env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert cleaned.stdout.startswith("removed 1 expired session(s)")
