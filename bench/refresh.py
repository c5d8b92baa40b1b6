"""Figure 2: refresh over HTTP (`tokenward serve`) against the floor endpoint (bench/floor_app.py),
on SQLite and PostgreSQL, with 1 and 2 server workers. Every request carries the newest refresh
token of its session, so every refresh promotes the token and writes the row."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Figure, progress
from bench.databases import DATABASES, SessionSeeder, bench_database
from bench.load import Load, Result, better
from bench.servers import floor_server, refresh_run, tokenward_server

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
ROUNDS = 2
"""tokenward and the floor endpoint take turns this many times, and the best run of each is
compared: one 10 s run on a shared VM can land in a busy stretch (it moved a ratio by ±20%)."""


async def measure(load: Load, sessions: int, workers: tuple[int, ...] = (1, 2)) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-logs-") as logs:
        for kind in DATABASES:
            async with bench_database(kind) as url, SessionSeeder(url) as seeder:
                for count in workers:
                    label = f"{NAMES[kind]}, {count} worker{'s' if count > 1 else ''}"
                    progress(
                        f"refresh, {label}: tokenward ({load.describe()}, {sessions} sessions)"
                    )
                    ours: Result | None = None
                    floor: Result | None = None
                    for _ in range(ROUNDS):
                        with tokenward_server(url, count, Path(logs)) as server:
                            run = await refresh_run(
                                server, seeder.tokenward_sessions, load, sessions
                            )
                        ours = better(ours, run)
                        progress(f"  {run.describe()}; floor endpoint")
                        with floor_server(url, count, Path(logs)) as server:
                            run = await refresh_run(server, seeder.floor_sessions, load, sessions)
                        floor = better(floor, run)
                        progress(f"  {run.describe()}")
                    assert ours is not None and floor is not None
                    figures.append(
                        Figure(
                            f"Refresh over HTTP, {label}",
                            ours.describe(),
                            f"{floor.describe()} (floor endpoint)",
                            ours.ratio_to(floor),
                            "≥ 0.6",
                            f"wrk, {load.describe()}, {sessions:,} sessions, newest token each; "
                            f"best of {ROUNDS} runs each, in turns",
                        )
                    )
    return figures
