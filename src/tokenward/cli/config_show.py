"""`tokenward config show`: the effective configuration, secrets redacted."""

from __future__ import annotations

import json

import typer

from tokenward.cli.common import ConfigOption, DatabaseOption, settings
from tokenward.config import redacted

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
def show(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Print the effective configuration as JSON, with every secret masked."""
    resolved = settings(config, database_url=database_url)
    typer.echo(json.dumps(redacted(resolved), indent=2))
