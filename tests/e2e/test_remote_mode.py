"""Remote mode: an app verifies sessions from a separate `tokenward serve` process, over real
HTTP (the server's JWKS and core API), including promotion, payload changes, revocation, a key
the app has not seen yet, and the server going away."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from tests.support.cli import clean_env
from tests.support.server import ServeProcess
from tokenward import Session, load_settings
from tokenward.app.server import create_app
from tokenward.app.stores import Stores
from tokenward.integrations.fastapi import verify_session
from tokenward.integrations.remote import RemoteAuth
from tokenward.recipes.jwt.port import SigningKeyRecord
from tokenward.recipes.jwt.rules import dynamic_kid, generate_rsa_private_key, private_key_to_pem
from tokenward.recipes.session.rules import front_token
from tokenward.shared.encoding import b64url_decode

API_KEY = "remote-mode-test-key-0123456789"
EP = {"rid": "emailpassword"}


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def remote_app(remote: RemoteAuth) -> FastAPI:
    app = FastAPI()
    remote.install(app)

    @app.get("/api/me")
    async def me(session: Session = Depends(verify_session())) -> dict[str, Any]:
        return {"userId": session.user_id, "plan": session.access_token_payload.get("plan")}

    @app.post("/api/upgrade")
    async def upgrade(session: Session = Depends(verify_session())) -> dict[str, str]:
        await session.merge_into_access_token_payload({"plan": "pro"})
        await session.update_data({"upgraded": True})
        return {"ok": "yes"}

    @app.get("/api/data")
    async def data(
        session: Session = Depends(verify_session(check_database=True)),
    ) -> dict[str, Any]:
        return await session.get_data()

    return app


async def add_backdated_key(database_url: str) -> str:
    """A signing key made by 'another instance' more than a minute ago, so it signs next."""
    stores = Stores.open(database_url)
    try:
        newest = (await stores.signing_keys.all())[0].created_at
        created = newest + 1
        kid = dynamic_kid(created)
        await stores.signing_keys.add(
            SigningKeyRecord(kid, "RS256", private_key_to_pem(generate_rsa_private_key()), created)
        )
        return kid
    finally:
        await stores.close()


@pytest.fixture
async def server_env(tmp_path: Path, database_url: str) -> AsyncIterator[dict[str, str]]:
    yield clean_env(TOKENWARD_DATABASE_URL=database_url, TOKENWARD_API_KEYS=API_KEY)


async def test_remote_verification(
    tmp_path: Path, database_url: str, server_env: dict[str, str]
) -> None:
    with ServeProcess(tmp_path, env=server_env) as server:
        async with httpx.AsyncClient(base_url=server.url) as auth_server:
            signed_up = await auth_server.post(
                "/auth/signup",
                json=form(email="rae@example.com", password="a remote passphrase"),
                headers=EP,
            )
            user_id = signed_up.json()["user"]["id"]
            access, refresh = (
                signed_up.headers["st-access-token"],
                signed_up.headers["st-refresh-token"],
            )

            settings = load_settings(overrides={"database_url": "sqlite:////nonexistent/unused.db"})
            remote = RemoteAuth(server.url, settings, api_key=API_KEY)
            app = remote_app(remote)
            async with (
                remote.lifespan(),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://app"
                ) as client,
            ):
                assert (await client.get("/api/me", headers=bearer(access))).json() == {
                    "userId": user_id,
                    "plan": None,
                }
                assert (await client.get("/api/me")).status_code == 401

                # A refreshed token: its first use is promoted through the server's core API.
                renewed = await auth_server.post("/auth/session/refresh", headers=bearer(refresh))
                first_use = await client.get(
                    "/api/me", headers=bearer(renewed.headers["st-access-token"])
                )
                assert first_use.status_code == 200
                promoted = first_use.headers["st-access-token"]
                assert (
                    front_token.decode(first_use.headers["front-token"]).payload[
                        "parentRefreshTokenHash1"
                    ]
                    is None
                )

                upgraded = await client.post("/api/upgrade", headers=bearer(promoted))
                assert upgraded.status_code == 200
                pro = upgraded.headers["st-access-token"]
                assert (await client.get("/api/me", headers=bearer(pro))).json()["plan"] == "pro"
                assert (await client.get("/api/data", headers=bearer(pro))).json() == {
                    "upgraded": True
                }

                # Sign-out on the server is visible at once to database-checked routes.
                out = await auth_server.post(
                    "/auth/signout", headers=bearer(pro) | {"rid": "session"}
                )
                assert out.status_code == 200
                assert (await client.get("/api/data", headers=bearer(pro))).status_code == 401


async def test_a_new_signing_key_and_a_server_outage(
    tmp_path: Path, database_url: str, server_env: dict[str, str]
) -> None:
    settings = load_settings(overrides={"database_url": "sqlite:////nonexistent/unused.db"})
    server = ServeProcess(tmp_path, env=server_env)
    remote = RemoteAuth(server.url, settings, api_key=API_KEY)
    app = remote_app(remote)
    app_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")
    async with remote.lifespan(), app_client as client:
        async with httpx.AsyncClient(base_url=server.url) as auth_server:
            old = await auth_server.post(
                "/auth/signup",
                json=form(email="sam@example.com", password="a remote passphrase"),
                headers=EP,
            )
        old_access = old.headers["st-access-token"]
        assert (await client.get("/api/me", headers=bearer(old_access))).status_code == 200

        # Another instance rotated the key; the restarted server signs with a kid the app's
        # cached JWKS does not know, so the app fetches the JWKS again.
        new_kid = await add_backdated_key(database_url)
        server.terminate()
        with ServeProcess(tmp_path, env=server_env, port=server.port) as restarted:
            async with httpx.AsyncClient(base_url=restarted.url) as auth_server:
                signed_in = await auth_server.post(
                    "/auth/signin",
                    json=form(email="sam@example.com", password="a remote passphrase"),
                    headers=EP,
                )
            fresh = signed_in.headers["st-access-token"]
            assert json.loads(b64url_decode(fresh.split(".")[0]))["kid"] == new_kid
            assert (await client.get("/api/me", headers=bearer(fresh))).status_code == 200
            assert (await client.get("/api/me", headers=bearer(old_access))).status_code == 200
        # Without the server, current tokens still verify; database-checked routes say 503.
        assert (await client.get("/api/me", headers=bearer(fresh))).status_code == 200
        down = await client.get("/api/data", headers=bearer(fresh))
        assert down.status_code == 503 and down.headers["retry-after"].isdigit()


async def test_core_api_key_rules(
    tmp_path: Path, database_url: str, server_env: dict[str, str]
) -> None:
    with ServeProcess(tmp_path, env=server_env) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            body = {"accessToken": "x", "checkDatabase": False}
            no_key = await client.post("/recipe/session/verify", json=body)
            assert (no_key.status_code, no_key.text) == (401, "Invalid API key")
            wrong = await client.post(
                "/recipe/session/verify", json=body, headers={"api-key": "wrong-key-0123456789012"}
            )
            assert wrong.status_code == 401
            as_bearer = await client.post(
                "/recipe/session/verify", json=body, headers=bearer(API_KEY)
            )
            assert as_bearer.json()["status"] == "UNAUTHORISED"
            version = await client.post(
                "/recipe/session/verify",
                json=body,
                headers={"api-key": API_KEY, "cdi-version": "9.9"},
            )
            assert (version.status_code, version.text) == (400, "cdi-version 9.9 not supported")
            garbage = await client.post(
                "/recipe/session/verify", content=b"{", headers={"api-key": API_KEY}
            )
            assert garbage.status_code == 400
            assert (await client.get("/.well-known/jwks.json")).status_code == 200, (
                "JWKS needs no key"
            )


async def test_without_api_keys_the_core_api_is_closed(database_url: str) -> None:
    # Not even loopback clients: behind a reverse proxy on the same host, everyone is loopback.
    app = create_app(load_settings(overrides={"database_url": database_url}))
    async with app.router.lifespan_context(app):
        for client_host in ("127.0.0.1", "203.0.113.7"):
            transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://core") as client:
                response = await client.post("/recipe/session/verify", json={"accessToken": "x"})
                assert (response.status_code, response.text) == (401, "Invalid API key")
                assert (await client.get("/.well-known/jwks.json")).status_code == 200
