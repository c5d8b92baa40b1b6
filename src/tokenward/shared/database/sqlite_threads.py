"""SQLite's statement reader and writer: one connection each, owned by a thread of its own that
runs the jobs queued to it in order (``direct_statements``'s statements, one job each, or a few
statements that must follow each other without a turn of the event loop between them).

What a job costs beyond SQLite's own work is the hand-over: waking the thread, then waking the
event loop with the result. So the thread takes every job already queued when it wakes and
hands back all their results with one wake-up of the loop: statements that requests issue at
the same moment share the cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
_Queued = tuple[asyncio.Future[Any], Job | None]  # None: close the connection and stop
_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


class StatementThread:
    """A SQLite connection in autocommit mode, opened and used only by its own thread."""

    def __init__(self, path: str, *, timeout_s: float, pragmas: Sequence[str]) -> None:
        self._path = path
        self._timeout_s = timeout_s
        self._pragmas = tuple(pragmas)
        self._jobs: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._closed: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._work, name="tokenward-sqlite", daemon=True)
        self._thread.start()

    @classmethod
    async def open(cls, path: str, *, timeout_s: float, pragmas: Sequence[str]) -> StatementThread:
        """Connect and apply ``pragmas``; raise (and end the thread) if that fails."""
        opened = cls(path, timeout_s=timeout_s, pragmas=pragmas)
        try:
            await opened.run(_nothing)
        except BaseException:
            await opened.close()
            raise
        return opened

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """``job(connection)`` in the thread, after the jobs queued before it; its result or
        its exception. A cancelled caller stops waiting, not the job."""
        if self._closed is not None:
            raise _closed()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put((future, job))
        return await future

    async def close(self) -> None:
        """Close the connection once the queued jobs have run, and end the thread. Later
        jobs are refused; a second close waits for the first."""
        if self._closed is None:
            self._closed = asyncio.get_running_loop().create_future()
            self._jobs.put((self._closed, None))
        await asyncio.shield(self._closed)
        self._thread.join()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self._path, timeout=self._timeout_s, isolation_level=None)
        try:
            for pragma in self._pragmas:
                connection.execute(f"PRAGMA {pragma}")
        except BaseException:
            connection.close()
            raise
        return connection

    def _work(self) -> None:
        connection: sqlite3.Connection | None = None
        failure: BaseException | None = None
        try:
            connection = self._connect()
        except Exception as exc:  # every job gets it (open() then closes the thread)
            failure = exc
        stopping = False
        while not stopping:
            taken = [self._jobs.get()]
            while True:  # and whatever else is queued by now
                try:
                    taken.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            outcomes: list[_Outcome] = []
            for future, job in taken:
                if job is None:
                    stopping = True
                    if connection is not None:
                        connection.close()
                        connection = None
                    outcomes.append((future, None, None))
                elif connection is None:
                    outcomes.append((future, None, failure or _closed()))
                else:
                    try:
                        outcomes.append((future, job(connection), None))
                    except BaseException as exc:  # handed to the caller
                        outcomes.append((future, None, exc))
            _hand_back(outcomes)


def _nothing(_: sqlite3.Connection) -> None:
    return None


def _closed() -> sqlite3.ProgrammingError:
    return sqlite3.ProgrammingError("the statement connection is closed")


def _hand_back(outcomes: list[_Outcome]) -> None:
    """Settle the futures in their loop, with one wake-up of each loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[_Outcome]) -> None:
    for future, result, exc in outcomes:
        if future.done():  # the caller was cancelled
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)


def fetch_all(sql: str, parameters: Sequence[Any]) -> Callable[[sqlite3.Connection], list[Any]]:
    """A job: the rows of one statement (in autocommit, its own transaction)."""

    def job(connection: sqlite3.Connection) -> list[Any]:
        return connection.execute(sql, parameters).fetchall()

    return job


def row_count(sql: str, parameters: Sequence[Any]) -> Callable[[sqlite3.Connection], int]:
    """A job: one statement (in autocommit, its own transaction); the rows it changed."""

    def job(connection: sqlite3.Connection) -> int:
        return connection.execute(sql, parameters).rowcount

    return job


def in_turn(
    statements: Sequence[tuple[str, Sequence[Any]]], until: Callable[[Any], bool]
) -> Callable[[sqlite3.Connection], list[Any]]:
    """A job: write ``statements`` in order, in one transaction, stopping after the first whose
    first row satisfies ``until``; the first row of each that ran (None if it had none)."""

    def job(connection: sqlite3.Connection) -> list[Any]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            firsts: list[Any] = []
            for sql, parameters in statements:
                rows = connection.execute(sql, parameters).fetchall()
                first = rows[0] if rows else None
                firsts.append(first)
                if first is not None and until(first):
                    break
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return firsts

    return job
