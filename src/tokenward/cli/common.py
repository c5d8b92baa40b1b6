"""What every subcommand shares: loading settings from env, TOML file and flags, and failing
with one clear line and the right exit status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from tokenward.app.stores import Stores
from tokenward.config import ConfigError, Settings, load_settings
from tokenward.shared.database.errors import StoreError

T = TypeVar("T")

EXIT_FAILURE = 1
EXIT_CONFIG = 2

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML file of settings (beats the environment, loses to flags).",
        dir_okay=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides TOKENWARD_DATABASE_URL.", show_default=False),
]


def fail(message: str, status: int = EXIT_FAILURE) -> NoReturn:
    typer.echo(f"tokenward: {message}", err=True)
    raise typer.Exit(status)


def settings(config: Path | None, **flags: Any) -> Settings:
    try:
        return load_settings(config, flags)
    except ConfigError as exc:
        fail(f"invalid configuration: {exc}", EXIT_CONFIG)


def with_stores(settings: Settings, action: Callable[[Stores], Awaitable[T]]) -> T:
    """Open the stores, run ``action``, close them; a storage failure is one line, status 1."""

    async def run() -> T:
        stores = Stores.open(settings.database_url)
        try:
            return await action(stores)
        finally:
            await stores.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:
        fail(str(exc))
