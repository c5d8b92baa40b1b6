"""An in-process tokenward app over real stores, an injected clock, and an httpx client.

It adds one protected route, the way an embedding app would: ``GET|POST /test/session``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.support.clock import FakeClock
from tokenward.app.runtime import Runtime
from tokenward.app.server import create_app
from tokenward.config import load_settings
from tokenward.recipes.session.request_session import SessionOptions, require_session
from tokenward.recipes.session.rules import front_token
from tokenward.recipes.session.service.types import IssuedTokens
from tokenward.shared.claims import ClaimValidator

API = "http://localhost:3567"


async def protected(request: Request) -> Response:
    check_database = request.query_params.get("check_database") == "1"
    session = await require_session(request, SessionOptions(check_database=check_database))
    return JSONResponse({"userId": session.user_id, "handle": session.session_handle})


@dataclass
class Api:
    client: httpx.AsyncClient
    app: Starlette
    clock: FakeClock

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.app)

    def use_claim_validators(self, validators: Sequence[ClaimValidator]) -> None:
        """Set the app's global claim validators for the rest of the test."""
        auth = self.app.state.auth
        auth._runtime = dataclasses.replace(self.runtime, claim_validators=validators)

    async def create_session(self, user_id: str = "user-1", **kwargs: Any) -> IssuedTokens:
        return await self.runtime.services.sessions.create(user_id, **kwargs)


# Cheap Argon2id for tests that are not about the hash itself; a test may pass its own.
FAST_HASHING = {"password_hash_memory_kib": 7168, "password_hash_time_cost": 1}


@asynccontextmanager
async def running_api(database_url: str, **settings: Any) -> AsyncIterator[Api]:
    """The app with the given settings; emails go to the console backend unless the settings
    choose SMTP."""
    clock = FakeClock()
    overrides = {"database_url": database_url, **FAST_HASHING, **settings}
    app = create_app(load_settings(overrides=overrides), clock=clock)
    app.add_route("/test/session", protected, methods=["GET", "POST"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=API) as client:
            yield Api(client, app, clock)


def runtime_of(app: Starlette) -> Runtime:
    runtime: Runtime = app.state.auth.runtime
    return runtime


def set_cookies(response: httpx.Response) -> dict[str, Any]:
    """Set-Cookie headers by cookie name, each parsed into its value and attributes."""
    cookies: dict[str, Any] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            cookies[name] = morsel
    return cookies


def front(response: httpx.Response) -> front_token.FrontToken:
    return front_token.decode(response.headers["front-token"])


def exposed(response: httpx.Response) -> set[str]:
    value = response.headers.get("access-control-expose-headers", "")
    return {h.strip().lower() for h in value.split(",") if h.strip()}


async def assert_nobody_signed_in(api: Api, answer: httpx.Response, *, users: int = 0) -> None:
    """``answer`` issued no session (no token header, token cookie or front token) and the
    store holds ``users`` users (none was created)."""
    tokens = {"sAccessToken", "sRefreshToken", "sIdRefreshToken"} & set_cookies(answer).keys()
    assert not tokens, tokens
    for header in ("st-access-token", "st-refresh-token", "front-token"):
        assert header not in answer.headers, header
    assert await api.runtime.stores.users.count(None) == users
