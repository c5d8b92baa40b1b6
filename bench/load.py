"""Driving a server with wrk (a separate, cheap load generator) and reading what it reports,
plus the resident memory of the server's processes while it runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"
MARKER = "WRK_RESULT "


@dataclass(frozen=True)
class Load:
    """wrk's parameters: the same for every side of a comparison."""

    connections: int
    seconds: float
    threads: int = 1
    warmup_seconds: float = 2
    """A run of this length first, on requests of its own (0: none)."""

    def describe(self) -> str:
        return f"{self.connections} connections, {self.seconds:g} s"


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    peak_rss_mib: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def ratio_to(self, other: Result) -> float:
        """Throughput relative to ``other`` (NaN if a smoke run was too short to finish any)."""
        return self.per_second / other.per_second if other.requests else float("nan")

    def describe(self) -> str:
        return f"{self.per_second:,.0f}/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms"


def better(best: Result | None, run: Result) -> Result:
    """The faster of a best run so far (None: none yet) and a new one."""
    return run if best is None or run.per_second > best.per_second else best


class LoadFailed(RuntimeError):
    pass


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _run_wrk(url: str, load: Load, script: str, args: list[str], headers: list[str]) -> Result:
    if not wrk_available():
        raise LoadFailed("wrk is not installed: run scripts/test-deps.sh (make bench does)")
    command = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.seconds))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
    ]
    for header in headers:
        command += ["-H", header]
    command += [url, "--", *args]
    env = {**os.environ, "WRK_THREADS": str(load.threads)}
    done = subprocess.run(  # noqa: S603 - wrk with our own arguments
        command, capture_output=True, text=True, env=env, timeout=load.seconds + 60, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        raise LoadFailed(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    report = json.loads(lines[-1][len(MARKER) :])
    # No completed request at all is possible in a smoke run's single second, not an error.
    bad = report["socket_errors"] + report["bad_status"] + report["failed"] + report["starved"]
    if bad:
        raise LoadFailed(f"the load was not served cleanly: {report}")
    return Result(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
    )


def refresh_load(url: str, load: Load, tokens: list[str], *, path: str) -> Result:
    """POST ``path`` with each session's newest refresh token (header mode), as fast as the
    connections allow. ``tokens`` must outnumber the connections."""
    if len(tokens) <= load.connections:
        raise ValueError("every connection needs sessions of its own: more tokens, please")
    with tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False) as file:
        file.write("\n".join(tokens) + "\n")
    try:
        return _run_wrk(url, load, "refresh.lua", [file.name, path], [])
    finally:
        Path(file.name).unlink()


def consume_load(
    url: str, load: Load, bodies: list[bytes], *, path: str, rid: str = "passwordless"
) -> Result:
    """POST ``path`` with each body once (bench/lua/consume.lua): every request consumes a
    code of its own (passwordless, or a provider's for ``rid`` thirdparty). Running out of
    bodies fails the run."""
    with tempfile.NamedTemporaryFile("wb", suffix=".bodies", delete=False) as file:
        file.write(b"\n".join(bodies) + b"\n")
    try:
        return _run_wrk(url, load, "consume.lua", [file.name, path, rid], [])
    finally:
        Path(file.name).unlink()


def sign_in_load(url: str, load: Load, bodies: list[bytes]) -> Result:
    """POST /auth/signin with each account's body in turn (bench/lua/sign_in.lua), after a
    warm-up; every answer must be a successful sign-in."""
    with tempfile.NamedTemporaryFile("wb", suffix=".bodies", delete=False) as file:
        file.write(b"\n".join(bodies) + b"\n")
    try:
        if load.warmup_seconds:
            warmup = Load(load.connections, load.warmup_seconds, load.threads)
            _run_wrk(url, warmup, "sign_in.lua", [file.name], [])
        return _run_wrk(url, load, "sign_in.lua", [file.name], [])
    finally:
        Path(file.name).unlink()


def request_load(
    url: str, load: Load, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> Result:
    """The same request again and again; every answer must be 200."""
    with tempfile.NamedTemporaryFile("wb", suffix=".body", delete=False) as file:
        file.write(body)
    try:
        lines = [f"{name}: {value}" for name, value in headers.items()]
        args = [method, path, file.name if body else "-"]
        if load.warmup_seconds:
            _run_wrk(
                url,
                Load(load.connections, load.warmup_seconds, load.threads),
                "request.lua",
                args,
                lines,
            )
        return _run_wrk(url, load, "request.lua", args, lines)
    finally:
        Path(file.name).unlink()


def process_tree_rss_mib(pid: int) -> float:
    """VmRSS of a process and all its descendants (uvicorn's workers), in MiB."""
    total_kib = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total_kib / 1024


class RssSampler:
    """Samples the RSS of a process tree every 0.2 s while a load runs; keeps the peak."""

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids
        self._stop = threading.Event()
        self.peak_mib = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mib = max(self.peak_mib, sum(process_tree_rss_mib(p) for p in self._pids))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
