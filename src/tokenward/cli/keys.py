"""`tokenward keys list|rotate`: the access-token signing keys shared by every instance;
`tokenward keys encryption`: a new key for encrypting secrets at rest."""

from __future__ import annotations

import typer

from tokenward.app.services import key_ring
from tokenward.app.stores import Stores
from tokenward.cli.common import ConfigOption, DatabaseOption, settings, with_stores
from tokenward.shared.clock import SystemClock
from tokenward.shared.encoding import b64url_encode
from tokenward.shared.secret_box import new_key

app = typer.Typer(help="Manage signing and encryption keys.", no_args_is_help=True)


@app.command("list")
def list_command(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Print the stored keys, newest first (kid and creation time; never key material)."""
    resolved = settings(config, database_url=database_url)

    async def run(stores: Stores) -> list[tuple[str, int]]:
        return [(k.kid, k.created_at) for k in await stores.signing_keys.all()]

    for kid, created_at in with_stores(resolved, run):
        typer.echo(f"{kid}\t{created_at}")


@app.command("rotate")
def rotate_command(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Create a new signing key now. It appears in the JWKS at once and signs new tokens after
    60 s; tokens signed by older keys stay valid until they expire."""
    resolved = settings(config, database_url=database_url)

    async def run(stores: Stores) -> str:
        return await key_ring(resolved, stores, SystemClock()).rotate()

    typer.echo(with_stores(resolved, run))


@app.command("encryption")
def encryption_command() -> None:
    """Print a new key for `encryption_keys` (32 random bytes, base64url). To rotate, put it
    first in the list and keep the old keys after it: they still decrypt."""
    typer.echo(b64url_encode(new_key()))
