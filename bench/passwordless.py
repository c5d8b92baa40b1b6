"""Figure 7: passwordless code consume over HTTP (`tokenward serve`) against the floor endpoint
(bench/floor_app.py), on SQLite and PostgreSQL, with 1 and 2 server workers.

Each request consumes by link code a code no request has used: an existing passwordless user
signs in (the common case), the code's device is deleted and a session is created. The codes
are inserted straight into the database beforehand (``SessionSeeder.passwordless_codes``), a
fresh batch for every run and every side; wrk sends each once (bench/lua/consume.lua)."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.support.server import ServeProcess

from bench.common import Figure, progress
from bench.databases import DATABASES, SessionSeeder, bench_database
from bench.load import Load, Result, better, consume_load
from bench.refresh import NAMES
from bench.servers import floor_server, tokenward_server

CONSUME_PATH = "/auth/signinup/code/consume"
ROUNDS = 2
"""tokenward and the floor endpoint take turns this many times; the best run of each is
compared (as in figure 2)."""
CODES_PER_SECOND = 3_000
"""Codes seeded per second of load (the warm-up's and the measured run's): 30,000 for a 10 s
run. A run that uses them all is refused as starved, so this must stay above what either side
can serve. In smoke runs on the 2-CPU machine of docs/benchmarks.md the floor endpoint, the
faster side, served at most about 900/s with one worker (one process), and two workers share
those 2 CPUs with wrk and the database."""


def codes_for(seconds: float) -> int:
    return round(CODES_PER_SECOND * max(1, round(seconds)))


async def consume_run(
    server: ServeProcess, new_codes: Callable[[int], Awaitable[list[bytes]]], load: Load
) -> Result:
    """A warm-up on codes of its own, then ``load`` on fresh codes (``CODES_PER_SECOND`` of
    each), every code consumed at most once."""
    if load.warmup_seconds:
        warmup = Load(load.connections, load.warmup_seconds, load.threads)
        warm = await new_codes(codes_for(warmup.seconds))
        consume_load(server.url, warmup, warm, path=CONSUME_PATH)
    return consume_load(
        server.url, load, await new_codes(codes_for(load.seconds)), path=CONSUME_PATH
    )


async def measure(load: Load, workers: tuple[int, ...] = (1, 2)) -> list[Figure]:
    codes = codes_for(load.seconds)
    figures = []
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-logs-") as logs:
        for kind in DATABASES:
            async with bench_database(kind) as url, SessionSeeder(url) as seeder:
                for count in workers:
                    label = f"{NAMES[kind]}, {count} worker{'s' if count > 1 else ''}"
                    progress(f"passwordless consume, {label}: tokenward ({load.describe()})")
                    ours: Result | None = None
                    floor: Result | None = None
                    for _ in range(ROUNDS):
                        with tokenward_server(url, count, Path(logs)) as server:
                            run = await consume_run(server, seeder.passwordless_codes, load)
                        await seeder.drop_passwordless_codes()
                        ours = better(ours, run)
                        progress(f"  {run.describe()}; floor endpoint")
                        with floor_server(url, count, Path(logs)) as server:
                            run = await consume_run(server, seeder.passwordless_codes, load)
                        await seeder.drop_passwordless_codes()
                        floor = better(floor, run)
                        progress(f"  {run.describe()}")
                    assert ours is not None and floor is not None
                    figures.append(
                        Figure(
                            f"Passwordless code consume over HTTP, {label}",
                            ours.describe(),
                            f"{floor.describe()} (floor endpoint)",
                            ours.ratio_to(floor),
                            "≥ 0.5",
                            f"wrk, {load.describe()}, {codes:,} codes seeded per run, each "
                            f"consumed at most once by link code (existing users signing in); "
                            f"best of {ROUNDS} runs each, in turns",
                        )
                    )
    return figures
