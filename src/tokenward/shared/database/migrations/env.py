"""Alembic environment: tokenward always hands Alembic an open connection (see ../migrate.py)."""

from alembic import context

from tokenward.shared.database.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
