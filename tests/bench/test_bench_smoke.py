"""The benchmark harness runs (a few iterations, nothing measured or asserted about speed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTTP_GROUPS = {
    "refresh": ["Refresh over HTTP, SQLite", "Refresh over HTTP, PostgreSQL"],
    "growth": [
        "Growth: refresh with 10^2 sessions, SQLite",
        "Growth: refresh with 10^3 sessions, PostgreSQL",
    ],
    "passwordless": [
        "Passwordless code consume over HTTP, SQLite",
        "Passwordless code consume over HTTP, PostgreSQL",
    ],
    "social": [
        "Social sign-in/up callback over HTTP, SQLite",
        "Social sign-in/up callback over HTTP, PostgreSQL",
    ],
    "peers": [
        "Peers: sign-in, tokenward embedded vs supertokens-python SDK app",
        "Peers: refresh, tokenward embedded vs supertokens-python SDK app",
        "Peers: authenticated request, tokenward embedded vs fastapi-users",
    ],
}


def quick_run(tmp_path: Path, *only: str) -> str:
    output = tmp_path / "out.md"
    selection = [arg for group in only for arg in ("--only", group)]
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", *selection, "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not output.exists(), "a quick run does not publish results"
    return result.stdout


def test_in_process_figures_run(tmp_path: Path) -> None:
    stdout = quick_run(tmp_path, "verification", "sign-in")
    for figure in ("Session verification", "Password sign-in throughput", "Isolation"):
        assert f"| {figure}" in stdout


@pytest.mark.parametrize("group", sorted(HTTP_GROUPS))
def test_http_figures_run_under_wrk(tmp_path: Path, group: str) -> None:
    assert shutil.which("wrk"), "wrk is missing: make test installs it (scripts/test-deps.sh)"
    stdout = quick_run(tmp_path, group)
    for figure in HTTP_GROUPS[group]:
        assert f"| {figure}" in stdout
