"""`tokenward serve`: run the HTTP server (uvicorn), stopping gracefully on SIGTERM."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from tokenward.app.server import RESOLVED_SETTINGS_ENV, create_app
from tokenward.app.stores import Stores
from tokenward.cli.common import ConfigOption, DatabaseOption, fail, settings, with_stores
from tokenward.cli.logging_config import log_config
from tokenward.config import settings_to_json
from tokenward.shared.database import migrate
from tokenward.shared.database.errors import SchemaOutOfDate

GRACEFUL_SHUTDOWN_SECONDS = 10


def command(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    host: Annotated[str | None, typer.Option(help="Overrides TOKENWARD_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides TOKENWARD_PORT.")] = None,
    workers: Annotated[int | None, typer.Option(help="Overrides TOKENWARD_WORKERS.")] = None,
) -> None:
    """Serve the API until SIGTERM or Ctrl-C; in-flight requests finish first."""
    resolved = settings(config, database_url=database_url, host=host, port=port, workers=workers)

    async def check(stores: Stores) -> None:
        await migrate.require_current(stores.db)

    try:
        with_stores(resolved, check)
    except SchemaOutOfDate as exc:
        fail(str(exc))

    common = {
        "host": resolved.host,
        "port": resolved.port,
        "log_level": resolved.log_level,
        "log_config": log_config(resolved.log_level),
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }
    if resolved.workers == 1:
        uvicorn.run(create_app(resolved), **common)  # type: ignore[arg-type]
        return
    os.environ[RESOLVED_SETTINGS_ENV] = settings_to_json(resolved)
    uvicorn.run(
        "tokenward.app.server:app_from_environment",
        factory=True,
        workers=resolved.workers,
        **common,  # type: ignore[arg-type]
    )
