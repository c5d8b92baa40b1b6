"""Single statements sent straight to the database driver, for the hot paths (refresh, sign-in).

Every renewal of every session runs them, and there SQLAlchemy's execution layer costs more
than the statements: its aiosqlite adapter hands each statement to aiosqlite's thread three or
four times (cursor, execute, fetch, close), and on both databases each call binds parameters
and builds a result object. These statements are compiled by SQLAlchemy once, from the same
table definitions, and then go to a driver connection (on PostgreSQL, one from the pool; on
SQLite, the process's statement reader or writer): one call each, in autocommit, so each
statement is its own transaction. Callers that read and then write make the write
conditional on what they read (compare-and-swap). ``write_in_turn`` runs a few writes that
must follow each other as one call: on SQLite one job of the statement writer (one hand-off,
one transaction), on PostgreSQL one pooled connection (one checkout).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, NamedTuple, cast

from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from tokenward.shared.database import sqlite_threads as sqlite_statements
from tokenward.shared.database.engine import Database


class DriverStatement:
    """A SQLAlchemy statement compiled once for ``db``'s dialect and driver."""

    def __init__(self, db: Database, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=db.engine.dialect))
        self.sql = compiled.string
        names = tuple(compiled.positiontup or ())
        # Values the statement carries itself (literals, constants) are filled in once; the
        # rest are the caller's, by name, at these positions.
        fixed = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if name in names and not bind.required
        }
        self._template = [fixed.get(name) for name in names]
        self._slots = [(index, name) for index, name in enumerate(names) if name not in fixed]
        self._db = db
        # Rows read like SQLAlchemy's: by position, or by column name as attributes.
        selected = getattr(statement, "selected_columns", None)  # a SELECT, or RETURNING
        keys = list(selected.keys()) if selected is not None else []
        self._row: Callable[..., Any] = namedtuple("Row", keys, rename=True) if keys else _tuple

    def _parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        parameters = self._template.copy()
        for index, name in self._slots:
            parameters[index] = values[name]
        return tuple(parameters)

    def bind(self, **values: Any) -> Bound:
        """The statement with its parameters, for ``write_in_turn``."""
        return Bound(self, self._parameters(values))

    def row(self, values: Sequence[Any]) -> Any:
        """A row the driver returned, readable by column name."""
        return self._row(*values)

    async def _rows(self, held: Any, values: Mapping[str, Any], *, write: bool) -> list[Any]:
        parameters = self._parameters(values)
        async with self._connection(held, write=write) as conn:
            if self._db.dialect == "postgresql":
                rows = await conn.fetch(self.sql, *parameters)
            else:
                rows = await conn.run(sqlite_statements.fetch_all(self.sql, parameters))
        return [self._row(*row) for row in rows]

    def _connection(self, held: Any, *, write: bool) -> AbstractAsyncContextManager[Any]:
        if held is not None:
            return nullcontext(held)
        return self._db.driver_connection(write=write)

    async def fetch_all(self, held: Any = None, /, **values: Any) -> list[Any]:
        """The rows the statement selects (each its own transaction: one statement reads one
        consistent state). ``held``: a connection from ``Database.held_connection``."""
        return await self._rows(held, values, write=False)

    async def fetch_one(self, held: Any = None, /, **values: Any) -> Any | None:
        """The first row the statement selects, or None."""
        rows = await self.fetch_all(held, **values)
        return rows[0] if rows else None

    async def write_returning(self, **values: Any) -> Sequence[Any]:
        """Run a statement that writes and returns one row (``… RETURNING``), in a transaction
        of its own; that row."""
        rows = await self._rows(None, values, write=True)
        if not rows:
            raise LookupError("the statement returned no row")
        return rows[0]  # type: ignore[no-any-return]

    async def write(self, held: Any = None, /, **values: Any) -> int:
        """Run the statement in a transaction of its own; the number of rows it changed."""
        parameters = self._parameters(values)
        async with self._connection(held, write=True) as conn:
            if self._db.dialect == "postgresql":
                status: str = await conn.execute(self.sql, *parameters)
                return int(status.rsplit(" ", 1)[-1])
            # One hand-off to the writer's thread. Alone in its transaction, the statement
            # needs no BEGIN IMMEDIATE: with no read snapshot open before it, SQLite's busy
            # handler covers its wait for the write lock (what Database.write() guards
            # against is a transaction that read first and then writes).
            return await conn.run(sqlite_statements.row_count(self.sql, parameters))  # type: ignore[no-any-return]


class Bound(NamedTuple):
    statement: DriverStatement
    parameters: tuple[Any, ...]


async def write_in_turn(
    db: Database, writes: Sequence[Bound], *, until: Callable[[Any], bool] = lambda _: False
) -> list[Any]:
    """Run ``writes`` in order, stopping after the first whose first returned row satisfies
    ``until``; the first row of each that ran (None for none), readable by column name.

    On SQLite they are one transaction of the statement writer, run without a turn of the
    event loop between them; on PostgreSQL they share one connection, each statement its own
    transaction (so each must make sense alone, as a single statement does)."""
    if db.dialect == "postgresql":
        firsts: list[Any] = []
        async with db.driver_connection(write=True) as conn:
            for bound in writes:
                first = await conn.fetchrow(bound.statement.sql, *bound.parameters)
                firsts.append(first)
                if first is not None and until(first):
                    break
    else:
        statements = [(bound.statement.sql, bound.parameters) for bound in writes]
        async with db.driver_connection(write=True) as conn:
            firsts = await conn.run(sqlite_statements.in_turn(statements, until))
    return [
        None if first is None else bound.statement.row(first)
        for bound, first in zip(writes, firsts, strict=False)
    ]


def _tuple(*values: Any) -> tuple[Any, ...]:
    return values
