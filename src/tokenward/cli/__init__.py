"""The `tokenward` command line: one module per subcommand."""

from __future__ import annotations

import typer

from tokenward.cli import config_show, keys, migrate, serve, sessions

app = typer.Typer(
    name="tokenward",
    help="Self-hosted authentication and sessions, wire-compatible with SuperTokens.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve.command)
app.command("migrate")(migrate.command)
app.add_typer(config_show.app, name="config")
app.add_typer(keys.app, name="keys")
app.add_typer(sessions.app, name="sessions")


def main() -> None:
    app()
