"""The servers the HTTP benchmarks load: `tokenward serve`, the floor endpoint, and the apps of
figure 6, each a separate process (the tests' ``ServeProcess``) on the same uvicorn settings;
and figure 8's OpenID provider."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import server as serve_process
from tests.support.cli import clean_env
from tests.support.postgres import free_port
from tests.support.server import ServeProcess

from bench.load import Load, Result, RssSampler, refresh_load

ROOT = Path(__file__).resolve().parents[1]
# Several workers importing at once on a loaded machine can take longer than the tests allow.
serve_process.STARTUP_TIMEOUT = 120.0
REFRESH_PATH = "/auth/session/refresh"
LOG_LEVEL = "warning"  # every server under test: no access log lines
# All the load comes from one address: per-address limits far above it, so the limiter still
# does its work on every request but never refuses one.
UNLIMITED = {
    "TOKENWARD_RATE_LIMIT_REFRESHES_PER_IP": "1000000000",
    "TOKENWARD_RATE_LIMIT_REQUESTS_PER_IP": "1000000000",
    "TOKENWARD_RATE_LIMIT_PROVIDER_SIGN_INS_PER_IP": "1000000000",
}


@contextmanager
def tokenward_server(
    url: str, workers: int, log_dir: Path, **settings: str
) -> Iterator[ServeProcess]:
    env = clean_env(
        TOKENWARD_DATABASE_URL=url,
        TOKENWARD_LOG_LEVEL=LOG_LEVEL,
        **UNLIMITED,
        **{f"TOKENWARD_{name.upper()}": value for name, value in settings.items()},
    )
    with ServeProcess(ROOT, "--workers", str(workers), env=env, log_dir=log_dir) as server:
        yield server


@contextmanager
def floor_server(url: str, workers: int, log_dir: Path, **env: str) -> Iterator[ServeProcess]:
    environment = clean_env(DATABASE_URL=url, WORKERS=str(workers), **env)
    command = [sys.executable, "-m", "bench.floor_app"]
    with ServeProcess(ROOT, env=environment, command=command, log_dir=log_dir) as server:
        yield server


@contextmanager
def oidc_provider(client_id: str, client_secret: str, log_dir: Path) -> Iterator[ServeProcess]:
    """The local OpenID provider of figure 8 (bench/oidc_provider.py), one process."""
    env = clean_env(CLIENT_ID=client_id, CLIENT_SECRET=client_secret)
    command = [sys.executable, "-m", "bench.oidc_provider"]
    with ServeProcess(ROOT, env=env, command=command, log_dir=log_dir) as server:
        yield server


@contextmanager
def uvicorn_app(app_dir: Path, app: str, log_dir: Path, **env: str) -> Iterator[ServeProcess]:
    """``module:attribute`` from ``app_dir``, one worker, with the floor's uvicorn options."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(app_dir),
        app,
        "--host",
        "127.0.0.1",
        "--log-level",
        LOG_LEVEL,
        "--no-server-header",
        "--no-proxy-headers",
    ]

    port = free_port()
    command += ["--port", str(port)]
    environment = clean_env(**env, PORT=str(port))
    with ServeProcess(ROOT, env=environment, command=command, port=port, log_dir=log_dir) as server:
        yield server


def sessions_needed(load: Load, sessions: int) -> int:
    """How many sessions ``refresh_run`` takes: the measured ones and the warm-up's."""
    return sessions + (load.connections * 4 if load.warmup_seconds else 0)


async def refresh_run(
    server: ServeProcess,
    new_sessions: Callable[[int], Awaitable[list[str]]],
    load: Load,
    sessions: int,
) -> Result:
    """A short warm-up on sessions of its own, then ``load`` over ``sessions`` fresh sessions,
    sampling the server's memory meanwhile."""
    if load.warmup_seconds:
        warm = await new_sessions(load.connections * 4)
        warmup = Load(load.connections, load.warmup_seconds, load.threads)
        refresh_load(server.url, warmup, warm, path=REFRESH_PATH)
    tokens = await new_sessions(sessions)
    with RssSampler([server.process.pid]) as rss:
        result = refresh_load(server.url, load, tokens, path=REFRESH_PATH)
    return dataclasses.replace(result, peak_rss_mib=rss.peak_mib)
