"""`tokenward sessions cleanup`: remove expired sessions, single-use tokens and retired keys."""

from __future__ import annotations

import typer

from tokenward.app.maintenance import CleanupReport, cleanup
from tokenward.app.services import key_ring
from tokenward.app.stores import Stores
from tokenward.cli.common import ConfigOption, DatabaseOption, settings, with_stores
from tokenward.shared.clock import SystemClock

app = typer.Typer(help="Manage sessions.", no_args_is_help=True)


@app.command("cleanup")
def cleanup_command(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Delete expired sessions and single-use tokens, and keys nothing live was signed with.
    `tokenward serve` does this periodically too."""
    resolved = settings(config, database_url=database_url)
    clock = SystemClock()

    async def run(stores: Stores) -> CleanupReport:
        return await cleanup(stores, key_ring(resolved, stores, clock), clock)

    report = with_stores(resolved, run)
    typer.echo(
        f"removed {report.sessions} expired session(s), {report.one_time_tokens} expired "
        f"single-use token(s), {report.signing_keys} retired signing key(s)"
    )
