"""Figure 6: peers on the same machine, in the same run, under the same wrk load.

(a) tokenward embedded in FastAPI (examples/fastapi_app.py) against an app built with the
official supertokens-python SDK with `tokenward serve` as its core (tests/e2e/sdk_app.py): the
same session and password code on both sides, so the difference is SuperTokens' app→core hop.
(b) tokenward embedded against fastapi-users (bench/peer_apps/fastapi_users_app.py).

Each app runs alone in one uvicorn worker on a fresh SQLite database; both sides hash passwords
with tokenward's default Argon2id parameters.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.server import ServeProcess

from bench.common import Figure, progress
from bench.databases import SessionSeeder, bench_database
from bench.load import Load, Result, request_load
from bench.servers import LOG_LEVEL, ROOT, UNLIMITED, refresh_run, tokenward_server, uvicorn_app

EMAIL = "runner@example.com"
PASSWORD = "benchpassword123"  # the SDK's policy wants a letter and a digit
API_KEY = "bench-api-key-0123456789-abcdefghij"
FDI = {"st-auth-mode": "header", "fdi-version": "4.1", "content-type": "application/json"}
SIGN_IN_BODY = json.dumps(
    {"formFields": [{"id": "email", "value": EMAIL}, {"id": "password", "value": PASSWORD}]}
).encode()


@dataclass
class App:
    """A running app under test, with what its requests need."""

    name: str
    server: ServeProcess
    access_token: str
    seeder: SessionSeeder | None  # sessions straight into its database (tokenward-backed apps)


@contextmanager
def _logs() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tokenward-bench-logs-") as directory:
        yield Path(directory)


def _sign_up_fdi(url: str) -> str:
    answer = httpx.post(
        f"{url}/auth/signup", content=SIGN_IN_BODY, headers={**FDI, "rid": "emailpassword"}
    )
    if answer.status_code != 200 or "st-access-token" not in answer.headers:
        raise RuntimeError(f"sign-up failed: {answer.status_code} {answer.text}")
    return answer.headers["st-access-token"]


@asynccontextmanager
async def embedded(logs: Path) -> AsyncIterator[App]:
    async with bench_database("sqlite") as url, SessionSeeder(url) as seeder:
        env = {"TOKENWARD_DATABASE_URL": url, "TOKENWARD_LOG_LEVEL": LOG_LEVEL, **UNLIMITED}
        with uvicorn_app(ROOT / "examples", "fastapi_app:app", logs, **env) as server:
            yield App("tokenward embedded", server, _sign_up_fdi(server.url), seeder)


@asynccontextmanager
async def sdk_app(logs: Path) -> AsyncIterator[App]:
    async with bench_database("sqlite") as url, SessionSeeder(url) as seeder:
        with tokenward_server(url, 1, logs, api_keys=API_KEY) as core:
            env = {
                "TOKENWARD_CORE_URL": core.url,
                "TOKENWARD_CORE_API_KEY": API_KEY,
                "MAIL_LOG": str(logs / "mail.jsonl"),
                # Its passwordless recipe sends nothing here: no SMTP server listens on port 9.
                "SMTP_PORT": "9",
                "SMS_LOG": str(logs / "sms.jsonl"),
                "TLDEXTRACT_CACHE": str(logs / "tld-cache"),
            }
            with uvicorn_app(ROOT / "tests" / "e2e", "sdk_app:app", logs, **env) as server:
                yield App("SDK app + tokenward core", server, _sign_up_fdi(server.url), seeder)


@asynccontextmanager
async def fastapi_users_app(logs: Path) -> AsyncIterator[App]:
    env = {"USERS_DB": str(logs / "users.db")}
    app_dir = ROOT / "bench" / "peer_apps"
    with uvicorn_app(app_dir, "fastapi_users_app:app", logs, **env) as server:
        yield App("fastapi-users", server, _register_and_log_in(server.url), None)


def _register_and_log_in(url: str) -> str:
    httpx.post(
        f"{url}/auth/register", json={"email": EMAIL, "password": PASSWORD}
    ).raise_for_status()
    login = httpx.post(f"{url}/auth/jwt/login", data={"username": EMAIL, "password": PASSWORD})
    login.raise_for_status()
    return str(login.json()["access_token"])


def _sign_in(app: App, load: Load) -> Result:
    if app.seeder is None:
        body = f"username={EMAIL.replace('@', '%40')}&password={PASSWORD}".encode()
        headers = {"content-type": "application/x-www-form-urlencoded"}
        return request_load(app.server.url, load, "POST", "/auth/jwt/login", headers, body)
    headers = {**FDI, "rid": "emailpassword"}
    return request_load(app.server.url, load, "POST", "/auth/signin", headers, SIGN_IN_BODY)


def _authenticated(app: App, load: Load) -> Result:
    headers = {"authorization": f"Bearer {app.access_token}", "st-auth-mode": "header"}
    return request_load(app.server.url, load, "GET", "/api/me", headers)


async def _refresh(app: App, load: Load, sessions: int) -> Result:
    if app.seeder is None:
        raise ValueError(f"{app.name} has no refresh tokens")
    return await refresh_run(app.server, app.seeder.tokenward_sessions, load, sessions)


async def _side(
    start: Callable[[Path], AbstractAsyncContextManager[App]],
    logs: Path,
    load: Load,
    sign_in_load: Load,
    sessions: int,
    refresh: bool,
) -> dict[str, Result]:
    results: dict[str, Result] = {}
    async with start(logs) as app:
        progress(f"peers: {app.name}: sign-in ({sign_in_load.describe()})")
        results["sign-in"] = _sign_in(app, sign_in_load)
        progress(f"  {results['sign-in'].describe()}; authenticated request ({load.describe()})")
        results["authenticated request"] = _authenticated(app, load)
        progress(f"  {results['authenticated request'].describe()}")
        if refresh:
            progress(f"  refresh ({load.describe()}, {sessions:,} sessions)")
            results["refresh"] = await _refresh(app, load, sessions)
            progress(f"  {results['refresh'].describe()}")
    return results


async def measure(load: Load, sign_in_load: Load, sessions: int) -> list[Figure]:
    figures = []
    with _logs() as logs:
        ours = await _side(embedded, logs, load, sign_in_load, sessions, refresh=True)
        sdk = await _side(sdk_app, logs, load, sign_in_load, sessions, refresh=True)
        users = await _side(fastapi_users_app, logs, load, sign_in_load, sessions, refresh=False)
    for peer_name, peer in (
        ("supertokens-python SDK app + tokenward core", sdk),
        ("fastapi-users", users),
    ):
        for operation, theirs in peer.items():
            used = sign_in_load if operation == "sign-in" else load
            figures.append(
                Figure(
                    f"Peers: {operation}, tokenward embedded vs {peer_name}",
                    ours[operation].describe(),
                    theirs.describe(),
                    ours[operation].ratio_to(theirs),
                    "≥ 1",
                    f"FastAPI, 1 worker, SQLite; wrk, {used.describe()}"
                    + (f", {sessions:,} sessions" if operation == "refresh" else ""),
                )
            )
    return figures
