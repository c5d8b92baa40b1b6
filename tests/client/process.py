"""A real ``tokenward serve`` for the sync client (httpx's in-process transport is async
only), shared by a test module, on a migrated SQLite copy; and a client clock that can be
moved ahead of real time, so renewal is exercised without waiting for tokens to expire."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import httpx

from tests.client.support import PASSWORD, form
from tests.support.cli import clean_env
from tests.support.server import ServeProcess


def serve(directory: Path, sqlite_template: Path) -> ServeProcess:
    database = directory / "tokenward.db"
    shutil.copyfile(sqlite_template, database)
    env = clean_env(
        TOKENWARD_DATABASE_URL=f"sqlite:///{database}",
        TOKENWARD_PASSWORD_HASH_MEMORY_KIB="7168",
        TOKENWARD_PASSWORD_HASH_TIME_COST="1",
    )
    return ServeProcess(directory, env=env)


def new_user(server: ServeProcess) -> str:
    """A fresh account's email (the server is shared by the module's tests)."""
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    answer = httpx.post(f"{server.url}/auth/signup", json=form(email, PASSWORD))
    assert answer.json()["status"] == "OK", answer.text
    return email


class ShiftedClock:
    """Real time plus an offset the test sets: the client's view only."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms
