"""examples/fastapi_app.py served by uvicorn, driven over real HTTP by the Python client: sign-up,
protected calls, renewal before expiry and after a 401, one shared refresh for concurrent
requests, and SessionExpired after revocation. Access tokens live 2 s; the client's clock is
moved instead of sleeping, except where the server itself must see a token expire."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cli import clean_env
from tests.support.server import ServeProcess
from tokenward.app.stores import Stores
from tokenward.client import SessionAuth, SessionExpired

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "an example passphrase"
VALIDITY_S = 2


class ClientClock:
    """Real time plus an offset: only the client's view moves."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


class Traffic:
    """What the client sent and got back, from httpx's event hooks."""

    def __init__(self) -> None:
        self.refreshes = 0
        self.statuses: list[int] = []
        self.authorization = ""
        """The Authorization header of the last /api/ call: the client's current access token."""

    def request(self, request: httpx.Request) -> None:
        if request.url.path == "/auth/session/refresh":
            self.refreshes += 1
        if request.url.path.startswith("/api/"):
            self.authorization = request.headers.get("authorization", "")

    def response(self, response: httpx.Response) -> None:
        if response.request.url.path.startswith("/api/"):
            self.statuses.append(response.status_code)

    async def arequest(self, request: httpx.Request) -> None:
        self.request(request)

    async def aresponse(self, response: httpx.Response) -> None:
        self.response(response)


@pytest.fixture
def example(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[ServeProcess, str]]:
    database = tmp_path / "example.db"
    database.write_bytes(sqlite_template.read_bytes())
    env = clean_env(
        TOKENWARD_DATABASE_URL=f"sqlite:///{database}",
        TOKENWARD_ACCESS_TOKEN_VALIDITY=str(VALIDITY_S),
        TOKENWARD_PASSWORD_HASH_MEMORY_KIB="7168",
        TOKENWARD_PASSWORD_HASH_TIME_COST="1",
    )
    command = [sys.executable, "examples/fastapi_app.py"]
    with ServeProcess(ROOT, env=env, command=command, log_dir=tmp_path) as app:
        yield app, f"sqlite:///{database}"


def sign_up(url: str, email: str) -> str:
    answer = httpx.post(
        url + "/auth/signup",
        json={
            "formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]
        },
    )
    assert answer.json()["status"] == "OK", answer.text
    return str(answer.json()["user"]["id"])


def wait_until_the_server_expires(url: str, authorization: str, deadline_s: float = 10) -> None:
    """Poll, without the self-renewing client, until the server answers "try refresh token" for
    this access token: its real clock has passed the expiry. Until then, only 200 is expected."""
    deadline = time.monotonic() + deadline_s
    while True:
        answer = httpx.get(url + "/api/me", headers={"authorization": authorization})
        if answer.status_code == 401:
            assert answer.json() == {"message": "try refresh token"}, answer.text
            return
        assert answer.status_code == 200, answer.text
        assert time.monotonic() < deadline, f"still accepted after {deadline_s} s"
        time.sleep(0.05)


def test_the_client_keeps_a_session_alive_on_the_example_app(
    example: tuple[ServeProcess, str],
) -> None:
    app, database_url = example
    user_id = sign_up(app.url, "kai@example.com")
    assert httpx.get(app.url + "/api/public").status_code == 200
    assert httpx.get(app.url + "/api/me").status_code == 401

    clock, traffic = ClientClock(), Traffic()
    expired: list[SessionExpired] = []
    auth = SessionAuth(
        app.url,
        email="kai@example.com",
        password=PASSWORD,
        now_ms=clock.now_ms,
        on_session_expired=expired.append,
    )
    hooks = {"request": [traffic.request], "response": [traffic.response]}
    with httpx.Client(base_url=app.url, auth=auth, event_hooks=hooks) as client:
        assert client.get("/api/me").json()["userId"] == user_id
        assert traffic.refreshes == 0

        # Before expiry: within the margin (at most half the lifetime), the client renews first
        # and the call never sees a 401.
        clock.offset_ms = VALIDITY_S * 1000 - 200
        assert client.get("/api/me").status_code == 200
        assert traffic.refreshes == 1 and 401 not in traffic.statuses

        # After a 401: the client thinks its token is fresh, the server says it expired.
        clock.offset_ms = -3_600_000
        wait_until_the_server_expires(app.url, traffic.authorization)  # a real wait, polled
        assert client.get("/api/me").status_code == 200
        assert traffic.statuses[-2:] == [401, 200] and traffic.refreshes == 2

    # Concurrent requests after expiry share one refresh.
    async def burst() -> list[int]:
        async_hooks = {"request": [traffic.arequest], "response": [traffic.aresponse]}
        async with httpx.AsyncClient(base_url=app.url, auth=auth, event_hooks=async_hooks) as c:
            responses = await asyncio.gather(*(c.get("/api/me") for _ in range(10)))
        return [r.status_code for r in responses]

    clock.offset_ms = 3_600_000
    before = traffic.refreshes
    assert asyncio.run(burst()) == [200] * 10
    assert traffic.refreshes == before + 1

    # Revoked on the server: the next renewal fails once, clearly, and never loops.
    async def revoke_all() -> None:
        stores = Stores.open(database_url)
        try:
            await stores.sessions.delete_for_user(user_id)
        finally:
            await stores.close()

    asyncio.run(revoke_all())
    clock.offset_ms = 2 * 3_600_000
    with httpx.Client(
        base_url=app.url, auth=SessionAuth(app.url, now_ms=clock.now_ms)
    ) as anonymous:
        assert anonymous.get("/api/me").status_code == 401
    with httpx.Client(base_url=app.url, auth=auth, event_hooks=hooks) as client:
        before = traffic.refreshes
        with pytest.raises(SessionExpired):
            client.get("/api/me")
        assert traffic.refreshes == before + 1
        assert len(expired) == 1 and expired[0].reason == "unauthorised"
