"""`make bench`: run the benchmarks and write their tables into docs/benchmarks.md.

.venv/bin/python -m bench.run                  # full run (about 10 minutes)
.venv/bin/python -m bench.run --only refresh   # one figure group (see --help)
.venv/bin/python -m bench.run --quick          # tiny N, a smoke run; publishes nothing

Only the part of docs/benchmarks.md between the bench markers is rewritten; the prose around it
is kept. The HTTP figures need wrk (scripts/test-deps.sh installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import growth, passwordless, peers, refresh, sign_in, social, verification
from bench.common import Figure, machine
from bench.load import Load

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

Group = Callable[[bool], Awaitable[list[Figure]]]


async def _verification(quick: bool) -> list[Figure]:
    return [await verification.measure(200 if quick else 50_000)]


async def _sign_in(quick: bool) -> list[Figure]:
    load = Load(2, 1, warmup_seconds=0) if quick else Load(8, 10)
    return [
        await sign_in.throughput(load, 4 if quick else 32),
        await sign_in.isolation(4 if quick else 64, 5 if quick else 200),
    ]


def _load(quick: bool) -> Load:
    return Load(4, 1, warmup_seconds=0) if quick else Load(32, 10)


async def _refresh(quick: bool) -> list[Figure]:
    return await refresh.measure(_load(quick), 50 if quick else 1000, (1,) if quick else (1, 2))


async def _passwordless(quick: bool) -> list[Figure]:
    return await passwordless.measure(_load(quick), (1,) if quick else (1, 2))


async def _social(quick: bool) -> list[Figure]:
    return await social.measure(_load(quick), (1,) if quick else (1, 2))


async def _growth(quick: bool) -> list[Figure]:
    sizes = (100, 1000) if quick else (10**3, 10**5, 10**6)
    return await growth.measure(_load(quick), 50 if quick else 800, sizes)


async def _peers(quick: bool) -> list[Figure]:
    sign_ins = Load(2, 1, warmup_seconds=0) if quick else Load(4, 10)
    return await peers.measure(_load(quick), sign_ins, 50 if quick else 1000)


GROUPS: dict[str, tuple[str, Group]] = {
    "verification": ("Figure 1: session verification", _verification),
    "sign-in": ("Figures 3 and 4: sign-in throughput and isolation", _sign_in),
    "refresh": ("Figure 2: refresh over HTTP against the floor endpoint", _refresh),
    "growth": ("Figure 5: growth to 10^6 sessions", _growth),
    "peers": ("Figure 6: peers", _peers),
    "passwordless": (
        "Figure 7: passwordless code consume over HTTP against the floor endpoint",
        _passwordless,
    ),
    "social": (
        "Figure 8: social sign-in/up callback over HTTP against the floor endpoint",
        _social,
    ),
}


Section = tuple[str, list[Figure], float]
"""A group's title, its figures, and the machine's 1-minute load average when it started."""


async def run(quick: bool, only: list[str], output: Path | None = None) -> list[Section]:
    """Measure the groups in ``only``; publish each to ``output`` as soon as it is done."""
    sections = []
    for name in only:
        title, measure = GROUPS[name]
        load = os.getloadavg()[0]
        print(f"{title} (load average {load:.1f})", flush=True)
        figures = await measure(quick)
        print(table(figures), flush=True)
        sections.append((title, figures, load))
        if output is not None:
            publish(output, sections[-1:])
    return sections


def table(figures: list[Figure]) -> str:
    header = "| figure | tokenward | floor / reference, same run | ratio | target | notes |\n"
    header += "| --- | --- | --- | --- | --- | --- |\n"
    return header + "\n".join(f.row for f in figures) + "\n"


def publish(path: Path, sections: list[Section]) -> None:
    """Replace the measured part of ``path``: each group measured now replaces its own table,
    the others stay as they were."""
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    tables = _tables(body)
    for title, figures, load in sections:
        tables[title] = (
            f"Measured {datetime.date.today().isoformat()} on {machine()} with `make bench` "
            f"(load average {load:.1f} at the start).\n\n" + table(figures)
        )
    ordered = [title for title, _ in GROUPS.values() if title in tables]
    generated = "".join(f"### {title}\n\n{tables[title]}\n" for title in ordered)
    path.write_text(head + BEGIN + "\n" + generated + END + tail)


def _tables(body: str) -> dict[str, str]:
    tables = {}
    for chunk in body.split("\n### ")[1:]:
        title, _, rest = chunk.partition("\n")
        tables[title.strip()] = rest.strip() + "\n"
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    parser.add_argument("--only", action="append", choices=list(GROUPS), help="repeatable")
    parser.add_argument("--output", type=Path, default=DOCS)
    args = parser.parse_args()
    asyncio.run(run(args.quick, args.only or list(GROUPS), None if args.quick else args.output))


if __name__ == "__main__":
    main()
