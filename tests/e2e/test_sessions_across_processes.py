"""Sessions against real `tokenward serve` processes: several instances on one PostgreSQL,
a database outage in the middle of a refresh, and parallel refreshes over real HTTP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.conftest import fresh_postgres_database
from tests.support.cli import clean_env, tokenward
from tests.support.postgres import PostgresServer
from tests.support.server import ServeProcess
from tokenward.app.services import open_services
from tokenward.app.stores import Stores
from tokenward.config import load_settings
from tokenward.recipes.session.service.types import IssuedTokens
from tokenward.shared.clock import SystemClock

REFRESH = "/auth/session/refresh"
SIGNOUT = "/auth/signout"


async def create_session(database_url: str, user_id: str = "user-1") -> IssuedTokens:
    """Start a session the way any instance would (sign-in over HTTP arrives with #4)."""
    stores = Stores.open(database_url)
    try:
        services = await open_services(
            load_settings(overrides={"database_url": database_url}), stores, SystemClock()
        )
        try:
            return await services.sessions.create(user_id)
        finally:
            await services.close()
    finally:
        await stores.close()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "rid": "session"}


def kids(server: ServeProcess) -> set[str]:
    response = httpx.get(server.url + "/.well-known/jwks.json")
    return {key["kid"] for key in response.json()["keys"]}


def test_two_instances_share_sessions_and_keys(tmp_path: Path, postgres: PostgresServer) -> None:
    url = asyncio.run(fresh_postgres_database(postgres, "template0"))
    env = clean_env(TOKENWARD_DATABASE_URL=url)
    assert tokenward("migrate", cwd=tmp_path, env=env).returncode == 0
    with ServeProcess(tmp_path, env=env) as a, ServeProcess(tmp_path, env=env) as b:
        assert kids(a) == kids(b) and len(kids(a)) == 1

        # Signed up on A, refreshed on A, then the child promoted on B.
        signed_up = httpx.post(
            a.url + "/auth/signup",
            json={
                "formFields": [
                    {"id": "email", "value": "pat@example.com"},
                    {"id": "password", "value": "a shared passphrase"},
                ]
            },
        )
        assert signed_up.json()["status"] == "OK"
        first_refresh = signed_up.headers["st-refresh-token"]
        assert (
            httpx.get(
                b.url + "/auth/user/email/verify",
                headers=bearer(signed_up.headers["st-access-token"]),
            ).json()["status"]
            == "OK"
        ), "B verifies A's access token"
        on_a = httpx.post(a.url + REFRESH, headers=bearer(first_refresh))
        assert on_a.status_code == 200
        # The child minted by A is promoted by B...
        on_b = httpx.post(b.url + REFRESH, headers=bearer(on_a.headers["st-refresh-token"]))
        assert on_b.status_code == 200
        # ...so A sees the first token as an ancestor now: theft.
        replay = httpx.post(a.url + REFRESH, headers=bearer(first_refresh))
        assert replay.json() == {"message": "token theft detected"}

        # An access token minted by A after a refresh is verified (and promoted) by B.
        second = asyncio.run(create_session(url, "user-2"))
        refreshed = httpx.post(a.url + REFRESH, headers=bearer(second.refresh_token))
        signed_out = httpx.post(
            b.url + SIGNOUT, headers=bearer(refreshed.headers["st-access-token"])
        )
        assert (signed_out.status_code, signed_out.json()) == (200, {"status": "OK"})
        gone = httpx.post(a.url + REFRESH, headers=bearer(refreshed.headers["st-refresh-token"]))
        assert gone.json() == {"message": "unauthorised"}

        # A key rotated in the shared database is published by every instance at once.
        rotated = tokenward("keys", "rotate", cwd=tmp_path, env=env)
        assert rotated.returncode == 0
        new_kid = rotated.stdout.strip()
        assert new_kid.startswith("d-")
        # Each instance reloads its published keys at most once a second.
        deadline = time.monotonic() + 10
        while not (new_kid in kids(a) and new_kid in kids(b)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert new_kid in kids(a) and new_kid in kids(b)


def test_refresh_during_a_postgres_outage_is_503_and_loses_nothing(tmp_path: Path) -> None:
    pg = PostgresServer()
    try:
        pg.init()
        pg.start()
        env = clean_env(TOKENWARD_DATABASE_URL=pg.url)
        assert tokenward("migrate", cwd=tmp_path, env=env).returncode == 0
        with ServeProcess(tmp_path, env=env) as server:
            issued = asyncio.run(create_session(pg.url))
            pg.stop()
            down = httpx.post(
                server.url + REFRESH, headers=bearer(issued.refresh_token), timeout=30
            )
            assert down.status_code == 503
            assert down.headers["retry-after"].isdigit()
            assert "front-token" not in down.headers, "an outage must not sign the user out"
            pg.start()
            back = httpx.post(
                server.url + REFRESH, headers=bearer(issued.refresh_token), timeout=30
            )
            assert back.status_code == 200, back.text
    finally:
        pg.destroy()


def test_parallel_refreshes_with_one_token_over_real_http(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(TOKENWARD_DATABASE_URL=database_url)
    with ServeProcess(tmp_path, env=env) as server:
        issued = asyncio.run(create_session(database_url))

        async def burst(token: str) -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                return await asyncio.gather(
                    *(client.post(REFRESH, headers=bearer(token)) for _ in range(20))
                )

        first = asyncio.run(burst(issued.refresh_token))
        assert [r.status_code for r in first] == [200] * 20, [r.text for r in first]
        # Now 20 parallel first uses of one child: exactly one promotion, no theft.
        child = first[0].headers["st-refresh-token"]
        second = asyncio.run(burst(child))
        assert [r.status_code for r in second] == [200] * 20, [r.text for r in second]
        # The lineage continues from that child; its siblings and the first token are theft.
        carry_on = httpx.post(
            server.url + REFRESH, headers=bearer(second[3].headers["st-refresh-token"])
        )
        assert carry_on.status_code == 200
        sibling = httpx.post(
            server.url + REFRESH, headers=bearer(first[1].headers["st-refresh-token"])
        )
        assert sibling.json() == {"message": "token theft detected"}
