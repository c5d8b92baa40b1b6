"""Rate-limit counters in SQL. Each hit is one INSERT … ON CONFLICT DO UPDATE … RETURNING
statement (SQLite ≥ 3.35 and PostgreSQL), so the check and the count cannot be torn apart by a
concurrent request on this instance or any other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import BigInteger

from tokenward.core.rate_limit import Backoff, Counter, Window
from tokenward.store.database import Database
from tokenward.store.schema import rate_limits

_t = rate_limits.c


def _ms(value: int) -> ColumnElement[int]:
    """A typed literal: asyncpg needs to know a parameter's type inside arithmetic."""
    return literal(value, BigInteger)


class SqlRateLimitStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def hit_window(self, key: str, window: Window, *, now: int, hits: int = 1) -> Counter:
        """Count ``hits`` hits unless they do not all fit in what is left of the window's
        budget; a hit after the window's end opens a new window."""
        expired = _t.until <= _ms(now)
        admit = expired | (_t.count + hits <= window.budget)
        return await self._upsert(
            key,
            admit,
            first_until=now + window.window_ms,
            first_count=hits,
            count=case((expired, hits), else_=_t.count + hits),
            until=case((expired, _ms(now + window.window_ms)), else_=_t.until),
            expires_at=case((expired, _ms(now + window.window_ms)), else_=_t.expires_at),
        )

    async def hit_backoff(self, key: str, backoff: Backoff, *, now: int) -> Counter:
        """Count an attempt as a failure (until ``reset`` says otherwise) unless the delay of
        the failures so far has not passed yet."""
        admit = _t.until <= _ms(now)
        failures = _t.count + 1
        delay = case(
            *((failures >= at, _ms(ms)) for at, ms in reversed(backoff.steps())), else_=_ms(0)
        )
        until = _ms(now) + delay
        return await self._upsert(
            key,
            admit,
            first_until=now + backoff.delay_ms(1),
            count=failures,
            until=until,
            expires_at=until + _ms(backoff.memory_ms),
            first_expires_at=now + backoff.delay_ms(1) + backoff.memory_ms,
        )

    async def _upsert(
        self,
        key: str,
        admit: ColumnElement[bool],
        *,
        first_until: int,
        first_count: int = 1,
        count: ColumnElement[Any],
        until: ColumnElement[Any],
        expires_at: ColumnElement[Any],
        first_expires_at: int | None = None,
    ) -> Counter:
        """Insert the first hit, or apply ``count``/``until``/``expires_at`` to the stored row
        when ``admit`` holds and only add a refusal when it does not. Every expression reads
        the row as it was before this statement."""
        dialect_insert = postgresql.insert if self._db.dialect == "postgresql" else sqlite.insert
        inserted = dialect_insert(rate_limits).values(
            key=key,
            count=first_count,
            refused=0,
            until=first_until,
            expires_at=first_until if first_expires_at is None else first_expires_at,
        )
        statement = inserted.on_conflict_do_update(
            index_elements=[_t.key],
            set_={
                "count": case((admit, count), else_=_t.count),
                "refused": case((admit, 0), else_=_t.refused + 1),
                "until": case((admit, until), else_=_t.until),
                "expires_at": case((admit, expires_at), else_=_t.expires_at),
            },
        ).returning(_t.count, _t.refused, _t.until)
        async with self._db.write() as conn:
            count_, refused, until_ = (await conn.execute(statement)).one()
        return Counter(count=count_, refused=refused, until=until_)

    async def refund(self, key: str, *, until: int) -> None:
        """Take back one hit of the window that ends at ``until`` (a later window keeps its
        count)."""
        async with self._db.write() as conn:
            await conn.execute(
                update(rate_limits)
                .where(and_(_t.key == key, _t.until == until, _t.count > 0))
                .values(count=_t.count - 1)
            )

    async def reset(self, keys: Sequence[str]) -> None:
        """Forget these counters (a success ends a run of failures)."""
        async with self._db.write() as conn:
            await conn.execute(delete(rate_limits).where(_t.key.in_(list(keys))))

    async def delete_expired(self, now: int) -> int:
        async with self._db.write() as conn:
            result = await conn.execute(delete(rate_limits).where(_t.expires_at <= now))
        return result.rowcount
