"""`tokenward serve` and `tokenward migrate` as real processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from tests.conftest import fresh_postgres_database
from tests.support.cli import clean_env, tokenward
from tests.support.postgres import PostgresServer
from tests.support.server import ServeProcess


def test_migrate_then_serve_on_sqlite(tmp_path: Path) -> None:
    refused = tokenward("serve", "--port", "1", cwd=tmp_path)
    assert refused.returncode == 1
    assert "run `tokenward migrate`" in refused.stderr

    check = tokenward("migrate", "--check", cwd=tmp_path)
    assert check.returncode == 1
    assert "6 pending migration(s): 0001, 0002, 0003, 0004, 0005, 0006" in check.stderr
    applied = tokenward("migrate", cwd=tmp_path)
    assert applied.returncode == 0
    assert "applied 0001, 0002, 0003, 0004, 0005, 0006" in applied.stdout
    assert tokenward("migrate", cwd=tmp_path).stdout.endswith("schema is up to date\n")
    assert tokenward("migrate", "--check", cwd=tmp_path).returncode == 0
    assert (tmp_path / "tokenward.db").exists(), "the default database is ./tokenward.db"

    server = ServeProcess(tmp_path)
    try:
        response = httpx.get(server.url + "/hello")
        assert (response.status_code, response.text) == (200, "Hello")
        form = [{"id": "email", "value": "audit@example.com"}, {"id": "password", "value": "x"}]
        httpx.post(server.url + "/auth/signin", json={"formFields": form})
    finally:
        status = server.terminate()
    # The audit log reaches serve's output (LOG-01), without the password.
    assert "event='sign_in.failure'" in server.output(), server.output()
    # uvicorn finishes in-flight requests and the lifespan, then re-raises the signal it caught.
    assert status in (0, -signal.SIGTERM), server.output()
    assert "Application shutdown complete" in server.output()


def test_two_servers_share_one_postgres_database(tmp_path: Path, postgres: PostgresServer) -> None:
    url = asyncio.run(fresh_postgres_database(postgres, "template0"))
    env = clean_env(TOKENWARD_DATABASE_URL=url)
    assert tokenward("migrate", cwd=tmp_path, env=env).returncode == 0
    with (
        ServeProcess(tmp_path, env=env) as one,
        ServeProcess(tmp_path, "--workers", "2", env=env) as two,
    ):
        for server in (one, two):
            assert httpx.get(server.url + "/hello").status_code == 200


def test_hello_is_503_while_postgres_is_down_and_recovers(tmp_path: Path) -> None:
    pg = PostgresServer()
    try:
        pg.init()
        pg.start()
        env = clean_env(TOKENWARD_DATABASE_URL=pg.url)
        assert tokenward("migrate", cwd=tmp_path, env=env).returncode == 0
        with ServeProcess(tmp_path, env=env) as server:
            assert httpx.get(server.url + "/hello").status_code == 200
            pg.stop()
            down = httpx.get(server.url + "/hello", timeout=30)
            assert down.status_code == 503
            assert down.headers["retry-after"].isdigit()
            assert "Traceback" not in down.text
            pg.start()
            assert httpx.get(server.url + "/hello", timeout=30).status_code == 200
    finally:
        pg.destroy()


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    env = clean_env(
        TOKENWARD_SMTP_PASSWORD="hunter2-smtp",
        TOKENWARD_DATABASE_URL="postgresql://app:hunter2-db@db.example.com/tw",
    )
    result = tokenward("config", "show", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert "hunter2" not in result.stdout
    assert '"smtp_password": "********"' in result.stdout


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = clean_env(TOKENWARD_DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    result = tokenward("migrate", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "tokenward: the database is unavailable; try again shortly"
