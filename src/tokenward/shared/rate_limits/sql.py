"""Rate-limit counters in SQL. Each hit is one INSERT … ON CONFLICT DO UPDATE … RETURNING
statement (SQLite ≥ 3.35 and PostgreSQL), so the check and the count cannot be torn apart by a
concurrent request on this instance or any other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ClauseElement, ColumnElement, and_, bindparam, case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import BigInteger

from tokenward.shared.database.direct_statements import DriverStatement, write_in_turn
from tokenward.shared.database.engine import Database
from tokenward.shared.database.schema import rate_limits
from tokenward.shared.rate_limits.rules import Backoff, Counter, Window

_t = rate_limits.c


def _param(name: str) -> ColumnElement[int]:
    """A typed parameter: asyncpg needs to know a parameter's type inside arithmetic."""
    return bindparam(name, type_=BigInteger)


def _upsert(
    dialect: str,
    admit: ColumnElement[bool],
    *,
    first: dict[str, ColumnElement[int]],
    count: ColumnElement[Any],
    until: ColumnElement[Any],
    expires_at: ColumnElement[Any],
) -> ClauseElement:
    """Insert the first hit (``first``: count, until, expires_at), or apply ``count``/
    ``until``/``expires_at`` to the stored row when ``admit`` holds and only add a refusal
    when it does not. Every expression reads the row as it was before this statement."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = dialect_insert(rate_limits).values(key=bindparam("key"), refused=0, **first)
    return inserted.on_conflict_do_update(
        index_elements=[_t.key],
        set_={
            "count": case((admit, count), else_=_t.count),
            "refused": case((admit, 0), else_=_t.refused + 1),
            "until": case((admit, until), else_=_t.until),
            "expires_at": case((admit, expires_at), else_=_t.expires_at),
        },
    ).returning(_t.count, _t.refused, _t.until)


def _window_hit(dialect: str) -> ClauseElement:
    """Count ``hits`` hits unless they do not all fit in what is left of the window's budget;
    a hit after the window's end opens a new window (ending at ``end``)."""
    expired = _t.until <= _param("now")
    hits, end = _param("hits"), _param("end")
    return _upsert(
        dialect,
        expired | (_t.count + hits <= _param("budget")),
        first={"count": hits, "until": end, "expires_at": end},
        count=case((expired, hits), else_=_t.count + hits),
        until=case((expired, end), else_=_t.until),
        expires_at=case((expired, end), else_=_t.expires_at),
    )


def _backoff_hit(dialect: str, backoff: Backoff) -> ClauseElement:
    """Count an attempt as a failure (until ``reset`` says otherwise) unless the delay of the
    failures so far has not passed yet. The delay steps are part of the statement."""
    now = _param("now")
    failures = _t.count + 1
    delay = case(
        *((failures >= at, literal(ms, BigInteger)) for at, ms in reversed(backoff.steps())),
        else_=literal(0, BigInteger),
    )
    until = now + delay
    return _upsert(
        dialect,
        _t.until <= now,
        first={
            "count": literal(1, BigInteger),
            "until": _param("first_until"),
            "expires_at": _param("first_expires_at"),
        },
        count=failures,
        until=until,
        expires_at=until + literal(backoff.memory_ms, BigInteger),
    )


Limit = Window | Backoff


def _window_values(key: str, window: Window, now: int, hits: int) -> dict[str, Any]:
    end = now + window.window_ms
    return {"key": key, "now": now, "hits": hits, "budget": window.budget, "end": end}


def _backoff_values(key: str, backoff: Backoff, now: int) -> dict[str, Any]:
    first_until = now + backoff.delay_ms(1)
    return {
        "key": key,
        "now": now,
        "first_until": first_until,
        "first_expires_at": first_until + backoff.memory_ms,
    }


def _key_values(keys: Sequence[str]) -> dict[str, str]:
    return {f"key_{index}": key for index, key in enumerate(keys)}


def _counter(row: Sequence[Any]) -> Counter:
    return Counter(count=row[0], refused=row[1], until=row[2])


class SqlRateLimitStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._window_hit = DriverStatement(db, _window_hit(db.dialect))
        self._backoff_hits: dict[Backoff, DriverStatement] = {}
        self._resets: dict[int, DriverStatement] = {}
        refund = update(rate_limits).where(
            and_(_t.key == bindparam("key"), _t.until == _param("until"), _t.count > 0)
        )
        self._refund = DriverStatement(db, refund.values(count=_t.count - 1))

    async def hit_window(self, key: str, window: Window, *, now: int, hits: int = 1) -> Counter:
        """Count ``hits`` hits unless they do not all fit in what is left of the window's
        budget; a hit after the window's end opens a new window."""
        row = await self._window_hit.write_returning(**_window_values(key, window, now, hits))
        return _counter(row)

    async def hit_in_turn(self, hits: Sequence[tuple[str, Limit]], *, now: int) -> list[Counter]:
        """One hit on each ``(key, limit)`` in order, up to the first refused; the counters of
        those hit (a refused one is the last). A window counts as in ``hit_window``; a backoff
        counts the attempt as a failure (until ``reset`` says otherwise) unless the delay of
        the failures so far has not passed yet. One call to the database (on SQLite, one
        transaction)."""
        writes = [
            self._window_hit.bind(**_window_values(key, limit, now, 1))
            if isinstance(limit, Window)
            else self._backoff_hit(limit).bind(**_backoff_values(key, limit, now))
            for key, limit in hits
        ]
        rows = await write_in_turn(self._db, writes, until=lambda row: row[1] > 0)
        return [_counter(row) for row in rows]

    def _backoff_hit(self, backoff: Backoff) -> DriverStatement:
        statement = self._backoff_hits.get(backoff)
        if statement is None:
            statement = DriverStatement(self._db, _backoff_hit(self._db.dialect, backoff))
            self._backoff_hits[backoff] = statement
        return statement

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget these counters (a success ends a run of failures)."""
        if keys:
            await self._reset(keys).write(**_key_values(keys))

    async def reset_and_refund(self, keys: Sequence[str], key: str, *, until: int) -> None:
        """``reset(keys)``, and take back one hit of ``key``'s window if it still ends at
        ``until`` (a later window keeps its count), in one call to the database."""
        writes = [self._refund.bind(key=key, until=until)]
        if keys:
            writes.insert(0, self._reset(keys).bind(**_key_values(keys)))
        await write_in_turn(self._db, writes)

    def _reset(self, keys: Sequence[str]) -> DriverStatement:
        statement = self._resets.get(len(keys))
        if statement is None:
            names = _key_values(keys)
            condition = _t.key.in_([bindparam(name) for name in names])
            statement = DriverStatement(self._db, delete(rate_limits).where(condition))
            self._resets[len(keys)] = statement
        return statement

    async def delete_expired(self, now: int) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(delete(rate_limits).where(_t.expires_at <= now))
        return result.rowcount
