"""Fixtures: the real app in-process on an injected clock, with a client clock of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.client.support import PASSWORD, Recorder, RecordingTransport, form
from tests.support.api import API, Api, running_api
from tests.support.clock import FakeClock
from tokenward.client import SessionAuth


@dataclass
class World:
    """The server (with its clock), a clock for the client, and what went over the wire."""

    api: Api
    client_clock: FakeClock
    recorder: Recorder
    transport: httpx.AsyncBaseTransport

    @property
    def server_clock(self) -> FakeClock:
        return self.api.clock

    def advance(self, *, seconds: float) -> None:
        """Let time pass for both sides."""
        self.server_clock.advance(seconds=seconds)
        self.client_clock.advance(seconds=seconds)

    async def sign_up(self, email: str = "alice@example.com", password: str = PASSWORD) -> str:
        response = await self.api.client.post("/auth/signup", json=form(email, password))
        body = response.json()
        assert body["status"] == "OK", body
        return str(body["user"]["id"])

    def auth(self, **options: Any) -> SessionAuth:
        options.setdefault("now_ms", self.client_clock.now_ms)
        return SessionAuth(API, **options)

    def client(self, auth: SessionAuth) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url=API, auth=auth)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with running_api(database_url) as api:
        recorder = Recorder()
        transport = RecordingTransport(httpx.ASGITransport(app=api.app), recorder)
        yield World(api, FakeClock(api.clock.now), recorder, transport)


@pytest.fixture
async def short_lived(database_url: str) -> AsyncIterator[World]:
    """Access tokens valid for 40 s: shorter than twice the default 30 s renewal margin."""
    async with running_api(database_url, access_token_validity=40) as api:
        recorder = Recorder()
        transport = RecordingTransport(httpx.ASGITransport(app=api.app), recorder)
        yield World(api, FakeClock(api.clock.now), recorder, transport)
