"""Honest imports: each entry point loads only what it needs, checked in a fresh interpreter
(``sys.modules`` after the import). The layer rules themselves are import-linter contracts in
pyproject.toml, run by ``make lint``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SERVER = ("starlette", "sqlalchemy", "uvicorn", "argon2", "tokenward.app", "tokenward.http")
DATABASE = ("sqlalchemy", "aiosqlite", "asyncpg", "alembic", "tokenward.shared.database.engine")
PORTS = [
    "tokenward.recipes.session.port",
    "tokenward.recipes.jwt.port",
    "tokenward.recipes.users.port",
    "tokenward.recipes.emailpassword.port",
    "tokenward.recipes.emailverification.port",
    "tokenward.recipes.userroles.port",
    "tokenward.recipes.usermetadata.port",
    "tokenward.shared.email_links.port",
    "tokenward.shared.rate_limits.port",
]


def loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    script = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def offending(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


def test_import_tokenward_loads_no_server_code_until_a_name_is_used() -> None:
    assert offending(loaded_after("import tokenward"), (*SERVER, "pydantic")) == []
    used = loaded_after("import tokenward; tokenward.Auth")
    assert "tokenward.app.auth" in used and "starlette" in used  # the lazy import does happen


def test_the_client_loads_no_server_code() -> None:
    modules = loaded_after("import tokenward.client")
    assert "httpx" in modules
    assert offending(modules, (*SERVER, *DATABASE, "pydantic", "tokenward.config")) == []


def test_remote_mode_loads_no_database_code() -> None:
    modules = loaded_after("import tokenward.integrations.remote")
    assert "httpx" in modules
    assert offending(modules, DATABASE) == []


@pytest.mark.parametrize("port", PORTS)
def test_storage_ports_import_without_the_sql_adapters(port: str) -> None:
    modules = loaded_after(f"import {port}")
    assert port in modules
    assert offending(modules, (*DATABASE, "starlette")) == []
