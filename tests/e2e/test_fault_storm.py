"""Reliability under faults (security checklist §4.2, RT-12): PostgreSQL is crashed with
`pg_ctl stop -m immediate` in the middle of a sign-up/sign-in/refresh storm against a real
`tokenward serve`, kept down for a while, then restarted.

While it is down every failure is a retryable 503, never a 500 and never a 401; tokenward
recovers by itself; and afterwards no write behind a 200 was lost, no session was revoked as
theft, and every email belongs to exactly one user.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.support.api import FAST_HASHING
from tests.support.cli import clean_env
from tests.support.migrations import migrate_url
from tests.support.postgres import PostgresServer
from tests.support.server import ServeProcess

SIGNUP = "/auth/signup"
SIGNIN = "/auth/signin"
REFRESH = "/auth/session/refresh"
EP = {"rid": "emailpassword", "st-auth-mode": "header"}
PASSWORD = "storm passphrase 42"
CLIENTS = 4
HEALTHY_SECONDS = 1.0
PROGRESS_DEADLINE = 20.0
DOWN_SECONDS = 2.0
RECOVERY_DEADLINE = 15.0
THEFT = {"message": "token theft detected"}
ACTIONS = ("refresh", "sign-in", "sign-up")


def form(email: str) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "rid": "session"}


@dataclass
class Outcome:
    phase: str  # when the request was sent
    ended: str  # when its answer came
    action: str
    status: int
    body: Any
    retry_after: str | None


@dataclass
class Storm:
    """What every request saw, labelled with the phase the database was in when it was sent:
    ``up`` (before the crash), ``down`` (crashed, not yet restarting), ``restarting`` (pg_ctl
    start running) and ``recovered`` (tokenward said healthy again)."""

    phase: str = "up"
    outcomes: list[Outcome] = field(default_factory=list)

    async def send(
        self, http: httpx.AsyncClient, action: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        phase = self.phase
        response = await http.post(path, **kwargs)
        body = (
            response.json()
            if response.headers.get("content-type") == "application/json"
            else response.text
        )
        self.outcomes.append(
            Outcome(
                phase,
                self.phase,
                action,
                response.status_code,
                body,
                response.headers.get("retry-after"),
            )
        )
        return response


@dataclass
class VirtualClient:
    """One user's device: it always refreshes with the newest refresh token it holds."""

    number: int
    email: str
    tokens: list[str]
    sign_ups: dict[str, str] = field(default_factory=dict)  # email -> "OK" or "unknown"
    refreshed: dict[str, int] = field(default_factory=dict)  # phase -> refreshes answered 200

    async def run(self, storm: Storm, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        rng = random.Random(self.number)
        while not stop.is_set():
            roll = rng.random()
            if roll < 0.1:
                await self.sign_up_someone(storm, http)
            elif roll < 0.25:
                await storm.send(http, "sign-in", SIGNIN, json=form(self.email), headers=EP)
            else:
                await self.refresh(storm, http)
            await asyncio.sleep(0.01 if storm.phase == "up" else 0.05)

    async def refresh(self, storm: Storm, http: httpx.AsyncClient) -> httpx.Response:
        phase = storm.phase
        response = await storm.send(http, "refresh", REFRESH, headers=bearer(self.tokens[-1]))
        if response.status_code == 200:
            self.tokens.append(response.headers["st-refresh-token"])
            self.refreshed[phase] = self.refreshed.get(phase, 0) + 1
        return response

    async def sign_up_someone(self, storm: Storm, http: httpx.AsyncClient) -> None:
        email = f"storm-{self.number}-{len(self.sign_ups)}@example.com"
        response = await storm.send(http, "sign-up", SIGNUP, json=form(email), headers=EP)
        ok = response.status_code == 200 and response.json()["status"] == "OK"
        self.sign_ups[email] = "OK" if ok else "unknown"


async def seed(http: httpx.AsyncClient) -> list[VirtualClient]:
    clients = []
    for number in range(CLIENTS):
        email = f"seed-{number}@example.com"
        response = await http.post(SIGNUP, json=form(email), headers=EP)
        assert response.json()["status"] == "OK", response.text
        clients.append(VirtualClient(number, email, [response.headers["st-refresh-token"]]))
    return clients


async def wait_until_healthy(http: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE
    while (await http.get("/hello")).status_code != 200:
        assert time.monotonic() < deadline, "tokenward did not recover after PostgreSQL restarted"
        await asyncio.sleep(0.1)


async def keep_storming(seconds: float, enough: Callable[[], bool]) -> None:
    """Let the storm run for a while, and on until it has done ``enough`` (a busy machine may
    serve only a few requests a second)."""
    await asyncio.sleep(seconds)
    deadline = time.monotonic() + PROGRESS_DEADLINE
    while not enough():
        assert time.monotonic() < deadline, "the storm made no progress"
        await asyncio.sleep(0.05)


def everyone_refreshed(clients: list[VirtualClient], phase: str, times: int) -> Callable[[], bool]:
    return lambda: all(c.refreshed.get(phase, 0) >= times for c in clients)


def every_action_failed_over(storm: Storm) -> Callable[[], bool]:
    return lambda: (
        {o.action for o in storm.outcomes if o.phase == o.ended == "down"} == set(ACTIONS)
    )


async def storm_through_a_crash(server: ServeProcess, pg: PostgresServer) -> list[VirtualClient]:
    storm = Storm()
    limits = httpx.Limits(max_connections=CLIENTS * 2)
    async with httpx.AsyncClient(base_url=server.url, timeout=20, limits=limits) as http:
        clients = await seed(http)
        stop = asyncio.Event()
        running = [asyncio.create_task(c.run(storm, http, stop)) for c in clients]
        await keep_storming(HEALTHY_SECONDS, everyone_refreshed(clients, "up", 2))
        await asyncio.to_thread(pg.stop, "immediate")
        storm.phase = "down"
        await keep_storming(DOWN_SECONDS, every_action_failed_over(storm))
        storm.phase = "restarting"
        await asyncio.to_thread(pg.start)
        await wait_until_healthy(http)
        storm.phase = "recovered"
        await keep_storming(HEALTHY_SECONDS, everyone_refreshed(clients, "recovered", 1))
        stop.set()
        await asyncio.gather(*running)

        check_history(storm)
        await asyncio.gather(*(check_afterwards(http, c) for c in clients))
    return clients


def check_history(storm: Storm) -> None:
    by_phase: dict[str, list[Outcome]] = {}
    for outcome in storm.outcomes:
        by_phase.setdefault(outcome.phase, []).append(outcome)
        # RT-12: an outage is a retryable 503, never a 500, never a 401 (which logs users out
        # or, worse, counts as refresh-token reuse).
        assert outcome.status in (200, 503), outcome
        if outcome.status == 503:
            assert outcome.retry_after is not None and outcome.retry_after.isdigit(), outcome
        assert outcome.body != THEFT, outcome
    down = [o for o in by_phase.get("down", []) if o.ended == "down"]
    assert down and {o.status for o in down} == {503}, "every request during the crash is 503"
    assert [o for o in by_phase["up"] if o.status == 200], "the storm worked before the crash"
    recovered = by_phase.get("recovered", [])
    assert recovered and {o.status for o in recovered} == {200}, [
        o for o in recovered if o.status != 200
    ]
    for o in storm.outcomes:
        if o.status == 200 and o.action == "sign-up":
            assert o.body["status"] in ("OK", "FIELD_ERROR"), o
        elif o.status == 200 and o.action == "sign-in":
            assert o.body["status"] == "OK", o


async def check_afterwards(http: httpx.AsyncClient, client: VirtualClient) -> None:
    # Each 200 refresh's token was used by the next refresh, which also succeeded: had a
    # promotion behind a 200 been lost, that next refresh would have been theft (401).
    final = await http.post(REFRESH, headers=bearer(client.tokens[-1]))
    assert final.status_code == 200, final.text
    client.tokens.append(final.headers["st-refresh-token"])
    # A sign-up answered 503 may or may not have committed; retrying settles it, and the
    # account (whichever attempt created it) signs in.
    for email, outcome in client.sign_ups.items():
        if outcome == "unknown":
            retried = await http.post(SIGNUP, json=form(email), headers=EP)
            assert retried.status_code == 200, retried.text
            assert retried.json()["status"] in ("OK", "FIELD_ERROR"), retried.text
            signed_in = await http.post(SIGNIN, json=form(email), headers=EP)
            assert signed_in.json()["status"] == "OK", (email, signed_in.text)


async def check_reuse_still_detected(server: ServeProcess, client: VirtualClient) -> None:
    """A consumed (superseded) refresh token is still detected as reuse after the crash."""
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        replayed = await http.post(REFRESH, headers=bearer(client.tokens[-3]))
        assert (replayed.status_code, replayed.json()) == (401, THEFT)
        revoked = await http.post(REFRESH, headers=bearer(client.tokens[-1]))
        assert (revoked.status_code, revoked.json()) == (401, {"message": "unauthorised"})


async def check_database(url: str, clients: list[VirtualClient]) -> None:
    conn = await asyncpg.connect(url)
    try:
        duplicates = await conn.fetch(
            "SELECT email, count(*) FROM login_methods WHERE email IS NOT NULL"
            " GROUP BY email HAVING count(*) > 1"
        )
        assert duplicates == []
        orphans = await conn.fetchval(
            "SELECT count(*) FROM users u"
            " WHERE NOT EXISTS (SELECT 1 FROM login_methods m WHERE m.user_id = u.user_id)"
        )
        assert orphans == 0, "no user without a credential"
        emails = {c.email for c in clients} | {e for c in clients for e in c.sign_ups}
        stored = {r["email"] for r in await conn.fetch("SELECT email FROM login_methods")}
        assert stored == emails
    finally:
        await conn.close()


def test_postgres_crash_during_a_storm(tmp_path: Path) -> None:
    pg = PostgresServer(durable=True)  # fsync on: committed data survives the crash
    try:
        pg.init()
        pg.start()
        env = clean_env(
            TOKENWARD_DATABASE_URL=pg.url,
            # Every virtual client shares one address: how many sign-ups (and retries) a
            # storm makes depends on the machine's speed, so the per-address budget must not.
            TOKENWARD_RATE_LIMIT_REQUESTS_PER_IP="1000",
            **{f"TOKENWARD_{k.upper()}": str(v) for k, v in FAST_HASHING.items()},
        )
        asyncio.run(migrate_url(pg.url))
        with ServeProcess(tmp_path, env=env) as server:
            clients = asyncio.run(storm_through_a_crash(server, pg))
            log = server.output()
            errors = [line for line in log.splitlines() if "Traceback" in line or "theft" in line]
            assert errors == [], log
            asyncio.run(check_database(pg.url, clients))
            asyncio.run(check_reuse_still_detected(server, clients[0]))
    finally:
        pg.destroy()
