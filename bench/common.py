"""Shared pieces of the benchmarks: timing, a temporary database, the results table."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tokenward.config import Settings, load_settings
from tokenward.shared.database import migrate
from tokenward.shared.database.engine import Database


@dataclass(frozen=True)
class Figure:
    name: str
    ours: str
    reference: str
    ratio: float
    target: str
    note: str = ""

    @property
    def row(self) -> str:
        return (
            f"| {self.name} | {self.ours} | {self.reference} | {self.ratio:.2f} | {self.target} "
            f"| {self.note} |"
        )


def per_op_us(run: Callable[[int], None], n: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` microseconds per operation of ``run(n)``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run(n)
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


def progress(message: str) -> None:
    print(f"  … {message}", flush=True)


@asynccontextmanager
async def sqlite_settings(**overrides: object) -> AsyncIterator[Settings]:
    """Settings on a fresh, migrated SQLite file that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-") as directory:
        url = f"sqlite:///{directory}/bench.db"
        db = Database(url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.close()
        yield load_settings(overrides={"database_url": url, **overrides})
