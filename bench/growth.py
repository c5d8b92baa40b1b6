"""Figure 5: growth. Refresh throughput and p99 as the sessions table grows (10^3, 10^5, 10^6
sessions), the bytes each session takes on disk, and the server's resident memory under load.

The database is filled by SQL it runs itself (``SessionSeeder.fill``); the measured sessions are
real ones among them, refreshed with their newest token as in figure 2.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.common import Figure, progress
from bench.databases import DATABASES, SessionSeeder, bench_database
from bench.load import Load, Result
from bench.refresh import NAMES
from bench.servers import refresh_run, sessions_needed, tokenward_server


def _power(n: int) -> str:
    exponent = len(str(n)) - 1
    return f"10^{exponent}" if n == 10**exponent else f"{n:,}"


async def measure(load: Load, sessions: int, sizes: tuple[int, ...]) -> list[Figure]:
    """``sizes`` in increasing order, each at least ``sessions`` plus a warm-up's worth."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-logs-") as logs:
        for kind in DATABASES:
            baseline: Result | None = None
            async with bench_database(kind) as url, SessionSeeder(url) as seeder:
                with tokenward_server(url, 1, Path(logs)) as server:
                    for size in sizes:
                        measured: list[str] = []

                        async def new_sessions(
                            count: int, pending: list[str] = measured
                        ) -> list[str]:
                            # Made before the fill, so the table already has ``size`` rows when
                            # the load starts; handed out when refresh_run asks for them.
                            taken = pending[:count]
                            del pending[:count]
                            return taken

                        measured += await seeder.tokenward_sessions(sessions_needed(load, sessions))
                        begin = time.perf_counter()
                        await seeder.fill(size - await seeder.count())
                        progress(
                            f"growth, {NAMES[kind]}: {_power(size)} sessions "
                            f"(filled in {time.perf_counter() - begin:.1f} s); refreshing "
                            f"{sessions:,} of them ({load.describe()})"
                        )
                        result = await refresh_run(server, new_sessions, load, sessions)
                        per_session = await seeder.bytes_on_disk() / await seeder.count()
                        progress(f"  {result.describe()}, RSS {result.peak_rss_mib:.0f} MiB")
                        baseline = baseline or result
                        figures.append(
                            Figure(
                                f"Growth: refresh with {_power(size)} sessions, {NAMES[kind]}",
                                f"{result.describe()}; RSS {result.peak_rss_mib:.0f} MiB; "
                                f"{per_session:.0f} B/session on disk",
                                f"{baseline.describe()} with {_power(sizes[0])} sessions",
                                result.ratio_to(baseline),
                                "flat",
                                f"1 worker; wrk, {load.describe()}; disk = sessions table "
                                "and its indexes",
                            )
                        )
    return figures
