"""SQLite's statement threads (store.sqlite_statements): jobs run in order on the thread's own
connection, jobs queued together come back with one wake-up of the event loop, a failing job
fails only its caller, a few writes in turn are one transaction, and closing ends the thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from tokenward.shared.database.sqlite_threads import StatementThread, fetch_all, in_turn, row_count

PRAGMAS = ("journal_mode=WAL", "busy_timeout=1000")


async def open_thread(tmp_path: Path) -> StatementThread:
    thread = await StatementThread.open(str(tmp_path / "db"), timeout_s=1, pragmas=PRAGMAS)
    await thread.run(row_count("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)", ()))
    return thread


def statement_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "tokenward-sqlite"]


async def test_jobs_run_in_order_and_a_failure_fails_only_its_caller(tmp_path: Path) -> None:
    thread = await open_thread(tmp_path)
    try:
        results = await asyncio.gather(
            thread.run(row_count("INSERT INTO t VALUES (?, ?)", ("a", 1))),
            thread.run(row_count("INSERT INTO t VALUES (?, ?)", ("a", 2))),  # duplicate key
            thread.run(fetch_all("SELECT k, v FROM t", ())),
            return_exceptions=True,
        )
        assert results[0] == 1
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert results[2] == [("a", 1)]
    finally:
        await thread.close()


async def test_jobs_queued_together_come_back_with_one_wake_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = await open_thread(tmp_path)
    loop = asyncio.get_running_loop()
    wake_ups: list[object] = []
    original = loop.call_soon_threadsafe

    def counted(callback, *args):  # type: ignore[no-untyped-def]
        wake_ups.append(callback)
        return original(callback, *args)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
    started, release = threading.Event(), threading.Event()

    def blocker(_: sqlite3.Connection) -> str:
        started.set()
        release.wait(5)
        return "first"

    try:
        first = asyncio.ensure_future(thread.run(blocker))
        await asyncio.to_thread(started.wait, 5)  # the thread is busy with the first job
        wake_ups.clear()  # (to_thread's own hand-back)
        rest = [asyncio.ensure_future(thread.run(fetch_all("SELECT ?", (n,)))) for n in range(5)]
        await asyncio.sleep(0)  # all five are queued behind the first
        release.set()
        assert await first == "first"
        assert [await job for job in rest] == [[(n,)] for n in range(5)]
        assert len(wake_ups) <= 2, "the first job alone, then the five together"
    finally:
        await thread.close()


async def test_writes_in_turn_stop_where_told_and_are_one_transaction(tmp_path: Path) -> None:
    thread = await open_thread(tmp_path)
    insert = "INSERT INTO t VALUES (?, ?) RETURNING v"
    try:
        firsts = await thread.run(
            in_turn(
                [(insert, ("a", 1)), (insert, ("b", 2)), (insert, ("c", 3))],
                until=lambda row: row[0] == 2,
            )
        )
        assert firsts == [(1,), (2,)], "stopped after the row it was told to stop at"
        with pytest.raises(sqlite3.IntegrityError):
            await thread.run(in_turn([(insert, ("d", 4)), (insert, ("a", 5))], lambda _: False))
        rows = await thread.run(fetch_all("SELECT k FROM t ORDER BY k", ()))
        assert rows == [("a",), ("b",)], "the failed turn left nothing behind, not even d"
        assert await thread.run(lambda connection: connection.in_transaction) is False
    finally:
        await thread.close()


async def test_close_runs_what_is_queued_then_ends_the_thread(tmp_path: Path) -> None:
    before = len(statement_threads())
    thread = await open_thread(tmp_path)
    queued = asyncio.ensure_future(thread.run(row_count("INSERT INTO t VALUES ('k', 1)", ())))
    await asyncio.sleep(0)
    await thread.close()
    assert await queued == 1
    assert len(statement_threads()) == before
    await thread.close()  # twice is harmless
    with pytest.raises(sqlite3.ProgrammingError):  # and a later job fails at once
        await asyncio.wait_for(thread.run(fetch_all("SELECT 1", ())), timeout=10)


async def test_closing_twice_at_once_ends_both_waits(tmp_path: Path) -> None:
    thread = await open_thread(tmp_path)
    await asyncio.wait_for(asyncio.gather(thread.close(), thread.close()), timeout=10)


async def test_a_database_that_cannot_open_fails_open_and_leaves_no_thread(
    tmp_path: Path,
) -> None:
    before = len(statement_threads())
    with pytest.raises(sqlite3.OperationalError):
        await StatementThread.open(str(tmp_path / "no-such-dir" / "db"), timeout_s=1, pragmas=())
    assert len(statement_threads()) == before
