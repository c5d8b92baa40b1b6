"""The benchmark harness runs (a few iterations, nothing measured or asserted about speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_bench_run_prints_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--output", str(tmp_path / "out.md")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for figure in ("Session verification", "Password sign-in throughput", "Isolation"):
        assert f"| {figure}" in result.stdout
    assert not (tmp_path / "out.md").exists(), "a quick run does not publish results"
