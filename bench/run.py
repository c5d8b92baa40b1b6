"""`make bench`: run the benchmarks and write docs/benchmarks.md.

.venv/bin/python -m bench.run            # full run
.venv/bin/python -m bench.run --quick    # a few iterations (the test suite's smoke run)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
from pathlib import Path

from bench import sign_in, verification
from bench.common import Figure, machine

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


async def run(quick: bool) -> list[Figure]:
    print("Figure 1: session verification", flush=True)
    figures = [await verification.measure(200 if quick else 20_000)]
    print("Figures 3 and 4: sign-in throughput and isolation", flush=True)
    figures += await sign_in.measure(4 if quick else 64, 5 if quick else 200)
    return figures


def table(figures: list[Figure]) -> str:
    header = "| figure | tokenward | floor / reference, same run | ratio | target | notes |\n"
    header += "| --- | --- | --- | --- | --- | --- |\n"
    return header + "\n".join(f.row for f in figures) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run, not a measurement")
    parser.add_argument("--output", type=Path, default=DOCS)
    args = parser.parse_args()
    figures = asyncio.run(run(args.quick))
    result = table(figures)
    print(result)
    if not args.quick:
        args.output.write_text(
            "# Benchmarks\n\n"
            f"Measured {datetime.date.today().isoformat()} on {machine()} with "
            "`make bench`. Each figure is compared with a floor or reference measured in the "
            "same run; ratios matter, absolute numbers depend on the machine.\n\n"
            + result
            + "\nNot yet measured: refresh over HTTP against a floor endpoint (figure 2), growth "
            "to 10^6 sessions (figure 5) and the peer comparisons (figure 6).\n"
        )


if __name__ == "__main__":
    main()
