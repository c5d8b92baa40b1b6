"""Invite-only apps: the ``allow_sign_up`` hooks refuse new passwordless users
(``SIGN_IN_UP_NOT_ALLOWED``) before any code is sent; existing users sign in regardless."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.support.api import FAST_HASHING
from tests.support.clock import FakeClock
from tests.support.smtp import SmtpSink, smtp_settings
from tokenward import Auth
from tokenward.config import load_settings
from tokenward.hooks import Hooks, SignUpAttempt

PL = {"rid": "passwordless"}
asked: list[SignUpAttempt] = []


async def invited_only(attempt: SignUpAttempt) -> bool:
    asked.append(attempt)
    return attempt.email is not None and attempt.email.endswith("@invited.example")


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, SmtpSink]]:
    asked.clear()
    with SmtpSink() as sink:
        overrides = {"database_url": database_url, **FAST_HASHING, **smtp_settings(sink)}
        auth = Auth(
            load_settings(overrides=overrides),
            clock=FakeClock(),
            hooks=Hooks(allow_sign_up=[invited_only]),
        )
        app = Starlette()
        auth.install(app)
        async with auth.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                yield c, sink


async def test_new_users_need_the_hook_existing_ones_do_not(
    client: tuple[httpx.AsyncClient, SmtpSink],
) -> None:
    http, sink = client
    refused = await http.post("/auth/signinup/code", json={"email": "x@other.example"}, headers=PL)
    assert refused.json()["status"] == "SIGN_IN_UP_NOT_ALLOWED"
    assert "ERR_CODE_002" in refused.json()["reason"]
    assert sink.received == [], "nothing was sent"
    assert asked == [SignUpAttempt("passwordless", "public", "x@other.example", None)]

    invited = await http.post(
        "/auth/signinup/code", json={"email": "ann@invited.example"}, headers=PL
    )
    started = invited.json()
    assert started["status"] == "OK"
    code = next(w for w in sink.received[-1].text().split() if w.isdigit() and len(w) == 6)
    done = await http.post(
        "/auth/signinup/code/consume",
        json={k: started[k] for k in ("preAuthSessionId", "deviceId")} | {"userInputCode": code},
        headers=PL,
    )
    assert done.json()["status"] == "OK"
    asked.clear()
    again = await http.post(
        "/auth/signinup/code", json={"email": "ann@invited.example"}, headers=PL
    )
    assert again.json()["status"] == "OK" and asked == [], "a returning user is not asked about"
