"""tokenward embedded in FastAPI and Starlette apps, in-process over HTTP semantics with an
injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.support.api import FAST_HASHING
from tests.support.clock import FakeClock
from tokenward import Auth, AuthEvent, Hooks, Session, SignUpField, TheftEvent, load_settings
from tokenward.integrations.fastapi import verify_optional_session, verify_session
from tokenward.integrations.starlette import requires_session
from tokenward.recipes.session.rules import front_token
from tokenward.recipes.users.port import UserRecord

EP = {"rid": "emailpassword"}
PASSWORD = "a sturdy passphrase"


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@asynccontextmanager
async def client_for(app: Starlette, auth: Auth) -> AsyncIterator[httpx.AsyncClient]:
    async with auth.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:3567") as c:
            yield c


def make_auth(database_url: str, clock: FakeClock, **kwargs: Any) -> Auth:
    settings = load_settings(overrides={"database_url": database_url, **FAST_HASHING})
    return Auth(settings, clock=clock, **kwargs)


async def sign_up(client: httpx.AsyncClient, email: str, **extra: str) -> httpx.Response:
    response = await client.post(
        "/auth/signup", json=form(email=email, password=PASSWORD, **extra), headers=EP
    )
    return response


async def test_fastapi_dependency(database_url: str) -> None:
    clock = FakeClock()
    auth = make_auth(database_url, clock)
    app = FastAPI()
    auth.install(app)

    @app.get("/api/me")
    async def me(session: Session = Depends(verify_session())) -> dict[str, Any]:
        return {"userId": session.user_id, "plan": session.access_token_payload.get("plan")}

    @app.post("/api/upgrade")
    async def upgrade(session: Session = Depends(verify_session())) -> PlainTextResponse:
        await session.merge_into_access_token_payload({"plan": "pro"})
        return PlainTextResponse("upgraded")  # a custom response class still carries the token

    @app.get("/api/maybe")
    async def maybe(session: Session | None = Depends(verify_optional_session())) -> dict[str, Any]:
        return {"signedIn": session is not None}

    @app.get("/api/fresh")
    async def fresh(
        session: Session = Depends(verify_session(check_database=True)),
    ) -> dict[str, str]:
        return {"handle": session.session_handle}

    async with client_for(app, auth) as client:
        signed_up = await sign_up(client, "ann@example.com")
        user_id = signed_up.json()["user"]["id"]
        access, refresh = (
            signed_up.headers["st-access-token"],
            signed_up.headers["st-refresh-token"],
        )

        me_response = await client.get("/api/me", headers=bearer(access))
        assert me_response.json() == {"userId": user_id, "plan": None}
        assert (await client.get("/api/me")).json() == {"message": "unauthorised"}
        assert (await client.get("/api/maybe")).json() == {"signedIn": False}
        assert (await client.get("/api/maybe", headers=bearer(access))).json() == {"signedIn": True}

        upgraded = await client.post("/api/upgrade", headers=bearer(access))
        assert upgraded.text == "upgraded"
        new_access = upgraded.headers["st-access-token"]
        assert front_token.decode(upgraded.headers["front-token"]).payload["plan"] == "pro"
        assert (await client.get("/api/me", headers=bearer(new_access))).json()["plan"] == "pro"

        # Expiry, refresh, and the promotion on first use, all through the app's own route.
        clock.advance(seconds=3600)
        expired = await client.get("/api/me", headers=bearer(new_access))
        assert (expired.status_code, expired.json()) == (401, {"message": "try refresh token"})
        renewed = await client.post("/auth/session/refresh", headers=bearer(refresh))
        first_use = await client.get("/api/me", headers=bearer(renewed.headers["st-access-token"]))
        assert first_use.status_code == 200
        assert (
            front_token.decode(first_use.headers["front-token"]).payload["parentRefreshTokenHash1"]
            is None
        )

        # A database-checked route sees a revocation at once.
        current = first_use.headers["st-access-token"]
        assert (await client.get("/api/fresh", headers=bearer(current))).status_code == 200
        await auth.runtime.services.sessions.revoke_all_for_user(user_id)
        assert (await client.get("/api/fresh", headers=bearer(current))).status_code == 401


async def test_starlette_decorator_session_data_and_revocation(database_url: str) -> None:
    clock = FakeClock()
    auth = make_auth(database_url, clock)

    @requires_session()
    async def cart(request: Request, session: Session) -> Response:
        data = await session.get_data()
        items = [*data.get("items", []), request.query_params["add"]]
        await session.update_data({"items": items})
        return JSONResponse({"items": items})

    @requires_session()
    async def leave(request: Request, session: Session) -> Response:
        await session.revoke()
        return JSONResponse({"bye": session.user_id})

    app = Starlette(
        routes=[Route("/cart", cart, methods=["POST"]), Route("/leave", leave, methods=["POST"])]
    )
    auth.install(app)
    async with client_for(app, auth) as client:
        access = (await sign_up(client, "bo@example.com")).headers["st-access-token"]
        await client.post("/cart?add=apple", headers=bearer(access))
        second = await client.post("/cart?add=pear", headers=bearer(access))
        assert second.json() == {"items": ["apple", "pear"]}
        left = await client.post("/leave", headers=bearer(access))
        assert left.status_code == 200
        assert left.headers["front-token"] == "remove" and left.headers["st-access-token"] == ""
        gone = await client.post("/cart?add=plum", headers=bearer(access))
        assert gone.status_code == 401, "session data of a revoked session is gone"


async def test_hooks(database_url: str) -> None:
    clock = FakeClock()
    events: list[tuple[str, Any]] = []

    async def name_ok(value: str) -> str | None:
        return None if value.strip() else "Please tell us your name"

    async def after_sign_up(event: AuthEvent) -> None:
        events.append(("sign_up", dict(event.form)))

    async def after_sign_in(event: AuthEvent) -> None:
        events.append(("sign_in", event.user.user_id))

    async def claims(user: UserRecord, tenant_id: str) -> dict[str, Any]:
        return {"org": "acme", "tenant": tenant_id}

    async def theft(event: TheftEvent) -> None:
        events.append(("theft", event.user_id))

    hooks = Hooks(
        after_sign_up=[after_sign_up],
        after_sign_in=[after_sign_in],
        on_theft_detected=[theft],
        access_token_claims=[claims],
        sign_up_fields=[
            SignUpField("name", validate=name_ok),
            SignUpField("newsletter", optional=True),
        ],
    )
    auth = make_auth(database_url, clock, hooks=hooks)
    app = Starlette()
    auth.install(app)
    async with client_for(app, auth) as client:
        missing = await sign_up(client, "cy@example.com")
        assert missing.json()["formFields"] == [{"id": "name", "error": "Field is not optional"}]
        blank = await sign_up(client, "cy@example.com", name=" ")
        assert blank.json()["formFields"] == [{"id": "name", "error": "Please tell us your name"}]
        unknown = await sign_up(client, "cy@example.com", name="Cy", admin="true")
        assert unknown.status_code == 400, "undeclared fields are refused"

        created = await sign_up(client, "cy@example.com", name="Cy")
        assert created.json()["status"] == "OK"
        assert events == [("sign_up", {"email": "cy@example.com", "name": "Cy"})]
        payload = front_token.decode(created.headers["front-token"]).payload
        assert (payload["org"], payload["tenant"]) == ("acme", "public")

        signed_in = await client.post(
            "/auth/signin", json=form(email="cy@example.com", password=PASSWORD), headers=EP
        )
        user_id = signed_in.json()["user"]["id"]
        assert events[-1] == ("sign_in", user_id)

        first = signed_in.headers["st-refresh-token"]
        child = await client.post("/auth/session/refresh", headers=bearer(first))
        await client.post(
            "/auth/session/refresh", headers=bearer(child.headers["st-refresh-token"])
        )
        stolen = await client.post("/auth/session/refresh", headers=bearer(first))
        assert stolen.json() == {"message": "token theft detected"}
        assert events[-1] == ("theft", user_id)


async def test_install_needs_the_lifespan(database_url: str) -> None:
    auth = make_auth(database_url, FakeClock())
    app = Starlette()
    auth.install(app)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        with pytest.raises(RuntimeError, match="lifespan"):
            await client.post("/auth/signin", json=form(email="a@b.co", password=PASSWORD))
