"""`tokenward migrate`: apply pending schema migrations, or with --check only report them."""

from __future__ import annotations

from typing import Annotated

import typer

from tokenward.app.stores import Stores
from tokenward.cli.common import ConfigOption, DatabaseOption, fail, settings, with_stores
from tokenward.config import redact_url
from tokenward.shared.database import migrate


def command(
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    check: Annotated[
        bool, typer.Option("--check", help="Only report pending migrations; exit 1 if any.")
    ] = False,
) -> None:
    """Apply the database schema migrations (safe to run on every deploy)."""
    resolved = settings(config, database_url=database_url)
    target = redact_url(resolved.database_url)

    async def run(stores: Stores) -> list[str]:
        return await (migrate.pending if check else migrate.upgrade)(stores.db)

    revisions = with_stores(resolved, run)
    if check:
        if revisions:
            fail(f"{target}: {len(revisions)} pending migration(s): {', '.join(revisions)}")
        typer.echo(f"{target}: schema is up to date")
    elif revisions:
        typer.echo(f"{target}: applied {', '.join(revisions)}")
    else:
        typer.echo(f"{target}: schema is up to date")
